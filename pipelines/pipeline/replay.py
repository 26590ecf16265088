"""``newsflow replay``: the stream's enrichment as a bounded batch over archives or a topic range.

Inputs: JSONL, CSV (``--csv-columns FIELD=COLUMN``), Avro container files (raw articles, or
enriched ones for re-enrichment with newer models), folders of .txt; or ``--from-topic`` with
start/end offsets or times. The very same ``EnrichArticles`` composite runs here.

Output is deterministic: one Avro file per publication date (``DIR/dt=YYYY-MM-DD/part-00000.avro``),
records sorted by id, sync markers derived from the file name; the only field that changes
from run to run is ``provenance.processed_at``, and ``--processed-at`` fixes that too. Bad
records go to ``DIR/dlq/`` as DeadLetter Avro records with their reasons.

By default the DirectRunner runs in multi-process mode on every core; any Beam runner can be
chosen with Beam's own flags. Nothing assumes the workers share the launcher's disk: the files
are written through Beam's ``FileSystems`` (``--avro-dir`` may be a ``gs://``, ``s3://`` or
``hdfs://`` URL), the closing summary is read from the runner's metrics of what was written,
and the progress bar, fed by files the workers write, is shown on the embedded runner only.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from functools import partial

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.article import parse_published_at
from pipelines.config import METRICS_NAMESPACE, add_bootstrap_flag, add_log_flags, add_schema_registry_flag, \
    apply_kafka_security
from pipelines.io.archives import CsvMapping, check_inputs, expand_inputs, read_file
from pipelines.io.avro_files import deterministic_sync_marker, partition_of, write_file_atomically
from pipelines.io.kafka_source import KafkaReadConfig, ReadFromKafka
from pipelines.io.topic_range import parse_offsets, time_ms
from pipelines.io.delivery import DeliverFn, DeliveryConfig, ENRICHED
from pipelines.pipeline.enrich import DEAD_LETTER, EnrichArticles, EnrichConfig, from_archive_row, from_kafka_record
from pipelines.pipeline.launch import account_line, bound_runner_metrics, check_beam_flags, configure_logging, \
    counter_values, embedded_runner, harness_log_flags, output_location, private_tempdir, worker_noise_filtered
from pipelines.pipeline.options import add_enrich_flags, check_enrich_flags, story_config
from pipelines.pipeline.stories import AssignStoriesInOrder
from pipelines.pipeline.progress import ProgressWatcher, ReportProgressFn


def read_archive(path: str, mapping: CsvMapping):
    """Every row of one archive file as a RawInput (bad rows included, with their error)."""
    for row in read_file(path, mapping):
        yield from_archive_row(row)


def by_date(record: dict) -> tuple[str, dict]:
    return partition_of(record, by_hour=False), record


def record_order(record: dict):
    return record["id"], record.get("body") or ""


def dead_letter_order(record: dict):
    return record.get("input_path") or "", record.get("topic") or "", record.get("partition") or 0, \
        record.get("offset") or 0, record["error_class"]


# Counters of what the files hold, counted where they are written: the closing summary.
WRITTEN_ENRICHED = "written_enriched"
WRITTEN_DEAD_PREFIX = "written_dead_"
WRITTEN_ENTITIES = "written_entities"
WRITTEN_EVENT_PREFIX = "written_event_"


def write_partition(item, root: str, schema_name: str, order):
    """One deterministic file per partition key: sorted records, name-derived sync marker."""
    key, records = item
    records = sorted(records, key=order)
    relative = f"{key}/part-00000.avro"
    path = FileSystems.join(root, *relative.split("/"))
    write_file_atomically(path, schema_name, records, sync_marker=deterministic_sync_marker(relative))
    count_written(schema_name, records)
    yield path, len(records)


def count_written(schema_name: str, records: list[dict]) -> None:
    """Count a written file's records (by reason for dead letters, with entities and events for the enriched)."""
    counts = Counter()
    for record in records:
        if schema_name == "dead_letter":
            counts[WRITTEN_DEAD_PREFIX + record["error_class"]] += 1
        else:
            counts[WRITTEN_ENRICHED] += 1
            counts[WRITTEN_ENTITIES] += len(record["entities"])
            counts.update(WRITTEN_EVENT_PREFIX + event["event_type"] for event in record["events"])
    for name, value in counts.items():
        Metrics.counter(METRICS_NAMESPACE, name).inc(value)


def build_replay(options: PipelineOptions, args, enrich_cfg: EnrichConfig, progress_dir: str | None) -> beam.Pipeline:
    """The bounded graph: inputs -> EnrichArticles -> per-date Avro files (+ DLQ files, + topic)."""
    pipeline = beam.Pipeline(options=options)
    if args.from_topic:
        read_cfg = KafkaReadConfig(bootstrap_servers=args.bootstrap_servers, group_id=args.group_id, bounded=True,
                                   start_offsets=args.start_offsets, end_offsets=args.end_offsets,
                                   start_time_ms=args.start_time_ms, end_time_ms=args.end_time_ms,
                                   start_from="earliest", whole_range=True)
        raw = (pipeline
               | "ReadTopicRange" >> ReadFromKafka([args.from_topic], read_cfg)
               | "AsRawInput" >> beam.Map(from_kafka_record)
               # A partition is read in one call: spread its records over the workers.
               | "Spread" >> beam.Reshuffle())
    else:
        mapping = CsvMapping.parse(args.csv_columns)
        raw = (pipeline
               | "ListFiles" >> beam.Create(args.files)
               | "ReadRows" >> beam.FlatMap(read_archive, mapping)
               | "Spread" >> beam.Reshuffle())
    outputs = raw | "Enrich" >> EnrichArticles(enrich_cfg)
    if not args.no_stories:
        outputs = dict(outputs, enriched=outputs["enriched"] | "AssignStories" >> AssignStoriesInOrder(
            story_config(args)))
    _ = (outputs["enriched"]
         | "KeyByDate" >> beam.Map(by_date)
         | "GroupByDate" >> beam.GroupByKey()
         | "WriteEnriched" >> beam.FlatMap(write_partition, args.avro_dir, "enriched", record_order))
    _ = (outputs[DEAD_LETTER]
         | "KeyDlq" >> beam.Map(lambda record: ("dlq", record))
         | "GroupDlq" >> beam.GroupByKey()
         | "WriteDlq" >> beam.FlatMap(write_partition, args.avro_dir, "dead_letter", dead_letter_order))
    if progress_dir:
        _ = outputs["enriched"] | "CountEnriched" >> beam.ParDo(ReportProgressFn(progress_dir, "enriched"))
        _ = outputs[DEAD_LETTER] | "CountDead" >> beam.ParDo(ReportProgressFn(progress_dir, "dead"))
    if args.output_topic:
        delivery = DeliveryConfig(bootstrap_servers=args.bootstrap_servers, output_topic=args.output_topic,
                                  dlq_topic=None, schema_registry=args.schema_registry)
        from apache_beam.utils.shared import Shared

        _ = outputs["enriched"] | "PublishEnriched" >> beam.ParDo(DeliverFn(delivery, ENRICHED, Shared()))
    return pipeline


def written_summary(result) -> dict | None:
    """What the files hold, from the runner's metrics (a retried bundle counts once); None if it reports none."""
    values = counter_values(result)
    if values is None:
        return None

    def by_prefix(prefix: str) -> Counter:
        return Counter({name[len(prefix):]: n for name, n in values.items() if name.startswith(prefix) and n})

    return {"enriched": values[WRITTEN_ENRICHED], "dead": by_prefix(WRITTEN_DEAD_PREFIX),
            "entities": values[WRITTEN_ENTITIES], "events": by_prefix(WRITTEN_EVENT_PREFIX)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow replay", description=__doc__.strip().splitlines()[0].replace("``", ""),
                                     epilog="Beam's own flags pass through (e.g. --runner, --direct_num_workers); "
                                            "a flag that neither newsflow nor Beam knows is refused.")
    parser.add_argument("--input", nargs="+", action="extend", default=[], metavar="GLOB",
                        help="archive files, folders or globs (JSONL, CSV, Avro, .txt)")
    parser.add_argument("--avro-dir", required=True, help="output folder (Avro per publication date, dlq/ for bad records)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing .avro files under --avro-dir")
    parser.add_argument("--csv-columns", action="append", metavar="FIELD=COLUMN[,...]",
                        help="map CSV columns to article fields, e.g. body=text,published_at=publish_date")
    parser.add_argument("--from-topic", default=None, help="replay a topic range instead of files")
    parser.add_argument("--start-offsets", default=None, metavar="P:O[,...]", help="first offset per partition")
    parser.add_argument("--end-offsets", default=None, metavar="P:O[,...]", help="end offset (exclusive) per partition")
    parser.add_argument("--start-time", default=None, help="ISO-8601: first offset at or after this time")
    parser.add_argument("--end-time", default=None, help="ISO-8601: stop at the first offset at or after this time")
    parser.add_argument("--group-id", default="newsflow-replay", help="group used to look up offsets (never committed)")
    parser.add_argument("--output-topic", default=None, help="also publish enriched records to this topic")
    add_schema_registry_flag(parser, writes=True)
    add_bootstrap_flag(parser)
    parser.add_argument("--processed-at", default=None, help="ISO-8601 provenance time, for byte-identical reruns")
    add_enrich_flags(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress output")
    add_log_flags(parser)
    return parser


def parse_args(argv: list[str]):
    parser = build_parser()
    args, beam_args = parser.parse_known_args(argv)
    if bool(args.input) == bool(args.from_topic):
        parser.error("give either --input GLOB... or --from-topic TOPIC")
    check_beam_flags(beam_args)
    args.log_level = args.log_level or ("INFO" if args.verbose else None)
    args.start_offsets, args.end_offsets = parse_offsets(args.start_offsets), parse_offsets(args.end_offsets)
    args.start_time_ms, args.end_time_ms = time_ms(args.start_time), time_ms(args.end_time)
    return args, beam_args


def check_writable(folder: str) -> None:
    """Fail before the run, in one line, when the output folder (local or a Beam file system URL) cannot be written."""
    probe = FileSystems.join(folder, f".newsflow-check-{uuid.uuid4().hex[:8]}")
    try:
        FileSystems.create(probe).close()
        FileSystems.delete([probe])
    except Exception as exc:  # noqa: BLE001 - OSError locally; each file system has its own errors
        raise ValueError(f"cannot write to --avro-dir {folder}: {getattr(exc, 'strerror', None) or exc}") from exc


def existing_avro_files(folder: str) -> list[str]:
    """The ``.avro`` files anywhere under ``folder`` (none if it does not exist)."""
    (match,) = FileSystems.match([FileSystems.join(folder, "**.avro")])
    return [metadata.path for metadata in match.metadata_list]


def default_beam_args(beam_args: list[str]) -> list[str]:
    """Multi-process DirectRunner on every core unless the user chose otherwise."""
    out = list(beam_args)
    chose_runner = any(a.startswith("--runner") for a in out)
    if not chose_runner and not any(a.startswith("--direct_running_mode") for a in out):
        out.append("--direct_running_mode=multi_processing")
    if not chose_runner and not any(a.startswith("--direct_num_workers") for a in out):
        out.append(f"--direct_num_workers={os.cpu_count() or 1}")
    return out


def count_inputs(files: list[str], mapping: CsvMapping) -> int:
    return sum(1 for path in files for _ in read_file(path, mapping))


def main(argv: list[str] | None = None) -> int:
    args, beam_args = parse_args(list(sys.argv[1:] if argv is None else argv))
    configure_logging(args.log_level)
    apply_kafka_security(args)
    bound_runner_metrics()  # a long replay's metrics would otherwise grow with every bundle
    out = args.avro_dir = output_location(args.avro_dir)
    existing = existing_avro_files(out)
    if existing and not args.overwrite:
        print(f"newsflow replay: {out} already holds {len(existing)} Avro file(s); use --overwrite or another folder",
              file=sys.stderr)
        return 1
    total = None
    if args.input:
        # Inputs and the output folder first: their problems are the user's to fix, whatever the broker does.
        mapping = CsvMapping.parse(args.csv_columns)
        args.files = expand_inputs(args.input)
        check_inputs(args.files, mapping)
    check_writable(out)
    check_enrich_flags(args)
    if not args.no_stories:
        story_config(args)  # a story flag out of range: one line, before any work
    if args.input:
        total = count_inputs(args.files, mapping)
        print(f"replay: {len(args.files)} file(s), {total} record(s) -> {out}", file=sys.stderr)
    else:
        from pipelines.io.kafka_client import check_broker
        if args.from_topic not in check_broker(args.bootstrap_servers, topics=[args.from_topic]):
            # Else every worker fails on the missing partitions, with a traceback.
            raise ValueError(f"no topic {args.from_topic} at {args.bootstrap_servers} (replay reads an existing topic)")
        print(f"replay: topic {args.from_topic} on {args.bootstrap_servers} -> {out}", file=sys.stderr)
    if args.output_topic:
        from pipelines.io.topics import ensure_topics
        ensure_topics(args.bootstrap_servers, [args.output_topic])
        if args.schema_registry:
            from pipelines.schema_registry import check_registry
            check_registry(args.schema_registry)
    if existing:
        FileSystems.delete(existing)
    processed_at = parse_published_at(args.processed_at) if args.processed_at else datetime.now(timezone.utc)
    enrich_cfg = EnrichConfig(max_article_bytes=args.max_article_bytes, non_english=args.non_english,
                              batch_size=args.batch_size, spacy_model=args.spacy_model,
                              record_timeout_seconds=args.record_timeout_seconds,
                              clock=partial(_fixed, processed_at))
    options = PipelineOptions(harness_log_flags(default_beam_args(beam_args), args.log_level))
    # The progress files are written by the workers and read here: only where they share this disk.
    progress = not args.no_progress and embedded_runner(options)
    started = time.monotonic()
    with private_tempdir("newsflow-replay-") as scratch, worker_noise_filtered(args.log_level is None):
        progress_dir = os.path.join(scratch, "progress") if progress else None
        if progress_dir:
            os.mkdir(progress_dir)
        with ProgressWatcher(progress_dir, total, enabled=progress):
            result = build_replay(options, args, enrich_cfg, progress_dir).run()
            result.wait_until_finish()
    wall = time.monotonic() - started
    summary = written_summary(result)
    if summary is None:
        print(f"replay: done, wall time {wall:.1f}s; this runner reports no counts (the files are under {out})")
        return 0
    read = summary["enriched"] + sum(summary["dead"].values())
    events = ", ".join(f"{k} {v}" for k, v in _by_count(summary["events"])) or "none"
    print(f"replay: {account_line(summary['enriched'], summary['dead'])}; "
          f"{summary['entities']} entities; events: {events}; wall time {wall:.1f}s "
          f"({read / max(wall, 1e-9):.1f} articles/s)")
    if total is not None and read != total:
        print(f"newsflow replay: {total} input record(s) but {read} accounted for", file=sys.stderr)
        return 1
    return 0


def _by_count(counter: Counter):
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def _fixed(moment: datetime) -> datetime:
    return moment
