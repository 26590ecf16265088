"""The replay's progress line, from the files its workers write."""
import io
import json
from collections import Counter

from pipelines.console import PlainCounter
from pipelines.pipeline.progress import progress_postfix, read_progress


def line(counts: Counter, total: int) -> str:
    out = io.StringIO()
    counter = PlainCounter("replay", total, "article(s)", every=0.0, stream=out)
    counter.set_postfix(refresh=False, **progress_postfix(counts))
    counter.update(counts["enriched"] + counts["dead"])
    return out.getvalue().strip()


def test_before_the_first_article_the_line_says_why_it_is_still_zero(tmp_path):
    # Before, a replay showed "0/13 article(s) at 0.0/s (enriched 0, dead 0)" for minutes.
    assert line(read_progress(str(tmp_path)), 13) == (
        "replay: 0/13 article(s) at 0.0/s (workers load spaCy and the event model, then enrich batch by batch)")


def test_once_articles_are_done_the_line_counts_them(tmp_path):
    (tmp_path / "enriched-1.json").write_text(json.dumps({"kind": "enriched", "count": 9}))
    (tmp_path / "dead-1.json").write_text(json.dumps({"kind": "dead", "count": 1}))
    text = line(read_progress(str(tmp_path)), 13)
    assert text.startswith("replay: 10/13 article(s) at ") and text.endswith("(enriched 9, dead 1)")
