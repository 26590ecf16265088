"""Inter-annotator agreement between the corpus labels and a second, independent labeller.

Reads a second labeller's items (same ids as corpus items) and the corpus, and prints Cohen's
kappa on the primary type (none included, 17 classes), raw agreement on it, and per-item type-set
agreement (exact match of the sets of event types, and mean Jaccard of the sets). By default one
line per second-label file in data/train (``plover_corpus*_second_labels.jsonl``: the 250-item
sample of writers w1-w6 and the samples of w7-w9, w10-w12, w13-w14, w15-w17 and
w18-w20, docs/plover-corpus.md).

Usage: python scripts/iaa_events.py [--labels FILE ...]
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import CORPUS, item_types, read_jsonl  # noqa: E402

SECOND_LABELS = sorted((Path(__file__).resolve().parents[1] / "data" / "train").glob("plover_corpus*_second_labels.jsonl"))


def cohen_kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two label lists."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def agreement(corpus: list[dict], second: list[dict]) -> dict:
    """Kappa and agreement figures over the items both label."""
    by_id = {c["id"]: c for c in corpus}
    pairs = [(by_id[s["id"]], s) for s in second if s["id"] in by_id]
    a = [c.get("event_type") or "none" for c, _ in pairs]
    b = [s.get("event_type") or "none" for _, s in pairs]
    sets = [(set(item_types(c)), set(item_types(s))) for c, s in pairs]
    jacc = [len(x & y) / len(x | y) if x | y else 1.0 for x, y in sets]
    return {"items": len(pairs), "kappa": cohen_kappa(a, b), "primary_agreement": sum(x == y for x, y in zip(a, b)) / len(a),
            "event_vs_none_agreement": sum((x == "none") == (y == "none") for x, y in zip(a, b)) / len(a),
            "type_set_exact": sum(x == y for x, y in sets) / len(sets), "type_set_jaccard": sum(jacc) / len(jacc)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, nargs="+", default=SECOND_LABELS,
                        help="second labellers' files (default: every data/train/plover_corpus*_second_labels.jsonl)")
    args = parser.parse_args(argv)
    corpus = read_jsonl(CORPUS)
    for labels in args.labels:
        if not labels.exists():
            print(f"inter-annotator agreement: skipped, {labels} is not there")
            continue
        r = agreement(corpus, read_jsonl(labels))
        print(f"inter-annotator agreement, {labels.name}, over {r['items']} items: Cohen's kappa (primary type, "
              f"none included) {r['kappa']:.3f}; primary agreement {r['primary_agreement']:.3f}; event/none agreement "
              f"{r['event_vs_none_agreement']:.3f}; type set exact {r['type_set_exact']:.3f}, mean Jaccard "
              f"{r['type_set_jaccard']:.3f}")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
