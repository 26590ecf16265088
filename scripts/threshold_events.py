"""Compare threshold recipes and primary rules of the event classifier by leaving one real-news set
out, from the grouped out-of-fold scores alone (releases 2.6 and 2.7).

Reads the out-of-fold cache scripts/fold_events.py --merge (or scripts/loso_events.py) writes
for the current training items. For each seen real-news set (blind v1..v7, dev + tune) held out
in turn, each recipe's Platt maps, thresholds and options (and with the rule "ranker", the
primary ranker: release 2.7) are chosen by train_events.calibrate_real on the out-of-fold scores
of every other group only, and the held-out
set's own out-of-fold scores (from the fold model trained without it: the scores
``loso_events.py --quick`` computes again from the saved fold model) give its primary types
through train_events.primaries: the classifier alone, no parse, so the company-only filter is
not applied. Printed first: where a recipe (``--misses``, default 2.6's "headline rank") misses
the type of event items of each held-out set (no event coded, or another type; and whether the
gold type passed its threshold at all). Printed last: release 2.7's keep rule, each recipe
against "headline rank" (KEEP_RULE).

Usage: nice -n 19 python scripts/threshold_events.py [--shared ../shared] [--C 2] [--real-weight 2]
       [--encoder wordllama] [--recipes NAME ...] [--misses NAME ...] [--json FILE] [--leave-out GROUP ...]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import BBC, DEFAULT_SHARED, EVENT_TYPES, require, training_items  # noqa: E402
from loso_events import CACHE, HELD_OUT, NAMES  # noqa: E402
from train_events import (REAL_WEIGHT, add_encoder_option, add_headline_rows_option, calibrate_real, calibrated, encoder_folder,  # noqa: E402
                          gold_columns, headline_named, leave_out, noevent_mask, primaries, target_figures)

from pipelines.nlp.events import NAMED_RULES, TypeClassifier  # noqa: E402

# name -> calibrate_real options (rule, shift_grid, objective, event_gate[, headline_platt])
RECIPES = {
    "2.5": ("headline", "raise", "sum", False),
    "a: shift may lower": ("headline", "both", "sum", False),
    "b: no-event floor": ("headline", "raise", "noevent", False),
    "a+b": ("headline", "both", "noevent", False),
    # release 2.4's option: headlines scored alone get Platt maps of their own
    "headline Platt maps": ("headline", "raise", "sum", False, True),
    # With a gate the primary no longer depends on the shift (probability: not at all; margin:
    # one shift for every type moves every margin alike, and the gate follows), so the shift
    # grid is not varied.
    "c: gate (probability)": ("headline", "raise", "noevent", True),
    "c: gate (margin)": ("margin", "raise", "noevent", True),
    "c, objective sum: gate (probability)": ("headline", "raise", "sum", True),
    # the passing types ranked by the headline's own probability (codebook §4; release 2.6)
    "headline rank": ("headline-rank", "raise", "sum", False),
    # release 2.7 option: the passing types ranked by a learned ranker (train_events.fit_ranker)
    "ranker": ("ranker", "raise", "sum", False),
    # release 2.8 option: the same ranker with the shift held at headline-rank's (calibrate_real's
    # shift_rule): the thresholds are the ones "headline rank" chooses, only the order changes
    "ranker, shift of headline rank": ("ranker", "raise", "sum", False, False, "headline-rank"),
    # release 3.2 option: the same, with the headline's own passing types first (codebook §4)
    "ranker-headline, shift of headline rank": ("ranker-headline", "raise", "sum", False, False, "headline-rank"),
    # release 3.4 option: the same, and the headline's own probability orders the types when the
    # headline alone passes none (as headline rank)
    "ranker-headline-rank, shift of headline rank": ("ranker-headline-rank", "raise", "sum", False, False, "headline-rank"),
    # release 3.5 option: ranker-headline with a headline shift (train_events.headline_shift_for)
    "ranker-headline, headline shift": ("ranker-headline", "raise", "sum", False, False, "headline-rank", True),
    # release 3.9 option: the same, and the passing types a reliable verb of the headline names first
    "ranker-headline-verb, headline shift": ("ranker-headline-verb", "raise", "sum", False, False, "headline-rank", True),
    # release 3.10 option: the headline's verb only where the headline alone counts no passing type its own
    "ranker-headline-verb-fallback, headline shift": ("ranker-headline-verb-fallback", "raise", "sum", False, False,
                                                      "headline-rank", True),
    # release 3.11 option: the headline's verb orders the headline's own passing types when it counts any
    "ranker-headline-verb-own, headline shift": ("ranker-headline-verb-own", "raise", "sum", False, False,
                                                 "headline-rank", True),
    # release 3.12 options: the ranker also reads the types the headline's reliable verbs name,
    # with 3.10's fallback rule beside it, or with no verb rule (3.5's ranker-headline)
    "ranker-headline-verb-feature, headline shift": ("ranker-headline-verb-feature", "raise", "sum", False, False,
                                                     "headline-rank", True),
    "ranker-headline-feature, headline shift": ("ranker-headline-feature", "raise", "sum", False, False,
                                                "headline-rank", True),
    # release 3.13 options: 3.12's recipe with the shift chosen for macro-F1 + type accuracy under a
    # floor on the mean of the real-news sets' own no-event rates (0.955, 0.965), free to lower
    "ranker-headline-verb-feature, headline shift, set floor": ("ranker-headline-verb-feature", "both", "noevent-sets",
                                                                False, False, "headline-rank", True),
    "ranker-headline-verb-feature, headline shift, high set floor": ("ranker-headline-verb-feature", "both",
                                                                     "noevent-sets-high", False, False,
                                                                     "headline-rank", True),
    # release 3.15 option: 3.13's recipe with the headline shift's grid widened to 0-0.4
    "ranker-headline-verb-feature, headline shift to 0.4, set floor": ("ranker-headline-verb-feature", "both",
                                                                       "noevent-sets", False, False,
                                                                       "headline-rank", 0.4),
    # release 3.28 options: 3.13's recipe with the shift chosen by the shipped rule's own primaries
    # (the ranker with the headline's verb types) instead of headline-rank's, under the set floor
    # (0.955) or the high set floor (0.965)
    "ranker-headline-verb-feature, own shift, headline shift, set floor": ("ranker-headline-verb-feature", "both",
                                                                           "noevent-sets", False, False, None, True),
    "ranker-headline-verb-feature, own shift, headline shift, high set floor": (
        "ranker-headline-verb-feature", "both", "noevent-sets-high", False, False, None, True),
    # release 3.29 option: 3.28's candidate A with each threshold shift scored with the headline
    # shift it would get (train_events.joint_shifts), under the set floor (0.955)
    "ranker-headline-verb-feature, joint shifts, set floor": ("ranker-headline-verb-feature", "both", "noevent-sets",
                                                              False, False, None, True, True),
    # release 3.30 options: 3.28's recipe (K) and 3.29's candidate J (JK) with the ranker fitted over
    # each item's passing types only (train_events.fit_choice_ranker)
    "ranker-headline-verb-feature, choice ranker, headline shift, set floor": (
        "ranker-headline-verb-feature", "both", "noevent-sets", False, False, "headline-rank", True, False, "choice"),
    "ranker-headline-verb-feature, choice ranker, joint shifts, set floor": (
        "ranker-headline-verb-feature", "both", "noevent-sets", False, False, None, True, True, "choice"),
}
# Release 2.7's keep rule, fixed before the runs (docs/eval-events.md, "Release 2.7 classifier"):
# against BASELINE on the same data, the mean type accuracy over the held-out sets rises by at
# least 0.005, and neither the mean no-event rate nor the mean macro-F1 falls by more than 0.003.
BASELINE = "headline rank"
KEEP_RULE = {"event_accuracy": 0.005, "noevent_rate": -0.003, "macro_f1_16": -0.003}
KEYS = ("macro_f1_16", "event_accuracy", "noevent_rate", "primary_accuracy")


def blank_classifier() -> TypeClassifier:
    """A TypeClassifier holding only what calibrate_real sets (the arrays stand in for the model)."""
    k = len(EVENT_TYPES)
    return TypeClassifier(EVENT_TYPES, {}, np.zeros(0), None, np.zeros(k), np.tile([1.0, 0.0], (k, 1)),
                          np.full(k, 0.5), None, None)


def held_out_primaries(items, both, alone, g, recipe) -> tuple[np.ndarray, TypeClassifier, np.ndarray]:
    """(primary columns of set ``g``, the calibrated stand-in, the set's calibrated probabilities)."""
    rule, grid, objective, gate, headline_platt, shift_rule, headline_shift, joint, ranker_fit = \
        (tuple(recipe) + (False, None, False, False, "all")[len(recipe) - 4:])[:9]
    keep = np.array([i["group"] != g for i in items])
    named = headline_named(items) if rule in NAMED_RULES else None
    clf = calibrate_real(blank_classifier(), both[keep], alone[keep], [i for i, k in zip(items, keep) if k], rule,
                         "shift", headline_platt, grid, objective, gate, shift_rule, headline_shift,
                         None if named is None else named[keep], joint, ranker_fit)
    test = [i for i in items if i["group"] == g]
    has_title = np.array([bool(i.get("title")) for i in test])
    pb = calibrated(clf.platt, both[~keep])
    pa = calibrated(clf.platt if clf.platt_alone is None else clf.platt_alone, alone[~keep])
    prim = primaries(pb, pa, has_title, clf.thresholds, rule, clf.lead_shift, clf.event_gate, clf.ranker,
                     clf.headline_shift, None if named is None else named[~keep])
    return prim, clf, np.maximum(pb, np.where(has_title[:, None], pa, 0.0))


def misses(items, both, alone, recipe: str = BASELINE, held_out: tuple = HELD_OUT) -> dict:
    """Type-accuracy misses of event items under ``recipe``, per held-out set."""
    out = {}
    print(f"Where the recipe {recipe!r} misses the type of event items (held-out set, classifier alone):")
    print("| set | event items | right type | no event coded | other type | gold type passed its threshold, "
          "another ranked first |")
    print("|---|---|---|---|---|---|")
    for g in held_out:
        prim, clf, best = held_out_primaries(items, both, alone, g, RECIPES[recipe])
        gold = gold_columns([i for i in items if i["group"] == g])
        ev = gold >= 0
        none = int((ev & (prim == -1)).sum())
        other = ev & (prim >= 0) & (prim != gold)
        gold_passed = int(sum(best[n, gold[n]] >= clf.thresholds[gold[n]] for n in np.flatnonzero(other)))
        out[g] = {"event_items": int(ev.sum()), "right": int((ev & (prim == gold)).sum()), "none": none,
                  "other": int(other.sum()), "other_gold_passed": gold_passed}
        r = out[g]
        print(f"| {NAMES[g]} | {r['event_items']} | {r['right']} | {none} ({none / r['event_items']:.3f}) | "
              f"{r['other']} ({r['other'] / r['event_items']:.3f}) | {gold_passed} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--C", type=float, default=2.0)
    parser.add_argument("--real-weight", type=float, default=REAL_WEIGHT)
    add_encoder_option(parser)
    add_headline_rows_option(parser)
    parser.add_argument("--recipes", nargs="*", choices=tuple(RECIPES), default=list(RECIPES),
                        help="recipes to compare (default: all)")
    parser.add_argument("--misses", nargs="*", choices=tuple(RECIPES), default=[BASELINE],
                        help=f"recipes whose type misses are tabled first (default: {BASELINE})")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--leave-out", nargs="*", default=[], metavar="GROUP",
                        help="training groups the fold cache was written without (a blind set seen since, "
                             "as train_events.py --leave-out); they are neither trained on nor held out")
    args = parser.parse_args(argv)
    require(args.shared, BBC)
    t0 = time.time()
    items = leave_out(training_items(args.shared), args.leave_out)
    held = tuple(g for g in HELD_OUT if g not in args.leave_out)
    path = CACHE / encoder_folder(args.C, args.real_weight, args.encoder, args.headline_rows) / "oof.npz"
    if not path.exists():
        print(f"threshold_events: {path} is missing; run scripts/fold_events.py (every --group, then --merge) "
              "or scripts/loso_events.py first", file=sys.stderr)
        return 1
    with np.load(path) as f:
        if list(f["ids"]) != [i["id"] for i in items]:
            print(f"threshold_events: {path} was written for other training items; rerun the folds", file=sys.stderr)
            return 1
        both, alone = f["both"], f["alone"]
    out = {"misses": {}, "recipes": {}}
    for name in args.misses:
        out["misses"][name] = misses(items, both, alone, name, held)
        print()
    for name in args.recipes:
        rows = {}
        for g in held:
            prim, clf, _ = held_out_primaries(items, both, alone, g, RECIPES[name])
            test = [i for i in items if i["group"] == g]
            gold = gold_columns(test)
            f1, acc, rate = target_figures(prim, gold, noevent_mask(test))
            rows[g] = {"macro_f1_16": f1, "event_accuracy": acc, "noevent_rate": rate,
                       "primary_accuracy": float((prim == gold).mean()),
                       "shift": float(np.round(clf.thresholds - calibrate_start(items, both, g), 3).mean()),
                       "event_gate": clf.event_gate, "headline_shift": clf.headline_shift}
        rows["mean"] = {k: float(np.mean([rows[g][k] for g in held])) for k in KEYS}
        out["recipes"][name] = rows
        print(f"\n{name} (rule {RECIPES[name][0]}, shift grid {RECIPES[name][1]}, objective {RECIPES[name][2]}"
              f"{', event gate' if RECIPES[name][3] else ''}): macro-F1 / type accuracy / no event / primary accuracy"
              f" ({time.time() - t0:.0f}s)")
        for g in held + ("mean",):
            r = rows[g]
            extra = "" if g == "mean" else (f"  shift {r['shift']:+.3f}"
                                            + ("" if r["event_gate"] is None else f", gate {r['event_gate']:.3f}")
                                            + (f", headline shift {r['headline_shift']:.3f}" if r["headline_shift"] else ""))
            print(f"  {NAMES.get(g, g):<11} " + " / ".join(f"{r[k]:.3f}" for k in KEYS) + extra)
    print("\n| recipe (mean of " + ", ".join(NAMES[g] for g in held) + ") | macro-F1 | type accuracy | "
          "no event | primary accuracy |")
    print("|---|---|---|---|---|")
    for name, rows in out["recipes"].items():
        print(f"| {name} | " + " | ".join(f"{rows['mean'][k]:.3f}" for k in KEYS) + " |")
    if BASELINE in out["recipes"]:
        out["keep"] = keep_decisions(out["recipes"])
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


def keep_decisions(recipes: dict) -> dict:
    """Release 2.7's keep rule (KEEP_RULE) for every recipe against BASELINE, printed."""
    base = recipes[BASELINE]["mean"]
    out = {}
    print(f"\nKeep rule (against {BASELINE!r}, means over the held-out sets): type accuracy "
          f"+{KEEP_RULE['event_accuracy']:.3f} or more, no event and macro-F1 down {-KEEP_RULE['noevent_rate']:.3f} at most")
    for name, rows in recipes.items():
        if name == BASELINE:
            continue
        delta = {k: rows["mean"][k] - base[k] for k in KEEP_RULE}
        keep = (delta["event_accuracy"] >= KEEP_RULE["event_accuracy"] - 1e-9
                and all(delta[k] >= KEEP_RULE[k] - 1e-9 for k in ("noevent_rate", "macro_f1_16")))
        out[name] = {"delta": delta, "keep": keep}
        print(f"  {name}: type accuracy {delta['event_accuracy']:+.4f}, no event {delta['noevent_rate']:+.4f}, "
              f"macro-F1 {delta['macro_f1_16']:+.4f}: {'keep' if keep else 'not kept'}")
    return out


_STARTS: dict[str, np.ndarray] = {}


def calibrate_start(items, both, g) -> np.ndarray:
    """The F1 thresholds (before any shift) chosen without set ``g``: to print the shift picked."""
    if g not in _STARTS:
        clf = calibrate_real(blank_classifier(), *_without(items, both, g), tune_on="f1")
        _STARTS[g] = clf.thresholds
    return _STARTS[g]


def _without(items, both, g):
    keep = np.array([i["group"] != g for i in items])
    return both[keep], both[keep], [i for i, k in zip(items, keep) if k]


if __name__ == "__main__":
    raise SystemExit(main())
