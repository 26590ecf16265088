"""``newsflow replay``: the stream's enrichment as a bounded batch over archives or a topic range.

Inputs: JSONL, CSV (``--csv-columns FIELD=COLUMN``), Avro container files (raw articles, or
enriched ones for re-enrichment with newer models), folders of .txt; or ``--from-topic`` with
start/end offsets or times. The very same ``EnrichArticles`` composite runs here.

Output is deterministic: one Avro file per publication date (``DIR/dt=YYYY-MM-DD/part-00000.avro``),
records sorted by id, sync markers derived from the file name; the only field that changes
from run to run is ``provenance.processed_at``, and ``--processed-at`` fixes that too. Bad
records go to ``DIR/dlq/`` as DeadLetter Avro records with their reasons.

By default the DirectRunner runs in multi-process mode on every core; any Beam runner can be
chosen with Beam's own flags.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.article import parse_published_at
from pipelines.config import add_bootstrap_flag, add_log_flags
from pipelines.io.archives import CsvMapping, check_inputs, expand_inputs, read_file
from pipelines.io.avro_files import deterministic_sync_marker, partition_of, write_file_atomically
from pipelines.io.kafka_source import KafkaReadConfig, ReadFromKafka
from pipelines.io.delivery import DeliverFn, DeliveryConfig, ENRICHED
from pipelines.pipeline.enrich import DEAD_LETTER, EnrichArticles, EnrichConfig, from_archive_row, from_kafka_record
from pipelines.pipeline.launch import account_line, check_beam_flags, configure_logging, harness_log_flags, \
    private_tempdir, worker_noise_filtered
from pipelines.pipeline.options import add_enrich_flags
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


def write_partition(item, root: str, schema_name: str, order):
    """One deterministic file per partition key: sorted records, name-derived sync marker."""
    key, records = item
    records = sorted(records, key=order)
    relative = f"{key}/part-00000.avro"
    path = FileSystems.join(root, *relative.split("/"))
    write_file_atomically(path, schema_name, records, sync_marker=deterministic_sync_marker(relative))
    yield path, len(records)


def build_replay(options: PipelineOptions, args, enrich_cfg: EnrichConfig, progress_dir: str | None) -> beam.Pipeline:
    """The bounded graph: inputs -> EnrichArticles -> per-date Avro files (+ DLQ files, + topic)."""
    pipeline = beam.Pipeline(options=options)
    if args.from_topic:
        read_cfg = KafkaReadConfig(bootstrap_servers=args.bootstrap_servers, group_id=args.group_id, bounded=True,
                                   start_offsets=args.start_offsets, end_offsets=args.end_offsets,
                                   start_time_ms=args.start_time_ms, end_time_ms=args.end_time_ms,
                                   start_from="earliest")
        raw = (pipeline
               | "ReadTopicRange" >> ReadFromKafka([args.from_topic], read_cfg)
               | "AsRawInput" >> beam.Map(from_kafka_record))
    else:
        mapping = CsvMapping.parse(args.csv_columns)
        raw = (pipeline
               | "ListFiles" >> beam.Create(args.files)
               | "ReadRows" >> beam.FlatMap(read_archive, mapping)
               | "Spread" >> beam.Reshuffle())
    outputs = raw | "Enrich" >> EnrichArticles(enrich_cfg)
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
                                  dlq_topic=None)
        from apache_beam.utils.shared import Shared

        _ = outputs["enriched"] | "PublishEnriched" >> beam.ParDo(DeliverFn(delivery, ENRICHED, Shared()))
    return pipeline


def summarize_output(avro_dir: str) -> dict:
    """Counts read back from the files written: what a user can check independently."""
    from pipelines.io.consume import DEAD_LETTER_KIND, ENRICHED_KIND, read_avro_dir

    enriched = entities = 0
    events = Counter()
    for record in read_avro_dir(avro_dir, ENRICHED_KIND):
        enriched += 1
        entities += len(record["entities"])
        events.update(e["event_type"] for e in record["events"])
    dead = Counter(record["error_class"] for record in read_avro_dir(avro_dir, DEAD_LETTER_KIND))
    return {"enriched": enriched, "dead": dead, "entities": entities, "events": events}


def _offsets(spec: str | None) -> tuple:
    """'5' (every partition) or '0:5,1:7' -> ((partition, offset), ...); '5' needs the partitions later."""
    if not spec:
        return ()
    pairs = []
    for part in spec.split(","):
        partition, sep, offset = part.partition(":")
        if not sep:
            raise ValueError(f"bad offset spec {part!r}: use PARTITION:OFFSET[,...]")
        pairs.append((int(partition), int(offset)))
    return tuple(pairs)


def _time_ms(value: str | None) -> int | None:
    moment = parse_published_at(value) if value else None
    return None if moment is None else int(moment.timestamp() * 1000)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow replay", description=__doc__.strip().splitlines()[0],
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
    args.start_offsets, args.end_offsets = _offsets(args.start_offsets), _offsets(args.end_offsets)
    args.start_time_ms, args.end_time_ms = _time_ms(args.start_time), _time_ms(args.end_time)
    return args, beam_args


def check_writable(folder: Path) -> None:
    """Fail before the run, in one line, when the output folder cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".newsflow-check-"):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write to --avro-dir {folder}: {exc.strerror or exc}") from exc


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
    out = Path(args.avro_dir)
    existing = list(out.rglob("*.avro")) if out.exists() else []
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
    if args.input:
        total = count_inputs(args.files, mapping)
        print(f"replay: {len(args.files)} file(s), {total} record(s) -> {out}", file=sys.stderr)
    else:
        from pipelines.io.kafka_client import check_broker
        check_broker(args.bootstrap_servers)
        print(f"replay: topic {args.from_topic} on {args.bootstrap_servers} -> {out}", file=sys.stderr)
    if args.output_topic:
        from pipelines.io.topics import ensure_topics
        ensure_topics(args.bootstrap_servers, [args.output_topic])
    for path in existing:
        path.unlink()
    processed_at = parse_published_at(args.processed_at) if args.processed_at else datetime.now(timezone.utc)
    enrich_cfg = EnrichConfig(max_article_bytes=args.max_article_bytes, non_english=args.non_english,
                              batch_size=args.batch_size, spacy_model=args.spacy_model,
                              clock=partial(_fixed, processed_at))
    options = PipelineOptions(harness_log_flags(default_beam_args(beam_args), args.log_level))
    started = time.monotonic()
    with private_tempdir("newsflow-replay-") as scratch, worker_noise_filtered(args.log_level is None):
        progress_dir = os.path.join(scratch, "progress")
        os.mkdir(progress_dir)
        with ProgressWatcher(progress_dir, total, enabled=not args.no_progress):
            build_replay(options, args, enrich_cfg, progress_dir).run().wait_until_finish()
    wall = time.monotonic() - started
    summary = summarize_output(str(out))
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
