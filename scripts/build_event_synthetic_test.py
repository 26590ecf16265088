"""Write the held-back synthetic stories in gold format, one file per split (scripts/event_data.py).

- build/eval/events_synthetic_test.jsonl: the shipped model's held-back stories (story split);
- build/eval/events_synthetic_unseen_templates.jsonl: the stories of held-back headline templates
  (template split), scored with a model trained by ``train_events.py --split template --out DIR``.

The stories are NGEC's text, whose repository carries no licence, so they are not shipped: they
are rebuilt from ../shared at evaluation time (``make events-eval``) into the git-ignored build/.

Usage: python scripts/build_event_synthetic_test.py [--shared ../shared] [--out-dir build/eval]
       [--split story|template --out FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import (DEFAULT_SHARED, REPO, SYNTHETIC_ZIP, load_synthetic, require,  # noqa: E402
                        synthetic_test_ids)

OUT_DIR = REPO / "build" / "eval"
NAMES = {"story": "events_synthetic_test.jsonl", "template": "events_synthetic_unseen_templates.jsonl"}


def main(argv: list[str] | None = None) -> int:
    """Write the held-back splits (both by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help="folder of the split files")
    parser.add_argument("--split", choices=sorted(NAMES), help="write only this split")
    parser.add_argument("--out", type=Path, help="with --split: write it here")
    args = parser.parse_args(argv)
    require(args.shared, SYNTHETIC_ZIP)
    stories = load_synthetic(args.shared)
    for split in [args.split] if args.split else sorted(NAMES):
        out = args.out if args.split and args.out else args.out_dir / NAMES[split]
        out.parent.mkdir(parents=True, exist_ok=True)
        write_split(stories, split, out)
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
