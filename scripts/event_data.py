"""Deterministic data splits shared by the event coder's training, gold-set and eval scripts.

- Synthetic stories (NGEC): split by headline template, per PLOVER type, so the held-back
  stories come from templates the classifier never saw (every 5th template of a type by hash,
  at least two per type).
- BBC archive: an article is held out for evaluation when sha1(id) mod 4 == 0; training only
  reads the other three quarters.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO / ".." / "shared"
SYNTHETIC_ZIP = Path("data/events/ngec/gpt_synthetic_events_2023-10-19_19.csv.zip")
HEADLINES = Path("data/events/ngec/synthetic_headlines.csv")
BBC = Path("data/archive/bbc_news_2004_2005.jsonl")


def _h(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16)


def bbc_heldout(article_id: str) -> bool:
    """True for BBC articles reserved for evaluation."""
    return _h(article_id) % 4 == 0


def load_synthetic(shared: Path) -> list[dict]:
    """The synthetic stories as dicts: id, title (filled headline), text, label, mode, template."""
    with zipfile.ZipFile(shared / SYNTHETIC_ZIP) as zf:
        name = [n for n in zf.namelist() if n.endswith(".csv")][0]
        rows = list(csv.DictReader(io.TextIOWrapper(zf.open(name), encoding="utf-8")))
    out = []
    for i, row in enumerate(rows):
        out.append({"id": f"syn-{i:04d}", "title": row["prompt"].splitlines()[0].strip(),
                    "text": row["text"].strip(), "label": row["label"].strip().upper(),
                    "mode": (row["mode"] or "").strip().lower() or None,
                    "template": row["title"].strip()})
    return out


def synthetic_test_templates(stories: list[dict]) -> set[str]:
    """Headline templates held back for testing (about a fifth per type, at least two)."""
    by_label: dict[str, set[str]] = defaultdict(set)
    for s in stories:
        by_label[s["label"]].add(s["template"])
    held = set()
    for templates in by_label.values():
        ordered = sorted(templates, key=_h)
        n = max(2, round(len(ordered) / 5))
        held.update(ordered[:n])
    return held


def synthetic_test_ids(stories: list[dict], split: str = "template") -> set[str]:
    """Ids of the held-back stories: by headline template (the shipped split), or by story.

    The "story" split holds back every fifth story by hash regardless of template; its test
    stories share headline templates with training stories, so it measures template recall
    more than generalisation. It exists to report that contrast, not to ship a model.
    """
    if split == "template":
        held = synthetic_test_templates(stories)
        return {s["id"] for s in stories if s["template"] in held}
    if split == "story":
        return {s["id"] for s in stories if _h(s["id"]) % 5 == 0}
    raise ValueError(f"unknown split {split!r}")


def load_bbc(shared: Path) -> list[dict]:
    """The BBC archive rows."""
    with open(shared / BBC, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_headlines(shared: Path) -> list[dict]:
    """Hand-written headline templates: event, mode, title."""
    with open(shared / HEADLINES, encoding="utf-8") as f:
        return list(csv.DictReader(f))
