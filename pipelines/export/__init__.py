"""``newsflow export``: enriched records -> event, entity and article tables (Parquet, CSV) for analysts.

``tables`` flattens records into rows (pure), ``write`` writes the hive-partitioned files; this
module is the command: read (Avro folders or a topic), de-duplicate, count stories, write, report.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from typing import Iterable, Iterator

from pipelines.config import add_bootstrap_flag, add_schema_registry_flag, apply_kafka_security
from pipelines.console import progress_counter
from pipelines.export.tables import ArticleRows, fill_story_counts, newer, rows_of, tables_by_partition
from pipelines.export.write import WriteReport, write_tables


def collect(records: Iterable[dict], rejected: Counter, progress=None) -> tuple[dict[str, ArticleRows], int]:
    """Rows per article id, and the number of records read: a repeated id keeps its later-processed
    record; a record that cannot be flattened is counted in ``rejected`` by reason (and named on
    stderr), never raised."""
    kept: dict[str, ArticleRows] = {}
    read = 0
    for record in records:
        read += 1
        if progress is not None:
            progress.update(1)
        try:
            rows = rows_of(record)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            rejected[type(exc).__name__] += 1
            print(f"export: record {record.get('id')!r} not exported: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        old = kept.get(rows.article_id)
        if old is None or newer(rows, old):
            kept[rows.article_id] = rows
    return kept, read


def export(records: Iterable[dict], out: str, formats: tuple[str, ...] = ("parquet",), total: int | None = None,
           progress: bool = True) -> tuple[WriteReport, Counter]:
    """Write the tables of ``records`` under ``out``; return what was written and the record counts
    (``read``, ``articles`` kept, ``repeats`` merged, and each reason a record was not exported)."""
    rejected: Counter = Counter()
    with progress_counter("export: reading", total=total, unit="record(s)", enabled=progress) as bar:
        kept, read = collect(records, rejected, bar)
    fill_story_counts(kept.values())
    partitions = tables_by_partition(kept.values())
    with progress_counter("export: writing", total=len(partitions), unit="day(s)", enabled=progress) as bar:
        report = write_tables(out, partitions, formats, bar)
    counts = Counter(read=read, articles=len(kept), repeats=read - len(kept) - sum(rejected.values()))
    counts.update({f"rejected:{reason}": n for reason, n in rejected.items()})
    return report, counts


def check_writable(out: str) -> None:
    """Refuse an output folder that cannot be made or written, before any reading."""
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the output folder {out}: {exc.strerror}") from exc
    if not os.access(out, os.W_OK):
        raise ValueError(f"cannot write to the output folder {out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsflow export",
        description="Turn enriched records (Avro folders of run/replay, or a topic) into tables analysts query: "
                    "OUT/events, OUT/entities, OUT/articles as hive-partitioned Parquet (dt=YYYY-MM-DD), "
                    "CSV on request. Columns: docs/export.md.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", nargs="+", metavar="DIR",
                        help="Avro folders or files written by run/replay (dead letters under DIR/dlq/ are counted, not exported)")
    source.add_argument("--from-topic", metavar="T",
                        help="read topic T (e.g. articles.enriched) from its beginning to its end as of now")
    parser.add_argument("--start-offsets", default=None, metavar="P:O[,...]",
                        help="with --from-topic: first offset per partition (default: the earliest)")
    parser.add_argument("--end-offsets", default=None, metavar="P:O[,...]",
                        help="with --from-topic: end offset (exclusive) per partition (default: the end as the read starts)")
    parser.add_argument("--start-time", default=None, metavar="ISO",
                        help="with --from-topic: ISO-8601, first offset at or after this time")
    parser.add_argument("--end-time", default=None, metavar="ISO",
                        help="with --from-topic: ISO-8601, stop at the first offset at or after this time")
    parser.add_argument("--out", required=True, metavar="OUT", help="output folder (its events/, entities/, articles/ are replaced)")
    parser.add_argument("--format", choices=("parquet", "csv", "both"), default="parquet",
                        help="file format (default parquet; csv for spreadsheets; both)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S",
                        help="with --from-topic: give up after S seconds without a record (default 10)")
    parser.add_argument("--no-progress", action="store_true", help="no progress output")
    add_schema_registry_flag(parser, writes=False)
    add_bootstrap_flag(parser)
    return parser


def _avro_records(paths: list[str]) -> Iterator[dict]:
    from pipelines.io.consumer import AvroFolderReader

    for path in paths:
        yield from AvroFolderReader(path, dedup_window=0)  # repeats are resolved by processed_at in collect()


def main(argv: list[str] | None = None) -> int:
    from pipelines.io.consumer import DEAD_LETTER_KIND, ENRICHED_KIND, AvroFolderReader

    parser = build_parser()
    args = parser.parse_args(argv)
    ranged = [flag for flag, value in (("--start-offsets", args.start_offsets), ("--end-offsets", args.end_offsets),
                                       ("--start-time", args.start_time), ("--end-time", args.end_time)) if value]
    if ranged and not args.from_topic:
        parser.error(f"{', '.join(ranged)} go(es) with --from-topic, not with --input")
    if ranged:  # a bad spec is refused before anything is read or written
        from pipelines.io.topic_range import parse_offsets, time_ms

        parse_offsets(args.start_offsets), parse_offsets(args.end_offsets), time_ms(args.start_time), time_ms(args.end_time)
    formats = ("parquet", "csv") if args.format == "both" else (args.format,)
    started = time.monotonic()
    counts: Counter = Counter()
    undecodable: list = []
    if args.input:
        for path in args.input:  # every input checked before anything is written
            found = AvroFolderReader(path).counts()
            counts[ENRICHED_KIND] += found[ENRICHED_KIND]
            counts[DEAD_LETTER_KIND] += found[DEAD_LETTER_KIND]
        check_writable(args.out)
        records = _avro_records(args.input)
        where = ", ".join(args.input)
        total = counts[ENRICHED_KIND]
    else:
        from pipelines.io.consumer import TopicReader
        from pipelines.io.kafka_client import check_broker

        apply_kafka_security(args)  # TLS/SASL flags (docs/CONTRACT.md), for every client of this process
        if args.from_topic not in check_broker(args.bootstrap_servers, topics=[args.from_topic]):
            raise ValueError(f"no topic {args.from_topic} at {args.bootstrap_servers}")
        if args.schema_registry:
            from pipelines.schema_registry import check_registry
            check_registry(args.schema_registry)
        check_writable(args.out)
        if ranged:
            records = _topic_range(args, undecodable)
            where = f"topic {args.from_topic} (range)"
        else:
            reader = TopicReader(args.bootstrap_servers, args.from_topic, from_beginning=True, until_end=True,
                                 idle_timeout_s=args.timeout, dedup_window=0, on_undecodable=undecodable.append,
                                 schema_registry=args.schema_registry)
            records = _closing(reader)
            where = f"topic {args.from_topic}"
        total = None
    report, done = export(records, args.out, formats, total=total, progress=not args.no_progress)
    rejected = {k.split(":", 1)[1]: v for k, v in done.items() if k.startswith("rejected:")}
    notes = []
    if done["repeats"]:
        notes.append(f"{done['repeats']} repeated id(s) merged (the later-processed record kept)")
    if rejected:
        notes.append("not exported: " + ", ".join(f"{k}={v}" for k, v in sorted(rejected.items())))
    if counts[DEAD_LETTER_KIND]:
        notes.append(f"{counts[DEAD_LETTER_KIND]} dead letter(s) there not exported")
    if undecodable:
        notes.append(f"{len(undecodable)} undecodable value(s) skipped")
    rows = report.rows
    print(f"export: {done['articles']} article(s), {rows['events']} event(s), {rows['entities']} entity row(s) "
          f"from {where} -> {args.out} ({'+'.join(formats)}, {report.files} file(s)"
          + (f", {report.removed} stale removed" if report.removed else "") + f") in {time.monotonic() - started:.1f} s"
          + (f"; {'; '.join(notes)}" if notes else ""))
    return 0


def _topic_range(args, undecodable: list) -> Iterator[dict]:
    """The enriched records of an offset or time range of the topic, read as `newsflow report --topic`
    reads one (the same range flags, resolved against the topic when the read starts)."""
    from pipelines.io.consumer import ENRICHED_KIND
    from pipelines.io.topic_range import parse_offsets, time_ms
    from pipelines.report.sources import TopicSource

    source = TopicSource(args.bootstrap_servers, args.from_topic, dlq_topic=None,
                         start_offsets=parse_offsets(args.start_offsets), end_offsets=parse_offsets(args.end_offsets),
                         start_time_ms=time_ms(args.start_time), end_time_ms=time_ms(args.end_time),
                         schema_registry=args.schema_registry)
    for kind, record in source.records():
        if kind == ENRICHED_KIND:
            yield record
        else:
            undecodable.append(record)


def _closing(reader) -> Iterator[dict]:
    with reader:
        yield from reader


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
