"""Time of `newsflow export` on a replay folder, against just reading its Avro files, in one run.

  1. baseline: fastavro reads every record of the folder's Avro files (what any export must do);
  2. export: the export of the same folder (read, flatten, story counts, Parquet write), in
     process, into a fresh temporary folder each time;
  3. export with --format both (Parquet and CSV).
Each is run --repeat times and the fastest kept (the machine is shared; the fastest is the least
disturbed). The ratio export / baseline is the figure to watch. Not a test: nothing is asserted.

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
from pipelines.io.consumer import AvroFolderReader, avro_files  # noqa: E402


def read_only(folder: str) -> int:
    count = 0
    for name in avro_files(folder):
        with open(name, "rb") as f:
            for _record in fastavro.reader(f):
                count += 1
    return count


def fastest(repeat: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


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
    base, n = fastest(args.repeat, lambda: read_only(args.replay_dir))
    print(f"baseline (fastavro read of every record): {base:.2f} s for {n} record(s)")
    parquet, (report, done, size) = fastest(args.repeat, lambda: export_once(args.replay_dir, ("parquet",)))
    print(f"export --format parquet: {parquet:.2f} s: {done['articles']} article(s), {report.rows['events']} event(s), "
          f"{report.rows['entities']} entity row(s), {report.files} file(s), {size / 1e6:.1f} MB")
    both, (report, _done, size) = fastest(args.repeat, lambda: export_once(args.replay_dir, ("parquet", "csv")))
    print(f"export --format both: {both:.2f} s: {report.files} file(s), {size / 1e6:.1f} MB")
    print(f"ratio export/baseline: parquet {parquet / base:.2f}, both {both / base:.2f} "
          f"(fastest of {args.repeat}; articles/s: baseline {n / base:.0f}, export {n / parquet:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
