"""Write the held-back synthetic stories in gold format, one file per split (scripts/event_data.py).

- data/eval/events_synthetic_test.jsonl: the shipped model's held-back stories (story split);
- data/eval/events_synthetic_unseen_templates.jsonl: the stories of held-back headline templates
  (template split), scored with a model trained by ``train_events.py --split template --out DIR``.

Usage: python scripts/build_event_synthetic_test.py [--shared ../shared] [--split story|template --out FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import DEFAULT_SHARED, REPO, load_synthetic, synthetic_test_ids  # noqa: E402

OUTPUTS = {"story": REPO / "data" / "eval" / "events_synthetic_test.jsonl",
           "template": REPO / "data" / "eval" / "events_synthetic_unseen_templates.jsonl"}


def main(argv: list[str] | None = None) -> int:
    """Write the held-back splits (both by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--split", choices=("template", "story"), help="write only this split")
    parser.add_argument("--out", type=Path, help="with --split: write it here")
    args = parser.parse_args(argv)
    stories = load_synthetic(args.shared)
    for split in [args.split] if args.split else sorted(OUTPUTS):
        write_split(stories, split, args.out if args.split and args.out else OUTPUTS[split])
    return 0


def write_split(stories: list[dict], split: str, out: Path) -> None:
    """One split's held-back stories as gold JSONL."""
    held = synthetic_test_ids(stories, split)
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        for s in stories:
            if s["id"] not in held:
                continue
            f.write(json.dumps({"id": s["id"], "title": s["title"], "text": s["text"], "published_at": None,
                                "event_type": s["label"], "mode": s["mode"], "category": "synthetic",
                                "origin": "NGEC gpt_synthetic_events_2023-10-19_19 template=" + s["template"]},
                               ensure_ascii=False) + "\n")
            n += 1
    print(f"{n} held-back stories ({split} split) -> {out}")


if __name__ == "__main__":
    raise SystemExit(main())
