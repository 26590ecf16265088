"""Fuzz the raw-article parser: mutated article JSON for a set time, counted by outcome.

    python scripts/fuzz_article.py --seconds 10 [--seed 0]

Feeds ``pipelines.article.article_from_json_bytes`` mutations of real-looking articles (the
seeds, and a few built-in ones): truncation, byte flips, inserted and deleted spans, deep
nesting, huge strings, bad UTF-8, lone-surrogate escapes, odd values in the known fields.
Prints the iterations and the count of each outcome (``valid`` or an InvalidArticle class);
any other exception is printed with the input that raised it, and the exit status is 1.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.article import InvalidArticle, article_from_json_bytes  # noqa: E402
from pipelines.resources import resource_path  # noqa: E402

BUILT_IN = [
    {"id": "a1", "url": "https://news.example/world/a1", "source": "Example News", "title": "Talks in Geneva",
     "body": "Ministers met in Geneva on Wednesday.\nThey agreed to meet again.", "published_at": "2025-06-04T09:21:00Z",
     "language": "en", "section": "world"},
    {"body": "Короткая заметка. 中文正文。 Emoji 🎉.", "published_at": 1749043260000, "tags": ["a", "b"]},
    {"title": "No id", "body": "Text only.", "published_at": "Tue, 07 Feb 2017 10:00:00 GMT", "extra": {"k": 1}},
]
ODD_VALUES = [None, True, 0, -1, 1.5, 10**30, float("nan"), float("inf"), "", "   ", "\ud800", "²", "٣" * 3,
              "1" * 5000, "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2025-13-45", [], {}, [1, {}],
              {"nested": [1, 2]}, "\x00\x01\x02\x03\x04", "x" * 70_000]
BAD_UTF8 = [b"\xff", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]
HUGE = ["word " * (n // 5) for n in (100_000, 1_000_000 - 64, 1_000_000 + 64, 2_200_000)] + ["é" * 600_000]
KNOWN = ("id", "url", "source", "title", "body", "published_at", "language", "extra")


def load_corpus() -> list[dict]:
    corpus = list(BUILT_IN)
    for line in resource_path("seeds/articles.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            corpus.append(json.loads(line))
    return corpus


def _dumps(obj, rng: random.Random) -> bytes:
    return json.dumps(obj, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


def mutate_object(obj: dict, rng: random.Random) -> bytes:
    """Change the JSON object itself: odd values in known fields, dropped or nested fields."""
    obj = dict(obj)
    for _ in range(rng.randint(1, 3)):
        choice = rng.random()
        if choice < 0.55:
            obj[rng.choice(KNOWN)] = rng.choice(ODD_VALUES)
        elif choice < 0.75 and obj:
            del obj[rng.choice(list(obj))]
        elif choice < 0.95:
            value = obj.get("body", "x")
            for _ in range(rng.randint(1, 60)):
                value = rng.choice([[value], {"body": value}])
            obj[rng.choice(KNOWN)] = value
        else:
            # Around the default 1 MB limit and past the 2 MB message limit, built once.
            obj[rng.choice(("body", "body", "title"))] = rng.choice(HUGE)
    return _dumps(obj, rng)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Damage the bytes: truncate, flip, insert, delete, duplicate, bad UTF-8, deep nesting."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        at = rng.randint(0, len(data))
        if choice < 0.2:
            del data[at:]
        elif choice < 0.4 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randint(0, 7)
        elif choice < 0.55:
            data[at:at] = rng.choice(BAD_UTF8)
        elif choice < 0.65:
            data[at:at] = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 8)))
        elif choice < 0.75:
            del data[at:at + rng.randint(1, 50)]
        elif choice < 0.85:
            data[at:at] = data[at:at + rng.randint(1, 200)] * rng.randint(1, 20)
        elif choice < 0.95:
            depth = rng.choice([10, 500, 5000, 100_000])
            data[at:at] = rng.choice([b"[", b'{"a":', b'{"body":[']) * depth
        else:
            data[at:at] = rng.choice([b"\\ud800", b"\\udfff", b"\\u0000", b"NaN", b"-Infinity", b"1" * 5000])
    return bytes(data)


def one_input(corpus: list[dict], rng: random.Random) -> bytes:
    obj = rng.choice(corpus)
    choice = rng.random()
    if choice < 0.35:
        return mutate_object(obj, rng)
    if choice < 0.9:
        return mutate_bytes(_dumps(obj, rng), rng)
    return mutate_bytes(mutate_object(obj, rng), rng)


def fuzz(seconds: float, seed: int) -> tuple[int, Counter, list[tuple[bytes, str]]]:
    # dateutil warns about time-zone names it ignores ('J'); the outcome is what is counted.
    warnings.simplefilter("ignore")
    rng = random.Random(seed)
    corpus = load_corpus()
    outcomes: Counter = Counter()
    unexpected: list[tuple[bytes, str]] = []
    iterations = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        data = one_input(corpus, rng)
        iterations += 1
        try:
            article_from_json_bytes(data)
            outcomes["valid"] += 1
        except InvalidArticle as exc:
            outcomes[exc.error_class] += 1
        except Exception:  # the finding itself: anything but InvalidArticle is a parser bug
            outcomes["UNEXPECTED"] += 1
            if len(unexpected) < 5:
                unexpected.append((data, traceback.format_exc(limit=3)))
    return iterations, outcomes, unexpected


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to fuzz (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    iterations, outcomes, unexpected = fuzz(args.seconds, args.seed)
    print(f"fuzz_article: {iterations} iterations in {time.monotonic() - started:.1f} s (seed {args.seed})")
    for outcome, count in sorted(outcomes.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {outcome:<14} {count}")
    print(f"unexpected exceptions: {outcomes['UNEXPECTED']}")
    for data, trace in unexpected:
        print(f"--- input ({len(data)} bytes): {data[:300]!r}\n{trace}", end="")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
