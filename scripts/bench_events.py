"""Throughput of the event coder against spaCy NER alone, measured in the same run.

Parses N archive articles (title and body) with the full shared spaCy pipeline, timing
``nlp.pipe``; then codes events over the same parsed docs, timing ``EventCoder.code`` (and,
when installed, the entity resolver, reported separately). Prints docs/s for NER alone, for
NER + events (and NER + entities + events), and their ratio; the budget is ratio >= 0.75.

Usage: python scripts/bench_events.py [--n 200] [--shared ../shared]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import BBC, DEFAULT_SHARED, load_bbc, require  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the rates."""
    from pipelines.nlp.events import EventCoder
    from pipelines.nlp.ner import load_nlp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="articles to process")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args(argv)
    require(args.shared, BBC)

    arts = load_bbc(args.shared)
    step = max(1, len(arts) // args.n)
    arts = arts[::step][: args.n]
    words = sum(len(a["body"].split()) for a in arts) / len(arts)
    nlp = load_nlp()
    coder = EventCoder.load()
    from pipelines.nlp.entities import EntityResolver
    resolver = EntityResolver.load()
    published = datetime(2005, 3, 1, tzinfo=timezone.utc)
    list(nlp.pipe(["warm up the pipeline."] * 4))  # first-call allocations are not throughput

    start = time.perf_counter()
    titles = list(nlp.pipe((a["title"] for a in arts), batch_size=32))
    bodies = list(nlp.pipe((a["body"] for a in arts), batch_size=32))
    t_ner = time.perf_counter() - start

    entities = [[] for _ in arts]
    t_ent = 0.0
    if resolver is not None:
        start = time.perf_counter()
        entities = [resolver.resolve(t, b, published) for t, b in zip(titles, bodies)]
        t_ent = time.perf_counter() - start

    start = time.perf_counter()
    n_events = n_primary = 0
    for t, b, ents in zip(titles, bodies, entities):
        events, primary = coder.code(t, b, ents, published)
        n_events += len(events)
        n_primary += primary is not None
    t_ev = time.perf_counter() - start

    n = len(arts)
    ner_rate = n / t_ner
    ev_rate = n / (t_ner + t_ev)
    print(f"articles: {n} (mean {words:.0f} words), events coded: {n_events}, with a primary type: {n_primary}")
    print(f"spaCy NER alone:          {ner_rate:7.2f} docs/s")
    print(f"NER + events:             {ev_rate:7.2f} docs/s   ratio {ev_rate / ner_rate:.3f}"
          f"   (event coder {1000 * t_ev / n:.1f} ms/doc)")
    if resolver is not None:
        all_rate = n / (t_ner + t_ent + t_ev)
        print(f"NER + entities + events:  {all_rate:7.2f} docs/s   ratio {all_rate / ner_rate:.3f}"
              f"   (entity resolver {1000 * t_ent / n:.1f} ms/doc)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
