"""Fit the event confidence calibration on the hand-labelled real-news tuning set.

Every item of ``data/eval/events_tune_real.jsonl`` the coder gives a primary type is one
observation, scored as ``newsflow eval events`` scores calibration: the raw probability (the
classifier's, after the verb boost) of the best event of that type, and whether the type is the
item's labelled one (a no-event item's is always wrong). A Platt map - logistic regression on the log-odds
of the raw probability, its slope kept at zero or above - turns one into the chance of the
other; its slope and intercept are
written to ``pipelines/resources/events/calibration.json``, which ``EventCoder.load`` applies to
the ``confidence`` of every event. The dev set is not used.

Usage: python scripts/calibrate_events.py [--tune FILE] [--out pipelines/resources/events/calibration.json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import REPO  # noqa: E402

from pipelines.eval.events import load_resolver, expected_calibration_error, parse_items, read_gold  # noqa: E402
from pipelines.nlp.events import EventCoder  # noqa: E402

OUT = REPO / "pipelines" / "resources" / "events" / "calibration.json"


def main(argv: list[str] | None = None) -> int:
    """Fit and write the calibration."""
    from sklearn.linear_model import LogisticRegression

    from pipelines.nlp.ner import load_nlp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", type=Path, default=REPO / "data" / "eval" / "events_tune_real.jsonl")
    parser.add_argument("--resources", type=Path, help="coder weights and dictionaries (default: shipped)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    items = read_gold(args.tune)
    coder = EventCoder.load(args.resources)
    coder.calibration = None   # fit on raw probabilities
    raw, correct = [], []
    for item, (title_doc, body_doc, entities, published) in zip(items, parse_items(items, load_nlp(), load_resolver())):
        events, primary = coder.code(title_doc, body_doc, entities, published)
        if primary is not None:
            raw.append(max(e["confidence"] for e in events if e["event_type"] == primary))
            correct.append(primary == item["event_type"])
    raw_p, hits = np.clip(np.array(raw), 1e-6, 1 - 1e-6), np.array(correct, dtype=float)
    if len(set(correct)) < 2:
        print(f"calibrate_events: need right and wrong items, got {len(raw)} coded items", file=sys.stderr)
        return 2
    logit = np.log(raw_p / (1 - raw_p)).reshape(-1, 1)
    platt = LogisticRegression(C=1e4).fit(logit, hits)
    slope, intercept = float(platt.coef_[0][0]), float(platt.intercept_[0])
    if slope < 0:
        # A higher probability must not mean a lower confidence: with no usable ordering in this
        # data, the map is the base rate of right events.
        rate = float(hits.mean())
        slope, intercept = 0.0, float(np.log(rate / (1 - rate)))
    fitted = 1 / (1 + np.exp(-(slope * logit[:, 0] + intercept)))
    before = expected_calibration_error(raw_p.tolist(), hits.tolist())
    after = expected_calibration_error(fitted.tolist(), hits.tolist())
    args.out.write_text(json.dumps({
        "slope": round(slope, 6), "intercept": round(intercept, 6), "fitted_on": args.tune.name,
        "coded_items": len(raw), "right": int(hits.sum()),
        "ece_before": round(before, 4), "ece_after": round(after, 4)}, indent=1) + "\n", encoding="utf-8")
    print(f"{len(raw)} coded items of {len(items)}, {int(hits.sum())} of the labelled type; "
          f"slope {slope:.3f}, intercept {intercept:.3f}; ECE on these items {before:.3f} -> {after:.3f} "
          f"(in-sample); wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
