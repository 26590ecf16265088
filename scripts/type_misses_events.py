"""Sort the wrong-type event items of a seen gold set into general error kinds.

Reads a gold file and the report ``newsflow eval events --gold FILE --json REPORT`` wrote for it
(every item's coded primary), scores each event-bearing item's headline + lead and headline alone
with the classifier of ``--resources`` (the same weights the report was made with), and puts every
item whose coded primary is not its gold primary into exactly one kind:

- ``none: nothing passes``: no type passes its threshold on the headline or headline + lead;
  split by how far the gold type's best calibrated probability is below its threshold
  (``near``: within NEAR, else ``far``);
- ``none: passed, coder dropped``: a type passes, yet the whole coder codes no event (the
  company-only filter, or no sentence the coder anchors it to);
- ``other: gold passes, ranked below``: the gold type passes, another passing type is ranked first;
- ``other: another labelled event``: the gold type does not pass; the coded primary is one of the
  item's other gold events (the labeller chose another of its events as primary);
- ``other: gold does not pass``: the gold type does not pass and the coded type is no gold event;
- ``other: coder differs``: the classifier's own primary is the gold type, the whole coder's is not.

Seen sets only (never a blind set of the current release). No rule changes with it: it counts.

Usage: python scripts/type_misses_events.py --gold FILE --report REPORT [--resources DIR] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import REPO  # noqa: E402
from train_events import OUT, headline_named, primaries  # noqa: E402

from pipelines.nlp.events import NAMED_RULES  # noqa: E402

NEAR = 0.10
KINDS = ("none: nothing passes, near", "none: nothing passes, far", "none: passed, coder dropped",
         "other: gold passes, ranked below", "other: another labelled event", "other: gold does not pass",
         "other: coder differs")


def kind_of(gold: int, coded: int, both: np.ndarray, alone: np.ndarray, has_title: bool, thr: np.ndarray,
            clf_primary: int, other_gold: set[int]) -> str:
    """The error kind of one wrong-type event item (columns: -1 is no event)."""
    passing = (both >= thr) | ((alone >= thr) if has_title else False)
    if coded < 0:
        if not passing.any():
            best = max(both[gold], alone[gold] if has_title else 0.0)
            return KINDS[0] if best >= thr[gold] - NEAR else KINDS[1]
        return KINDS[2]
    if clf_primary == gold:
        return KINDS[6]
    if passing[gold]:
        return KINDS[3]
    return KINDS[4] if coded in other_gold else KINDS[5]


def misses(items: list[dict], coded: dict[str, str], clf, resources: Path = OUT) -> tuple[Counter, Counter, list[dict]]:
    """(kinds, (gold, coded) pairs of wrong-type items, one row per wrong-type item)."""
    col = {t: j for j, t in enumerate(clf.types)}
    events = [i for i in items if i.get("event_type")]
    titles, leads = [i.get("title") or "" for i in events], [i["text"] for i in events]
    both, alone = clf.predict_proba(titles, leads), clf.predict_proba(titles, [""] * len(events))
    has_title = np.array([bool(t) for t in titles])
    key = np.where(has_title[:, None], alone, both)
    named = headline_named(events, resources) if clf.primary_rule in NAMED_RULES else None
    ranked = primaries(both, key, has_title, clf.thresholds, clf.primary_rule, clf.lead_shift, clf.event_gate,
                       clf.ranker, getattr(clf, "headline_shift", 0.0), named)
    kinds, pairs, rows = Counter(), Counter(), []
    for n, item in enumerate(events):
        gold, got = item["event_type"], coded.get(item["id"], "none")
        if got == gold:
            continue
        other = {col[e["event_type"]] for e in item.get("events") or [] if e.get("event_type") in col} - {col[gold]}
        kind = kind_of(col[gold], col.get(got, -1), both[n], alone[n], bool(has_title[n]), clf.thresholds,
                       int(ranked[n]), other)
        kinds[kind] += 1
        pairs[(gold, got)] += 1
        rows.append({"id": item["id"], "gold": gold, "coded": got, "kind": kind})
    return kinds, pairs, rows


def main(argv: list[str] | None = None) -> int:
    from pipelines.nlp.events import EventCoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True, help="newsflow eval events --json of the same gold")
    parser.add_argument("--resources", type=Path, help="the coder's weights the report was made with")
    parser.add_argument("--json", type=Path, help="write the kinds and every wrong-type item here")
    args = parser.parse_args(argv)
    frozen = REPO / "data" / "eval" / (args.gold.stem + ".sha256")
    if frozen.exists() and not (REPO / "data" / "eval" / args.gold.name).exists():
        print(f"type_misses_events: {args.gold.name} is a frozen blind set not scored yet (only its hash, "
              f"{frozen.name}, is in data/eval); not read", file=sys.stderr)
        return 1
    items = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = json.loads(args.report.read_text(encoding="utf-8"))
    coded = {p["id"]: p["primary"] for p in report["predictions"]}
    clf = EventCoder.load(args.resources).classifier
    kinds, pairs, rows = misses(items, coded, clf, args.resources or OUT)
    n_events = sum(1 for i in items if i.get("event_type"))
    print(f"{args.gold.name}: {n_events} event items, {len(rows)} with the wrong type")
    for k in KINDS:
        print(f"  {k}: {kinds[k]}")
    by_source = Counter((r["id"].split("-")[0], r["kind"].split(":")[0]) for r in rows)
    print("by id prefix (none / other): " + ", ".join(
        f"{p} {by_source[(p, 'none')]} / {by_source[(p, 'other')]}" for p in sorted({k[0] for k in by_source})))
    print("most frequent (gold -> coded): " + ", ".join(f"{g} -> {c} {n}" for (g, c), n in pairs.most_common(12)))
    if args.json:
        args.json.write_text(json.dumps({"kinds": dict(kinds), "items": rows}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
