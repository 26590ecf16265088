"""The ``newsflow`` command: a thin launcher that parses flags and hands over.

Environment defaults come from ``pipelines.config``; everything below receives explicit
configuration.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from pipelines import __version__

from pipelines.config import DEFAULT_MAX_ARTICLE_BYTES, DEFAULT_PORT, add_bootstrap_flag, add_broker_timeout_flag, \
    add_schema_registry_flag, add_state_dir_flag, apply_kafka_security, positive_count, positive_number, registry_java
from pipelines.io.topics import DLQ_TOPIC, ENRICHED_TOPIC, RAW_TOPIC
from pipelines.pipeline.launch import configure_logging


# ---------------------------------------------------------------- kafka
def cmd_kafka(args) -> int:
    from pipelines.io import broker
    from pipelines.io.topics import CONTRACT_TOPICS, TopicSettings, ensure_topics

    cfg = broker.BrokerConfig(state_dir=args.state_dir, port=args.port)
    if args.action == "fetch":
        print(f"kafka: jars in {broker.resolve_jars(cfg)}")
        return 0
    if args.action == "up":
        if args.secure:
            cfg = broker.secure_config(cfg)
        bootstrap = broker.up(cfg)
        created = ensure_topics(bootstrap, CONTRACT_TOPICS,
                                settings=TopicSettings(partitions=args.partitions,
                                                       retention_ms=int(args.retention_hours * 3600 * 1000)),
                                security=broker.running_config(cfg).admin)
        if created:
            print(f"kafka: created topics {', '.join(created)}")
        if args.secure:
            client_file = broker.add_client_user(cfg, args.user)
            print(f"kafka: SASL_SSL with SCRAM-SHA-512 user {args.user}, ACLs on; client settings in {client_file}\n"
                  f"  pass them with --kafka-config {client_file} --bootstrap-servers {bootstrap}\n"
                  f"  or: export NEWSFLOW_KAFKA_CONFIG={client_file} NEWSFLOW_BOOTSTRAP_SERVERS={bootstrap}")
        return 0
    if args.action == "down":
        broker.down(cfg)
        return 0
    info = broker.status(cfg)
    if args.json:
        print(json.dumps(info))
    else:
        print(broker.main_status_line(info))
    return 0 if info["running"] else 3


# ---------------------------------------------------------------- publish / consume
def cmd_publish(args) -> int:
    from pipelines.io.archives import CsvMapping, check_inputs, expand_inputs
    from pipelines.io.kafka_client import make_producer
    from pipelines.io.publish import publish_files
    from pipelines.io.retry import BrokerOutage, BrokerWatch, give_up, producer_waits
    from pipelines.io.topics import ensure_topics

    # Inputs first: a missing file is the user's problem to fix, whatever the broker does.
    mapping = CsvMapping.parse(args.csv_columns)
    files = expand_inputs(args.files)
    check_inputs(files, mapping)
    ensure_topics(args.bootstrap_servers, [args.topic])
    # A broker that goes away meanwhile is waited for: the producer retries, the watch says so.
    producer = make_producer(args.bootstrap_servers, **producer_waits(args.broker_timeout_seconds))
    outage = BrokerOutage(args.bootstrap_servers, args.broker_timeout_seconds,
                          lambda line: print(f"newsflow publish: {line}", file=sys.stderr, flush=True))
    try:
        with BrokerWatch(outage, on_gone=lambda message: give_up(message, "newsflow publish: ")):
            report = publish_files(producer, args.topic, files, mapping=mapping,
                                   max_bytes=args.max_article_bytes, progress=not args.quiet)
    finally:
        producer.close()
    print(report.line())
    return 0


def cmd_registry(args) -> int:
    from pipelines.io import registry_server as rs

    home = rs.RegistryHome(args.state_dir)
    try:
        if args.action == "fetch":
            print(rs.fetch(home).parent)
        elif args.action == "up":
            java = rs.find_java(registry_java())  # before a 160 MB download
            rs.fetch(home)
            print("newsflow registry: starting (a minute or two on a busy machine)…", file=sys.stderr, flush=True)
            print(rs.up(home, java, args.port))
        elif args.action == "down":
            print("stopped" if rs.down(home) else "no registry was running", file=sys.stderr)
        else:
            state = rs.read_state(home)
            if not (state and rs.is_ready(state["url"])):
                print("no registry is running", file=sys.stderr)
                return 1
            print(state["url"])
    except rs.RegistryError as exc:
        print(f"newsflow registry: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_consume(args) -> int:
    from pipelines.io.consume import DEAD_LETTER_KIND, ENRICHED_KIND, consume_topic, count_avro_dir, read_avro_dir

    stats = []
    if args.avro:
        counts = count_avro_dir(args.avro)  # also the check that the folder exists, before any output
        kind = DEAD_LETTER_KIND if args.dead_letters else ENRICHED_KIND
        records = read_avro_dir(args.avro, kind, dedup_window=args.dedup_window)
        if args.max is not None:
            records = (r for i, r in enumerate(records) if i < args.max)
    else:
        if args.dead_letters:
            raise ValueError(f"--dead-letters goes with --avro DIR; for the topic use --topic {DLQ_TOPIC}")
        from pipelines.io.kafka_client import check_broker
        if args.topic not in check_broker(args.bootstrap_servers, topics=[args.topic]):
            # Not an error (a run may be about to create it), but "consumed 0" alone reads like an empty topic.
            print(f"consume: no topic {args.topic} at {args.bootstrap_servers} (yet); waiting {args.timeout:g} s "
                  f"for records", file=sys.stderr)
        if args.schema_registry:
            from pipelines.schema_registry import check_registry
            check_registry(args.schema_registry)
        records = consume_topic(args.bootstrap_servers, args.topic, from_beginning=args.from_beginning,
                                max_messages=args.max, timeout_s=args.timeout, group=args.group,
                                isolation_level=args.isolation_level, dedup_window=args.dedup_window,
                                stats_out=stats, schema_registry=args.schema_registry)
    count = 0
    for record in records:
        print(json.dumps(record, ensure_ascii=False), flush=True)
        count += 1
    if args.avro:
        shown = "dead letter(s)" if args.dead_letters else "enriched record(s)"
        print(f"consumed {count} {shown} from {args.avro}: {counts[ENRICHED_KIND]} enriched, "
              f"{counts[DEAD_LETTER_KIND]} dead-lettered there"
              + ("" if args.dead_letters or not counts[DEAD_LETTER_KIND] else "; --dead-letters shows those"),
              file=sys.stderr)
    else:
        repeats = stats[0].duplicates if stats else 0
        print(f"consumed {count} record(s)" + (f", {repeats} repeated id(s) dropped" if repeats else ""),
              file=sys.stderr)
    return 0


# ---------------------------------------------------------------- delegated commands
def _delegate(module: str, argv: list[str]) -> int:
    return importlib.import_module(module).main(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsflow", description="Streaming news enrichment: entities and PLOVER events, on Beam and Kafka.")
    parser.add_argument("--version", action="version", version=f"newsflow {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the log lines of Beam, Kafka and newsflow's libraries (default: newsflow's own lines)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    kafka = sub.add_parser("kafka", help="manage a local single-node Kafka broker (KRaft) on 127.0.0.1")
    kafka.add_argument("action", choices=("up", "down", "status", "fetch"),
                       help="up: start (no-op if running); down: stop what up started; status; fetch: only download the jars")
    kafka.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"broker port (controller: port+1; default {DEFAULT_PORT})")
    kafka.add_argument("--partitions", type=int, default=3, help="partitions of the contract topics created by up")
    kafka.add_argument("--retention-hours", type=float, default=168.0, help="retention of topics created by up")
    kafka.add_argument("--json", action="store_true", help="status as JSON")
    kafka.add_argument("--secure", action="store_true",
                       help="up: a locked-down broker (SASL_SSL with a local CA, SCRAM-SHA-512 and PLAIN, ACLs); "
                            "prints the client settings file to pass with --kafka-config")
    kafka.add_argument("--user", default="newsflow", help="with --secure: the SCRAM user to create (default newsflow)")
    add_state_dir_flag(kafka)
    kafka.set_defaults(func=cmd_kafka)

    publish = sub.add_parser("publish", help=f"publish raw articles (JSONL, CSV, folders of .txt) to {RAW_TOPIC}")
    publish.add_argument("files", nargs="+", metavar="FILE", help="files, folders or globs")
    publish.add_argument("--topic", default=RAW_TOPIC, metavar="T", help=f"topic to publish to (default {RAW_TOPIC})")
    publish.add_argument("--csv-columns", action="append", metavar="FIELD=COLUMN[,...]",
                         help="map CSV columns to article fields, e.g. body=text,published_at=publish_date")
    publish.add_argument("--max-article-bytes", type=int, default=DEFAULT_MAX_ARTICLE_BYTES, metavar="N",
                         help=f"articles larger than N bytes are rejected as TooLarge (default {DEFAULT_MAX_ARTICLE_BYTES:,})")
    publish.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    add_bootstrap_flag(publish)
    add_broker_timeout_flag(publish)
    publish.set_defaults(func=cmd_publish)

    consume = sub.add_parser("consume", help=f"read a topic (default {ENRICHED_TOPIC}) and print JSON lines")
    consume.add_argument("--topic", default=ENRICHED_TOPIC, metavar="T",
                         help=f"topic to read (default {ENRICHED_TOPIC}); its Avro or JSON values are decoded")
    consume.add_argument("--from-beginning", action="store_true",
                         help="start at the earliest offset (default: only records that arrive from now on)")
    consume.add_argument("--max", type=positive_count, default=None, metavar="N", help="stop after N records")
    consume.add_argument("--timeout", type=positive_number, default=10.0, metavar="S",
                         help="stop after S seconds without a new record (default 10)")
    consume.add_argument("--group", default=None, help="consumer group (commits the offsets of what was printed)")
    consume.add_argument("--isolation-level", choices=("read_committed", "read_uncommitted"), default="read_committed",
                         help="read_committed (default): never show records of aborted transactions")
    consume.add_argument("--dedup-window", type=int, default=100_000, metavar="N",
                         help="drop a record whose id was among the last N read (at-least-once repeats; 0: keep all)")
    consume.add_argument("--avro", metavar="DIR", default=None,
                         help="read the Avro files under DIR (run or replay output) instead of Kafka: enriched records")
    consume.add_argument("--dead-letters", action="store_true",
                         help="with --avro: print the dead letters (a replay's DIR/dlq/) instead of the enriched records")
    add_schema_registry_flag(consume, writes=False)
    add_bootstrap_flag(consume)
    consume.set_defaults(func=cmd_consume)

    registry = sub.add_parser("registry", help="manage a local schema registry (Apicurio, Confluent-compatible API) "
                                               "on 127.0.0.1 for --schema-registry")
    registry.add_argument("action", choices=("fetch", "up", "down", "status"),
                          help="fetch: download it from Maven Central (about 160 MB, once); up: start it in the "
                               "background and print its URL; down: stop it; status: print its URL if running")
    registry.add_argument("--port", type=int, default=None, help="with up: this port (default: a free one)")
    add_state_dir_flag(registry, "schema registry")
    registry.set_defaults(func=cmd_registry)

    for name, module, help_text in (
            ("run", "pipelines.pipeline.stream", f"the streaming pipeline: {RAW_TOPIC} -> enrich -> {ENRICHED_TOPIC} + Avro + DLQ"),
            ("replay", "pipelines.pipeline.replay", "the same enrichment as a bounded batch over archives or a topic range"),
            ("demo", "pipelines.pipeline.demo", "the main job on the embedded default: broker, seeds, pipeline, summary"),
            ("feeds", "pipelines.io.feeds", "poll RSS/Atom feeds and publish new articles"),
            ("export", "pipelines.export", "enriched records -> event/entity/article tables (Parquet, CSV) for analysts"),
            ("health", "pipelines.health", "is a running `newsflow run --health-file PATH` healthy? exit 0/1, for probes"),
            ("report", "pipelines.report.cli", "a self-contained HTML page of charts over an Avro folder or a topic range"),
            ("eval", None, "evaluate NER (eval ner) or the event coder (eval events)")):
        p = sub.add_parser(name, help=help_text, add_help=False)
        p.set_defaults(delegate=module)
    return parser


EVAL_MODULES = {"ner": "pipelines.eval.ner", "events": "pipelines.eval.events"}


def eval_help() -> str:
    """``newsflow eval --help``: both evaluations with every flag."""
    parts = ["usage: newsflow eval {ner,events} [flags]\n\nEvaluate the NLP steps against gold data:\n"
             "  ner     NER precision/recall/F1 per type on a CoNLL-2003 file\n"
             "  events  the PLOVER event coder on a gold JSONL file (docs/eval-events.md)\n"]
    for module in EVAL_MODULES.values():
        parts.append(importlib.import_module(module).build_parser().format_help())
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    # kafka-python logs every refused connection at ERROR; our own errors say it in one line.
    configure_logging("DEBUG" if args.verbose else None)
    if args.command is None:
        parser.print_help()
        return 2
    from kafka.errors import KafkaError

    from pipelines.io.errors import BrokerError
    from pipelines.io.kafka_client import access_denied

    try:
        if hasattr(args, "delegate"):
            index = argv.index(args.command)
            tail = argv[index + 1:]
            if args.command == "eval":
                if not tail or tail[0] not in EVAL_MODULES:
                    asked = bool(tail) and tail[0] in ("-h", "--help")
                    print(eval_help(), file=sys.stdout if asked else sys.stderr)
                    return 0 if asked else 2
                return _delegate(EVAL_MODULES[tail[0]], tail[1:])
            return _delegate(args.delegate, tail)
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        if hasattr(args, "kafka_config"):
            apply_kafka_security(args)
        return args.func(args)
    except (BrokerError, FileNotFoundError, ValueError) as exc:
        print(f"newsflow {args.command}: {exc}", file=sys.stderr)
        return getattr(exc, "exit_status", 1)  # 2 for a refused flag value, as argparse's usage errors
    except KafkaError as exc:
        # Refused by a secure cluster (no ACL, ...) after connecting: one line naming the cause.
        denied = access_denied(exc, getattr(args, "bootstrap_servers", None))
        if denied is None:
            raise
        print(f"newsflow {args.command}: {denied}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"newsflow {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``): not an error, and nothing more to say on that pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
