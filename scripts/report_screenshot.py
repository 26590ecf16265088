"""Time `newsflow report` over an Avro folder and keep a screenshot of the page (docs/report-bbc.png).

    .venv/bin/newsflow replay --input ../shared/data/archive/bbc_news_2004_2005.jsonl --avro-dir /tmp/bbc
    .venv/bin/python scripts/report_screenshot.py /tmp/bbc [--out docs/report-bbc.png]

Prints the records read, the time to read them and write the page (and, as a baseline measured
in the same run, the time to only decode the same files with fastavro), the page's size, and
the screenshot's path. Needs Debian's Chromium and Playwright (the test extra), as the tests do.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.report.cli import collect, write_report  # noqa: E402  (repo on sys.path first)
from pipelines.report.sources import AvroDirSource  # noqa: E402
from tests.report.browser import visit  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("avro_dir", help="the --avro-dir of a replay (e.g. of the BBC archive)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report-bbc.png", help="the PNG to write")
    args = parser.parse_args(argv)
    if not Path(args.avro_dir).is_dir():
        sys.exit(f"report_screenshot: {args.avro_dir} is not a folder; replay the archive first (see --help)")
    source = AvroDirSource(args.avro_dir)

    started = time.monotonic()
    decoded = sum(1 for _ in source.records())
    baseline = time.monotonic() - started

    with tempfile.TemporaryDirectory() as scratch:
        started = time.monotonic()
        stats = collect(source, progress=False)
        page = write_report(stats, "BBC archive 2004-05, replayed by newsflow" if "bbc" in args.avro_dir.lower()
                            else args.avro_dir, str(Path(scratch) / "report.html"))
        took = time.monotonic() - started
        seen = visit(Path(page).as_uri(), screenshot=str(args.out))
        size = Path(page).stat().st_size
    if seen.console_errors or len(seen.requests) != 1:
        sys.exit(f"report_screenshot: the page was not clean: {seen.console_errors} {seen.requests}")
    print(f"report over {args.avro_dir}: {decoded} records; read + page in {took:.1f}s "
          f"(decoding alone {baseline:.1f}s, x{took / max(baseline, 1e-9):.2f}); page {size / 1024:.0f} KB; "
          f"marks {seen.marks}")
    print(f"screenshot -> {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
