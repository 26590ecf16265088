"""Time of `newsflow export` on a replay folder, against just reading its Avro files, in one run.

  1. baseline: fastavro reads every record of the folder's Avro files (what any export must do);
  2. export: the export of the same folder (read, flatten, story counts, Parquet write), in
     process, into a fresh temporary folder each time;
  3. export with --format both (Parquet and CSV).
They run in --repeat interleaved rounds and the fastest of each is kept (the machine is shared;
the fastest is the least disturbed). The ratio export / baseline is the figure to watch. Not a test: nothing is asserted.

usage: python scripts/bench_export.py REPLAY_DIR [--repeat 3]
       (REPLAY_DIR: the output of `newsflow replay`, e.g. a replay of the BBC archive in ../shared)
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import fastavro

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.export import export  # noqa: E402
from pipelines.io.consumer import ENRICHED_KIND, AvroFolderReader, avro_files, record_kind  # noqa: E402


def read_only(folder: str) -> int:
    """Decode every enriched record of the folder's files (the dead-letter files are skipped, as by export)."""
    count = 0
    for name in avro_files(folder):
        with open(name, "rb") as f:
            reader = fastavro.reader(f)
            if record_kind(reader.writer_schema) != ENRICHED_KIND:
                continue
            for _record in reader:
                count += 1
    return count


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def export_once(folder: str, formats: tuple[str, ...]):
    out = tempfile.mkdtemp(prefix="bench-export-")
    try:
        report, counts = export(AvroFolderReader(folder, dedup_window=0), out, formats, progress=False)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(out) for f in files)
        return report, counts, size
    finally:
        shutil.rmtree(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("replay_dir", help="a `newsflow replay` output folder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.path.isdir(args.replay_dir):
        print(f"bench_export: no such folder {args.replay_dir} (make one with `newsflow replay --avro-dir`)",
              file=sys.stderr)
        return 1
    counts = AvroFolderReader(args.replay_dir).counts()
    print(f"input: {args.replay_dir}: {counts['enriched']} enriched record(s), {counts['dead_letter']} dead letter(s), "
          f"{len(avro_files(args.replay_dir))} file(s)")
    # Interleaved rounds, the fastest of each kept: load that comes and goes hits all three alike.
    best = {"baseline": float("inf"), "parquet": float("inf"), "both": float("inf")}
    results = {}
    for _ in range(args.repeat):
        for name, work in (("baseline", lambda: read_only(args.replay_dir)),
                           ("parquet", lambda: export_once(args.replay_dir, ("parquet",))),
                           ("both", lambda: export_once(args.replay_dir, ("parquet", "csv")))):
            seconds, results[name] = timed(work)
            best[name] = min(best[name], seconds)
    n = results["baseline"]
    base, parquet, both = best["baseline"], best["parquet"], best["both"]
    print(f"baseline (fastavro decode of every enriched record): {base:.2f} s for {n} record(s)")
    report, done, size = results["parquet"]
    print(f"export --format parquet: {parquet:.2f} s: {done['articles']} article(s), {report.rows['events']} event(s), "
          f"{report.rows['entities']} entity row(s), {report.files} file(s), {size / 1e6:.1f} MB")
    report, _done, size = results["both"]
    print(f"export --format both: {both:.2f} s: {report.files} file(s), {size / 1e6:.1f} MB")
    print(f"ratio export/baseline: parquet {parquet / base:.2f}, both {both / base:.2f} "
          f"(fastest of {args.repeat} interleaved rounds; records/s: baseline {n / base:.0f}, export {n / parquet:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
