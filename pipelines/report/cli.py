"""newsflow report: one self-contained HTML page over enriched output (an Avro folder or a topic range).

    newsflow report out/                          # the Avro files of `run` or `replay` (dlq/ too)
    newsflow report --topic articles.enriched     # the topic as it is now, plus articles.dlq
    newsflow report --topic articles.enriched --start-time 2026-12-01T00:00 -o today.html
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone

from pipelines.config import add_bootstrap_flag, add_schema_registry_flag
from pipelines.console import progress_counter
from pipelines.io.consume import DEAD_LETTER_KIND, ENRICHED_KIND
from pipelines.io.topic_range import parse_offsets, time_ms
from pipelines.io.topics import DLQ_TOPIC
from pipelines.report.sources import AvroDirSource, TopicSource
from pipelines.report.stats import StreamStats

DEFAULT_OUTPUT = "newsflow-report.html"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsflow report", description=__doc__.strip(),
        epilog="The page has inline SVG and CSS only: it opens offline and fetches nothing (no scripts,\n"
               "fonts or map tiles). Charts: events per day by PLOVER type, a map of event locations,\n"
               "top dyads, top entities, dead-letter reasons, throughput (docs/report.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", metavar="DIR",
                        help="an Avro folder written by `newsflow run` or `replay` (read recursively, dlq/ included)")
    parser.add_argument("--topic", default=None, metavar="T", help="read this enriched topic instead of a folder")
    parser.add_argument("--dlq-topic", default=DLQ_TOPIC, metavar="T",
                        help=f"with --topic: dead letters from this topic (default {DLQ_TOPIC}; skipped if absent)")
    parser.add_argument("--no-dlq", action="store_true", help="with --topic: read no dead-letter topic")
    add_schema_registry_flag(parser, writes=False)
    parser.add_argument("--start-offsets", default=None, metavar="P:O[,...]",
                        help="with --topic: first offset per partition (default: the earliest)")
    parser.add_argument("--end-offsets", default=None, metavar="P:O[,...]",
                        help="with --topic: end offset (exclusive) per partition (default: the end as the read starts)")
    parser.add_argument("--start-time", default=None, metavar="ISO", help="with --topic: ISO-8601, first offset at or after this time")
    parser.add_argument("--end-time", default=None, metavar="ISO", help="with --topic: ISO-8601, stop at the first offset at or after it")
    add_bootstrap_flag(parser)
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT, metavar="FILE",
                        help=f"the HTML file to write (default: {DEFAULT_OUTPUT} in the current folder)")
    parser.add_argument("--no-progress", action="store_true", help="no progress output")
    return parser


def parse_args(argv: list[str]):
    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.dir) == bool(args.topic):
        parser.error("give either DIR (an Avro folder) or --topic TOPIC")
    topic_only = [flag for flag, value in (("--start-offsets", args.start_offsets), ("--end-offsets", args.end_offsets),
                                           ("--start-time", args.start_time), ("--end-time", args.end_time)) if value]
    if args.dir and topic_only:
        parser.error(f"{', '.join(topic_only)} go(es) with --topic, not with a folder")
    args.start_offsets, args.end_offsets = parse_offsets(args.start_offsets), parse_offsets(args.end_offsets)
    args.start_time_ms, args.end_time_ms = time_ms(args.start_time), time_ms(args.end_time)
    return args


def collect(source, progress: bool = True) -> StreamStats:
    """Fold every record of ``source`` into a ``StreamStats``, with progress on stderr."""
    stats = StreamStats()
    total = source.total()
    with progress_counter("report", total=total, unit="record(s)", enabled=progress) as bar:
        for kind, record in source.records():
            if kind == ENRICHED_KIND:
                stats.add_enriched(record)
            elif kind == DEAD_LETTER_KIND:
                stats.add_dead_letter(record)
            else:
                stats.undecodable += 1
            bar.update(1)
    return stats


def write_report(stats: StreamStats, source: str, output: str) -> str:
    """Write the page through a temporary name (a reader never sees half a page); the path written."""
    from pipelines.report.render import render_page

    path = os.path.abspath(output)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {output}: no such folder {folder}")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(render_page(stats, source, datetime.now(timezone.utc)))
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.dir:
        source = AvroDirSource(args.dir)
    else:
        source = TopicSource(args.bootstrap_servers, args.topic, dlq_topic=None if args.no_dlq else args.dlq_topic,
                             start_offsets=args.start_offsets, end_offsets=args.end_offsets,
                             start_time_ms=args.start_time_ms, end_time_ms=args.end_time_ms,
                             schema_registry=args.schema_registry)
    started = time.monotonic()
    stats = collect(source, progress=not args.no_progress)
    path = write_report(stats, source.describe(), args.output)
    undecodable = f", {stats.undecodable} undecodable" if stats.undecodable else ""
    print(f"report: {stats.enriched} enriched + {stats.dead_lettered} dead-lettered record(s){undecodable}, "
          f"{stats.events} event(s), {sum(stats.places.values())} placed on the map, from {source.describe()} "
          f"in {time.monotonic() - started:.1f}s -> {path}")
    return 0
