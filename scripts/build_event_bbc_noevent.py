"""Write every held-out BBC sport and entertainment article as gold items (no political event).

A larger check of the no-event rate than the 60 articles in the dev set: all articles of the
two categories in the held-out quarter (sha1(id) mod 4 == 0), none of which the classifier was
trained on. Articles found by hand to report a political event keep that label
(build_event_devset.SPORT_ENT_EVENTS); the rest are assumed to report none, unchecked.

Usage: python scripts/build_event_bbc_noevent.py --out FILE [--shared ../shared]
then:  newsflow eval events --gold FILE
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_event_devset import SPORT_ENT_EVENTS, gold_item  # noqa: E402
from event_data import BBC, DEFAULT_SHARED, bbc_heldout, load_bbc, require  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Write the gold file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    require(args.shared, BBC)
    arts = [a for a in load_bbc(args.shared)
            if a["category"] in ("sport", "entertainment") and bbc_heldout(a["id"])]
    with open(args.out, "w", encoding="utf-8") as f:
        for art in sorted(arts, key=lambda a: a["id"]):
            label = SPORT_ENT_EVENTS.get(art["id"], (None, None, None))
            f.write(json.dumps(gold_item(art["id"], art["title"].strip(), art["body"].strip(), None, label,
                                     f"bbc_news_2004_2005.jsonl id={art['id']}", art["category"]),
                               ensure_ascii=False) + "\n")
    print(f"{len(arts)} held-out BBC sport/entertainment articles -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
