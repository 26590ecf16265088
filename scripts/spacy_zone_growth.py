"""spaCy memory zones and hash-table growth (issue #13): traced memory as invented words pass through zones.

Each zone drops its new words (the string store does not grow), but preshed 3.0's tables keep their
room: a dropped key becomes a deleted cell that still counts as filled, and every resize doubles the
table. So memory grows in doublings with every new word read. Printed without a reload, then with
a fresh pipeline every --reload-every words (what AnnotateArticlesFn does, SPACY_RELOAD_LEXEMES).
Needs only the installed spaCy model; figures move with the machine's load only in time, not bytes.

usage: python scripts/spacy_zone_growth.py [--words 400000] [--reload-every 100000]
"""
from __future__ import annotations

import argparse
import gc
import random
import string
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.nlp import ner  # noqa: E402

STEP = 50_000
PER_ZONE = 2_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--words", type=int, default=400_000)
    parser.add_argument("--reload-every", type=int, default=100_000)
    args = parser.parse_args()
    rnd = random.Random(0)

    def word() -> str:
        return "".join(rnd.choice(string.ascii_lowercase) for _ in range(9)).capitalize()

    tracemalloc.start(1)
    for reload_every in (0, args.reload_every):
        nlp = ner.load_nlp(None)
        gc.collect()
        base, at_load, strings = tracemalloc.get_traced_memory()[0], len(nlp.vocab), len(nlp.vocab.strings)
        for done in range(STEP, args.words + 1, STEP):
            for _ in range(STEP // PER_ZONE):
                with nlp.memory_zone():
                    nlp.make_doc(" ".join(word() for _ in range(PER_ZONE)))
            if reload_every and len(nlp.vocab) - at_load >= reload_every:
                nlp = None
                gc.collect()
                nlp = ner.load_nlp(None)
                at_load = len(nlp.vocab)
                gc.collect()
            print(f"reload {'every ' + format(reload_every, ',') if reload_every else 'never'}: {done:,} new words: "
                  f"traced {(tracemalloc.get_traced_memory()[0] - base) / 2**20:+.1f} MiB, "
                  f"strings {len(nlp.vocab.strings) - strings:+d}", flush=True)
        nlp = None
        gc.collect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
