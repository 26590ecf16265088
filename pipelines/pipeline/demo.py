"""``newsflow demo``: the main job on the embedded default, end to end.

Starts the local broker if none answers, creates the topics, publishes ``seeds/``, runs the
enrichment over exactly the offsets it published, writes Avro under ``./out``, prints a
readable summary (entities and events per article), and stops what it started.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.config import DEFAULT_PORT, add_log_flags, add_state_dir_flag, default_bootstrap
from pipelines.io import broker
from pipelines.io.kafka_source import KafkaReadConfig, reset_stop
from pipelines.resources import resource_path
from pipelines.pipeline.launch import configure_logging, private_tempdir
from pipelines.pipeline.options import DEFAULT_AVRO_DIR, add_topic_flags

def seeds_path() -> Path:
    """``./seeds/articles.jsonl`` when the demo runs in a folder that has one, else the shipped seeds."""
    local = Path.cwd() / "seeds" / "articles.jsonl"
    return local if local.exists() else resource_path("seeds/articles.jsonl")


def partition_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Current end offset of every partition of ``topic``."""
    from kafka import TopicPartition

    from pipelines.io.kafka_client import make_consumer, topic_partitions

    tps = [TopicPartition(topic, p) for p in topic_partitions(bootstrap, topic)]
    consumer = make_consumer(bootstrap)
    try:
        return {tp.partition: offset for tp, offset in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


LEGEND = ("legend: names are canonical, (XXX) an ISO 3166 alpha-3 country; an event line reads "
          "TYPE/mode (CAMEO root code, p=confidence 0-1): source actor [country sector] -> target actor "
          "[country sector] in place on date; '-' unknown, '?' no actor found. Sectors: GOV government, "
          "MIL military, COP police, REB rebels, OPP opposition, CVL civilians, ...")


def summarize(records: list[dict], dead: int, out=sys.stdout) -> None:
    """Entities and events per article, in words a person reads."""
    print(LEGEND, file=out)
    for record in sorted(records, key=lambda r: r["id"]):
        print(f"\n== {record.get('title') or record['id']}  [{record['id']}]", file=out)
        by_label = defaultdict(list)
        for entity in record["entities"]:
            name = " ".join((entity.get("canonical") or entity["text"]).split())
            shown = name + (f" ({entity['country']})" if entity.get("country") else "")
            if entity["label"] in ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC") and shown not in by_label[entity["label"]]:
                by_label[entity["label"]].append(shown)
        for label in ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"):
            if by_label[label]:
                print(f"   {label:<6} {', '.join(by_label[label][:8])}", file=out)
        print(f"   primary event: {record.get('primary_event_type') or '- (no political event)'}", file=out)
        for event in record["events"][:5]:
            def actor(a):
                return "?" if not a else f"{a['text']} [{a.get('country') or '-'} {a.get('sector') or '-'}]"
            print(f"   event  {event['event_type']}{'/' + event['mode'] if event.get('mode') else ''} "
                  f"(CAMEO {event.get('cameo_root')}, p={event['confidence']:.2f}): "
                  f"{actor(event.get('source_actor'))} -> {actor(event.get('target_actor'))}"
                  f"{' in ' + event['location'] if event.get('location') else ''}"
                  f"{' on ' + event['date'] if event.get('date') else ''}", file=out)
    entities = sum(len(r["entities"]) for r in records)
    events = sum(len(r["events"]) for r in records)
    print(f"\ndemo: {len(records)} enriched, {dead} dead-lettered, {entities} entities, {events} events", file=out)


def run_demo(args) -> int:
    from pipelines.io.consume import read_avro_dir
    from pipelines.io.kafka_client import make_producer
    from pipelines.io.publish import publish_files
    from pipelines.io.topics import ensure_topics
    from pipelines.pipeline.stream import build_pipeline, log_line

    started_broker = None
    bootstrap = args.bootstrap_servers
    if not broker.broker_answers(bootstrap, timeout_s=3.0):
        cfg = broker.BrokerConfig(state_dir=args.state_dir, port=args.port)
        log_line(f"demo: no broker at {bootstrap}; starting a local one")
        bootstrap = broker.up(cfg, log=log_line)
        started_broker = cfg
    try:
        ensure_topics(bootstrap, [args.input_topic, args.output_topic, args.dlq_topic])
        before = partition_offsets(bootstrap, args.input_topic)
        producer = make_producer(bootstrap)
        try:
            report = publish_files(producer, args.input_topic, [str(p) for p in args.seeds], progress=False)
        finally:
            producer.close()
        log_line(f"demo: {report.line()} to {args.input_topic}")
        after = partition_offsets(bootstrap, args.input_topic)
        out_dir = Path(args.avro_dir)
        run_dir = out_dir / time.strftime("run-%Y%m%dT%H%M%S")
        read_cfg = KafkaReadConfig(bootstrap_servers=bootstrap, group_id="newsflow-demo",
                                   start_offsets=tuple(before.items()), end_offsets=tuple(after.items()),
                                   bounded=True)
        options = PipelineOptions([f"--bootstrap-servers={bootstrap}", f"--input-topic={args.input_topic}",
                                   f"--output-topic={args.output_topic}", f"--dlq-topic={args.dlq_topic}",
                                   f"--avro-dir={run_dir}"])
        reset_stop()
        t0 = time.monotonic()
        log_line(f"demo: enriching {sum(after.values()) - sum(before.values())} article(s) with Beam "
                 f"(first run loads spaCy and the event model) ...")
        build_pipeline(options, read_cfg=read_cfg, commit=False).run().wait_until_finish()
        elapsed = time.monotonic() - t0
        records = list(read_avro_dir(str(run_dir)))
        summarize(records, report.published - len(records))
        print(f"demo: pipeline took {elapsed:.1f}s; Avro files under {run_dir}; "
              f"enriched records also on topic {args.output_topic}")
        return 0 if len(records) == report.published else 1
    finally:
        if started_broker:
            broker.down(started_broker, log=log_line)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow demo", description=__doc__.strip().splitlines()[0].replace("``", ""))
    parser.add_argument("--bootstrap-servers", default=default_bootstrap(f"127.0.0.1:{DEFAULT_PORT}"), metavar="HOST:PORT",
                        help="broker to use; if none answers, one is started on 127.0.0.1:--port and stopped "
                             f"afterwards (default: $NEWSFLOW_BOOTSTRAP_SERVERS or 127.0.0.1:{DEFAULT_PORT})")
    add_state_dir_flag(parser)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port of the broker the demo starts if none answers")
    add_topic_flags(parser)
    parser.add_argument("--avro-dir", default=DEFAULT_AVRO_DIR, metavar="DIR",
                        help="Avro files go under DIR/run-TIMESTAMP/ (default ./out)")
    parser.add_argument("--seeds", nargs="+", type=Path, default=None, metavar="FILE",
                        help="articles to publish (default seeds/articles.jsonl)")
    add_log_flags(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level or ("INFO" if args.verbose else None))
    args.seeds = args.seeds or [seeds_path()]
    with private_tempdir("newsflow-demo-"):
        return run_demo(args)
