"""Where the enrichment step's memory goes, article by article (issue #13): no Kafka, no Beam, no stories.

The soak's feed (``scripts/soak.py``: the BBC archive, then texts mixed from it) goes through the
parse and annotate steps of ``newsflow run`` in one process, in bundles of --bundle, and every
--every articles this prints the RSS and glibc's own account of its C heap (``mallinfo2``): bytes
in use by live C allocations, bytes free but kept by malloc, and mmap'ed blocks, besides the
blocks Python's allocator holds. Growth of "in use" is memory something keeps; growth of "free"
with "in use" flat is fragmentation.

Reads ../shared (the BBC archive); says so when it is absent. Figures are bytes, not time: the
machine's load does not move them.

usage: python scripts/nlp_memory_growth.py [--articles 3000] [--every 250] [--bundle 16] [--reload-lexemes N]
"""
from __future__ import annotations

import argparse
import ctypes
import json
import sys
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--bundle", type=int, default=16)
    parser.add_argument("--reload-lexemes", type=int, default=None,
                        help="EnrichConfig.spacy_reload_lexemes (default: the run's; 0: never reload)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args()
    require(args.shared, BBC)
    articles = [json.loads(line) for line in open(args.shared / BBC, encoding="utf-8")]

    from pipelines.pipeline.enrich import AnnotateArticlesFn, EnrichConfig, ParseArticlesFn, RawInput

    cfg = EnrichConfig() if args.reload_lexemes is None else EnrichConfig(spacy_reload_lexemes=args.reload_lexemes)
    parse, annotate = ParseArticlesFn(cfg), AnnotateArticlesFn(cfg)
    parse.setup()
    annotate.setup()
    first = None
    print(f"nlp_memory_growth: {args.articles} articles in bundles of {args.bundle}, "
          f"a fresh spaCy pipeline every {cfg.spacy_reload_lexemes} lexemes")
    for start in range(0, args.articles, args.bundle):
        bundle = [x for n in range(start, min(start + args.bundle, args.articles))
                  for x in parse.process(RawInput(original=json.dumps(mixed(articles, n)).encode()), timestamp=None)]
        for _ in annotate.process(bundle):
            pass
        done = min(start + args.bundle, args.articles)
        if done % args.every < args.bundle or done == args.articles:
            now = heap()
            first = first or now
            print(f"{done:6d} articles: " + ", ".join(f"{k} {v:.1f}" + ("k" if k == "py blocks" else " MiB") for k, v in now.items())
                  + "; since the first line: " + ", ".join(f"{k} {now[k] - first[k]:+.1f}" for k in now)
                  + f"; spaCy loads {annotate.nlp_loads}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
