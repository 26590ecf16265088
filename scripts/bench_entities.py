"""Throughput of entity enrichment against spaCy NER alone, measured in the same run.

    python scripts/bench_entities.py [--articles 150] [--rounds 3] [--shared ../shared]

"NER alone" is the packaged en_core_web_sm pipeline through ``nlp.pipe`` (title and body of
each article). "Enrichment" is what EnrichArticles does with this issue's steps: the adapted
pipeline (fine-tuned NER weights plus the clean-up rule step) and ``EntityResolver.resolve``
(canonical names, ids, countries, geocoding, dates). The two alternate for several rounds on
the same BBC archive articles and the fastest round of each is kept, because the machine is
shared and a slow round says more about the neighbours than about the code. CPU time of this
process is reported too: it is what the code costs, whatever else runs beside it.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _shared import BBC, DEFAULT_SHARED, require  # noqa: E402


def read_articles(shared: Path, count: int) -> list[dict]:
    """The first ``count`` BBC archive articles."""
    articles = []
    with (shared / BBC).open(encoding="utf-8") as f:
        for line in f:
            articles.append(json.loads(line))
            if len(articles) == count:
                break
    return articles


def ner_alone(nlp, articles: list[dict]) -> tuple[float, float]:
    """Wall and CPU seconds to run the pipeline over every title and body."""
    started, cpu = time.perf_counter(), time.process_time()
    texts = [t for a in articles for t in (a.get("title") or "", a["body"])]
    for _ in nlp.pipe(texts, batch_size=32):
        pass
    return time.perf_counter() - started, time.process_time() - cpu


def enrichment(nlp, resolver, articles: list[dict]) -> tuple[float, float]:
    """Wall and CPU seconds to run the adapted pipeline and resolve every article's entities."""
    from pipelines.nlp import dates

    # Start cold as a stream of new articles would: no cached date parses from the last round.
    dates.clear_cache()
    started, cpu = time.perf_counter(), time.process_time()
    texts = [t for a in articles for t in (a.get("title") or "", a["body"])]
    docs = iter(nlp.pipe(texts, batch_size=32))
    for _ in articles:
        title_doc, body_doc = next(docs), next(docs)
        resolver.resolve(title_doc, body_doc, None)
    return time.perf_counter() - started, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    """Print both rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    require(args.shared, BBC)

    from pipelines.nlp.entities import EntityResolver
    from pipelines.nlp.ner import load_nlp

    articles = read_articles(args.shared, args.articles)
    words = sum(len(a["body"].split()) for a in articles) / len(articles)
    bare = load_nlp(improved=False)
    adapted = load_nlp()
    resolver = EntityResolver.load()
    enrichment(adapted, resolver, articles[:5])  # warm-up: lazy tables, caches
    ner_alone(bare, articles[:5])
    alone, enriched = [], []
    for _ in range(args.rounds):
        alone.append(ner_alone(bare, articles))
        enriched.append(enrichment(adapted, resolver, articles))
    print(f"{len(articles)} BBC articles, {words:.0f} body words on average, best of {args.rounds} rounds")
    for kind, index in (("wall", 0), ("CPU", 1)):
        best_alone = min(t[index] for t in alone)
        best_enriched = min(t[index] for t in enriched)
        print(f"[{kind} time] spaCy NER alone (en_core_web_sm, nlp.pipe): "
              f"{len(articles) / best_alone:6.2f} articles/s; enrichment (adapted NER + EntityResolver): "
              f"{len(articles) / best_enriched:6.2f} articles/s; ratio {best_enriched / best_alone:.3f} "
              f"(overhead {100 * (best_enriched / best_alone - 1):+.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
