"""Memory of the story index: bytes an article holds in ``StoryIndex``, measured with tracemalloc.

    .venv/bin/python scripts/story_index_memory.py [--shared ../shared]

The 2,225 BBC archive articles (``../shared/data/archive/bbc_news_2004_2005.jsonl``) are
assigned to a fresh index twice: (a) as they are, every article new text; (b) 2,225 copies of
the first 200 under fresh ids (near copies share their LSH bands: the case of a recycled feed).
The archive has no entities, so each article's lead entities are stand-ins: up to seven distinct
capitalised words of its first 600 characters (a lead names four to eight). What is counted is
what the index keeps after ``assign`` (the signature of each article is built inside the
measured span and kept only as far as the index keeps it). Stops with one line (exit 2) when the
archive is missing.
"""
from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.nlp.stories import LEAD_CHARS, StoryConfig, StoryIndex, signature  # noqa: E402
from _shared import BBC, DEFAULT_SHARED, require  # noqa: E402

CAPITALISED = re.compile(r"\b[A-Z][a-z]{3,}\b")


def record(article: dict, article_id: str) -> dict:
    """An enriched record as the matcher reads it, with stand-in lead entities."""
    names = list(dict.fromkeys(CAPITALISED.findall(article["body"][:LEAD_CHARS])))[:7]
    entities = [{"text": n, "label": "ORG", "field": "body", "start_char": 0, "canonical": n, "entity_id": None}
                for n in names]
    return {"id": article_id, "body": article["body"], "published_at": None, "entities": entities,
            "events": [], "primary_event_type": None}


def bytes_per_article(records: list[dict]) -> float:
    gc.collect()
    tracemalloc.start()
    index = StoryIndex(StoryConfig())
    before = tracemalloc.take_snapshot()
    for r in records:
        index.assign(signature(r))
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename")) / len(records)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args()
    require(args.shared, BBC)
    articles = [json.loads(line) for line in open(args.shared / BBC, encoding="utf-8")]
    distinct = [record(a, a["id"]) for a in articles]
    copies = [record(articles[n % 200], f"copy-{n}") for n in range(len(articles))]
    print(f"story index: (a) {len(distinct)} BBC articles, each new text: "
          f"{bytes_per_article(distinct):,.0f} bytes an article", flush=True)
    print(f"story index: (b) {len(copies)} copies of 200 of them: {bytes_per_article(copies):,.0f} bytes an article")
    return 0


if __name__ == "__main__":
    sys.exit(main())
