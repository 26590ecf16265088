"""`newsflow report` over a replay-shaped Avro folder, opened in a real headless Chromium."""
from __future__ import annotations

import re

from tests.cli.helpers import newsflow, one_line_error
from tests.report.browser import visit
from tests.report.stream import ARTICLES, DEAD_LETTERS, EXPECTED_MARKS, write_stream


def test_report_page_loads_offline_with_every_chart(tmp_path):
    folder = write_stream(tmp_path / "out")
    page_path = tmp_path / "report.html"
    result = newsflow("report", folder, "-o", page_path)
    assert result.returncode == 0, result.stderr
    # One summary line that names the file written.
    assert re.fullmatch(rf"report: 4 enriched \+ 3 dead-lettered record\(s\), 6 event\(s\), 4 placed on the map, "
                        rf"from {re.escape(str(folder))} in [\d.]+s -> {re.escape(str(page_path))}\n", result.stdout)

    url = page_path.as_uri()
    seen = visit(url)
    assert seen.console_errors == []
    assert seen.requests == [url]            # the file itself, nothing else: no scripts, fonts or tiles
    assert seen.marks == EXPECTED_MARKS
    assert seen.drawn == EXPECTED_MARKS      # every mark has a box on screen, none collapsed to nothing
    assert seen.land_box and seen.land_box["width"] > 500 and seen.land_box["height"] > 150
    assert seen.mentions == 4                # Pyongyang, Russia, Geneva, Nairobi: the geocoded places named
    assert f"{len(ARTICLES) + len(DEAD_LETTERS)}\nrecords read" in seen.text
    assert "2 with no date" not in seen.text and "1 with no date" in seen.text


def test_report_refuses_what_it_cannot_read(tmp_path):
    assert one_line_error(newsflow("report", tmp_path / "missing")) \
        == f"newsflow report: no such file or folder: {tmp_path / 'missing'}"
    usage = newsflow("report")
    assert usage.returncode == 2 and "give either DIR" in usage.stderr
    (tmp_path / "empty").mkdir()
    assert one_line_error(newsflow("report", tmp_path / "empty")).startswith(
        f"newsflow report: no .avro files under {tmp_path / 'empty'}")
    folder = write_stream(tmp_path / "out")
    mixed = newsflow("report", folder, "--start-time", "2026-01-01")
    assert mixed.returncode == 2 and "--start-time go(es) with --topic" in mixed.stderr
    unwritable = newsflow("report", folder, "-o", tmp_path / "nowhere" / "r.html")
    assert one_line_error(unwritable).startswith("newsflow report: cannot write")
