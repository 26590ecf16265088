"""Where the enrichment step's memory goes, article by article (issue #13): no Kafka, no Beam, no stories.

The soak's feed (``scripts/soak.py``: the BBC archive, then texts mixed from it) goes through the
parse and annotate steps of ``newsflow run`` in one process, in bundles of --bundle, and every
--every articles this prints the RSS and glibc's own account of its C heap (``mallinfo2``): bytes
in use by live C allocations, bytes free but kept by malloc, and mmap'ed blocks, besides the
blocks Python's allocator holds. Growth of "in use" is memory something keeps; growth of "free"
with "in use" flat is fragmentation.

Reads ../shared (the BBC archive); says so when it is absent. Figures are bytes, not time: the
machine's load does not move them.

With --trace-from N, Python's tracemalloc starts after article N (past the warm-up) and the end
prints the allocation sites whose live memory grew most since then (the --top largest, grouped
by the innermost --frames frames): where the Python objects that stay come from.

With --part, only a part of the step reads the same articles, never reloading spaCy: spacy (the
pipeline over headline and body inside a memory zone), encoder (the sentence encoder over
headline and lead), parse (the step's own parse, ``annotate.parse``, inside a memory zone),
entities (parse, then the entity resolver) or events (parse, entities, then the event coder: the
step without its records and Beam): which part the growth belongs to.

usage: python scripts/nlp_memory_growth.py [--articles 3000] [--every 250] [--bundle 16] [--reload-lexemes N]
                                           [--collect-every N] [--trace-from N [--top 15] [--frames 6]]
                                           [--part step|spacy|encoder|parse|entities|events]
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from _shared import BBC, DEFAULT_SHARED, require  # noqa: E402
from soak import mixed  # noqa: E402


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap() -> dict[str, float]:
    """glibc's heap account in MiB: in use, free but kept, mmap'ed; plus the RSS."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS"))
    return {"rss": rss / 1024, "in use": info.uordblks / 2**20, "free kept": info.fordblks / 2**20,
            "mmap": info.hblkhd / 2**20, "py blocks": sys.getallocatedblocks() / 1e3}


PARTS = ("step", "spacy", "encoder", "parse", "entities", "events")


def part_runner(part: str):
    """A function that puts one article (title, body) through one part of the step alone."""
    if part == "spacy":
        from pipelines.nlp import ner

        nlp = ner.load_nlp()

        def run(article: dict) -> None:
            with nlp.memory_zone():
                nlp(article.get("title") or "")
                nlp(article.get("body") or "")
        return run
    if part == "encoder":
        from pipelines.nlp.encoder import StaticEncoder

        encoder = StaticEncoder.load()
        return lambda article: encoder.encode([article.get("title") or "", (article.get("body") or "")[:600]])
    if part in ("parse", "entities", "events"):
        from pipelines.nlp import annotate, events, ner
        from pipelines.nlp.entities import EntityResolver

        nlp = ner.load_nlp()
        resolver = EntityResolver.load() if part != "parse" else None
        coder = events.EventCoder.load() if part == "events" else None

        def run(article: dict):
            with nlp.memory_zone():
                title, body = next(annotate.parse(nlp, [article.get("title") or ""], [article.get("body") or ""]))
                if resolver is None:
                    return len(title) + len(body)
                entities = resolver.resolve(title, body, None)
                if coder is None:
                    return entities
                return coder.code(title, body, entities, None)
        return run
    raise ValueError(f"no part {part!r} (one of {', '.join(PARTS[1:])})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--bundle", type=int, default=16)
    parser.add_argument("--reload-lexemes", type=int, default=None,
                        help="EnrichConfig.spacy_reload_lexemes (default: the run's; 0: never reload)")
    parser.add_argument("--collect-every", type=int, default=0,
                        help="a full garbage collection every N articles (0: only Python's own)")
    parser.add_argument("--trace-from", type=int, default=None,
                        help="start tracemalloc after this many articles and print the growing allocation sites at the end")
    parser.add_argument("--top", type=int, default=15, help="allocation sites printed (with --trace-from)")
    parser.add_argument("--frames", type=int, default=6, help="frames that group an allocation site (with --trace-from)")
    parser.add_argument("--part", choices=PARTS, default="step",
                        help="step: parse + annotate (default); another: that part alone (the docstring)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args()
    require(args.shared, BBC)
    articles = [json.loads(line) for line in open(args.shared / BBC, encoding="utf-8")]

    from pipelines.pipeline.enrich import AnnotateArticlesFn, EnrichConfig, ParseArticlesFn, RawInput

    cfg = EnrichConfig() if args.reload_lexemes is None else EnrichConfig(spacy_reload_lexemes=args.reload_lexemes)
    if args.part == "step":
        parse, annotate = ParseArticlesFn(cfg), AnnotateArticlesFn(cfg)
        parse.setup()
        annotate.setup()
        print(f"nlp_memory_growth: {args.articles} articles in bundles of {args.bundle}, "
              f"a fresh spaCy pipeline every {cfg.spacy_reload_lexemes} lexemes")
    else:
        one_part = part_runner(args.part)
        print(f"nlp_memory_growth: {args.articles} articles, the {args.part} part alone")
    first = traced = None
    for start in range(0, args.articles, args.bundle):
        if args.part != "step":
            for n in range(start, min(start + args.bundle, args.articles)):
                one_part(mixed(articles, n))
        else:
            bundle = [x for n in range(start, min(start + args.bundle, args.articles))
                      for x in parse.process(RawInput(original=json.dumps(mixed(articles, n)).encode()), timestamp=None)]
            for _ in annotate.process(bundle):
                pass
        done = min(start + args.bundle, args.articles)
        if args.collect_every and done % args.collect_every < args.bundle:
            gc.collect()
        if args.trace_from is not None and traced is None and done >= args.trace_from:
            tracemalloc.start(args.frames)
            traced = (done, tracemalloc.take_snapshot())
            print(f"tracemalloc started after {done} articles", flush=True)
        if done % args.every < args.bundle or done == args.articles:
            now = heap()
            first = first or now
            print(f"{done:6d} articles: " + ", ".join(f"{k} {v:.1f}" + ("k" if k == "py blocks" else " MiB") for k, v in now.items())
                  + "; since the first line: " + ", ".join(f"{k} {now[k] - first[k]:+.1f}" for k in now)
                  + (f"; spaCy loads {annotate.nlp_loads}" if args.part == "step" else ""), flush=True)
    if traced is not None:
        report_growth(*traced, tracemalloc.take_snapshot(), args.articles, args.top)
    return 0


def report_growth(since: int, before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, articles: int, top: int) -> None:
    """The allocation sites whose live memory grew most between the two snapshots, per article."""
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diff = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "traceback")
    grown = sorted((d for d in diff if d.size_diff > 0), key=lambda d: d.size_diff, reverse=True)
    fed = max(articles - since, 1)
    total = sum(d.size_diff for d in diff)
    print(f"\nPython memory traced since article {since}: {total / 2**20:+.1f} MiB net "
          f"({total / fed / 1024:+.1f} KiB per article); the {top} sites that grew most:")
    for d in grown[:top]:
        print(f"{d.size_diff / 2**20:+8.2f} MiB {d.count_diff:+8d} blocks ({d.size_diff / fed:+.0f} B/article)")
        for frame in d.traceback.format(limit=None, most_recent_first=True)[::2]:
            print("      " + frame.strip())


if __name__ == "__main__":
    sys.exit(main())
