"""Write data/eval/events_synthetic_test.jsonl: the held-back synthetic stories in gold format.

The split (scripts/event_data.py) holds back whole headline templates, about a fifth of each
PLOVER type's templates, so no test story shares its headline pattern with a training story.
Usage: python scripts/build_event_synthetic_test.py [--shared ../shared]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import DEFAULT_SHARED, REPO, load_synthetic, synthetic_test_ids  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Write the held-back split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=REPO / "data" / "eval" / "events_synthetic_test.jsonl")
    parser.add_argument("--split", choices=("template", "story"), default="template")
    args = parser.parse_args(argv)
    stories = load_synthetic(args.shared)
    held = synthetic_test_ids(stories, args.split)
    n = 0
    with open(args.out, "w", encoding="utf-8") as f:
        for s in stories:
            if s["id"] not in held:
                continue
            f.write(json.dumps({"id": s["id"], "title": s["title"], "text": s["text"], "published_at": None,
                                "event_type": s["label"], "mode": s["mode"], "category": "synthetic",
                                "origin": "NGEC gpt_synthetic_events_2023-10-19_19 template=" + s["template"]},
                               ensure_ascii=False) + "\n")
            n += 1
    print(f"{n} held-back stories ({args.split} split) -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
