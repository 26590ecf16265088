"""Cross-validation of the event coder grouped by writer and by real-news set, and the blind test.

The training data (scripts/event_data.training_items) falls into groups: the six corpus writers,
the BBC labels, the tuning sets and each seen blind set (v1-v7). For each group a model is
trained on every other group; its Platt maps and thresholds are chosen as for the shipped model
(scripts/train_events.calibrate_real) on the out-of-fold scores of the other groups (those scores
come from models that saw the held-out group, a small optimism in the calibration choice only).
The whole coder (spaCy parse, entity resolver, actors) then codes the held-out group. Printed
per target: macro-F1 over the 16 types, type accuracy on event-bearing items, no-event rate on
sport/entertainment/business/markets items, gold actors found and country accuracy of those
found, per-type ECE and AUC of the calibrated out-of-fold probabilities (corpus), and each
real-news set scored by the model trained without it (seen data: not blind figures).

``--blind FILE ...`` (default: data/eval/events_blind36.jsonl, the blind set of the release after
3.34, frozen and sealed on 2026-12-05; blind v35, 3.34's, v34, 3.33's, v33, 3.32's, v32, 3.31's, v31, 3.30's, v30, 3.28's, v29, 3.27's, v28, 3.26's, v27, 3.25's, v26, 3.23's, v25, 3.22's, v24, 3.21's, v23, 3.19's, v22,
3.14's, and v21, 3.13's, are seen since they were scored, v19 and v20 were lost unscored) are scored by the shipped
model when they exist and match the hash committed beside them (``<stem>.sha256``); otherwise a
line says each was skipped and why. Items near-duplicating an item the shipped weights were
trained on are counted.

``--folds`` (release 2.8) reads the out-of-fold scores and the fold models scripts/fold_events.py
wrote instead of fitting every fold again (a group without a saved model is fitted here).

Usage: nice -n 10 python scripts/cv_events.py [--shared ../shared] [--no-encoder | --encoder NAME] [--folds] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import BBC, DEFAULT_SHARED, EVENT_TYPES, REAL_NEWS_GROUPS, REPO, require, training_items  # noqa: E402
from train_events import (ENCODER, REAL_WEIGHT, CachedEncoder, CachedExtractor, add_encoder_option,  # noqa: E402
                          calibrate_real, calibrated, encoder_folder, encoder_name, extractor_from, label_matrix, load_encoder, out_of_fold)

from pipelines.eval.events import evaluate, load_resolver, predict  # noqa: E402

NOEVENT_CATEGORIES = ("sport", "entertainment", "business", "markets")
# The blind set of the release being measured: v36, for the release after 3.34 (v35, 3.34's, v34, 3.33's, v33, 3.32's, v32, 3.31's, v31, 3.30's, v30, 3.28's, v29, 3.27's, v28, 3.26's, v27, 3.25's, v26, 3.23's, v25, 3.22's, v24, 3.21's, v23, 3.19's, v22,
# 3.14's, and v21, 3.13's, are seen since they were scored; v19 and v20 were lost unscored). Seen blind sets
# are training data and are scored as held-out groups of the CV, never as blind; none here means
# none is frozen.
BLIND: tuple[Path, ...] = (REPO / "data" / "eval" / "events_blind36.jsonl",)


def auc(score: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (rank form; 0.5 for a single class)."""
    pos, neg = score[y == 1], score[y == 0]
    if not len(pos) or not len(neg):
        return 0.5
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def ece(prob: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width bins."""
    idx = np.minimum((prob * bins).astype(int), bins - 1)
    return float(sum(abs(prob[idx == b].sum() - y[idx == b].sum()) for b in range(bins)) / len(prob))


def summary(items: list[dict], report: dict) -> dict:
    """The issue's targets from an evaluate() report."""
    preds = {p["id"]: p for p in report["predictions"]}
    event_items = [i for i in items if i.get("event_type")]
    acc = sum(preds[i["id"]]["primary"] == i["event_type"] for i in event_items) / max(1, len(event_items))
    noevent = [i for i in items if not i.get("event_type") and i.get("category") in NOEVENT_CATEGORIES]
    rate = sum(preds[i["id"]]["primary"] == "none" for i in noevent) / max(1, len(noevent))
    all16 = sum(report["per_type"].get(t, {"f1": 0.0})["f1"] for t in EVENT_TYPES) / len(EVENT_TYPES)
    ac = report["actor_country"]
    return {"items": len(items), "macro_f1_16": all16, "event_accuracy": acc, "event_items": len(event_items),
            "noevent_rate": rate, "noevent_items": len(noevent), "actors_found": ac["coverage"],
            "actor_country": ac["accuracy"], "gold_actors": ac["gold_actors"], "matched": ac["matched"],
            "primary_accuracy": report["primary_accuracy"]}


def print_summary(name: str, s: dict) -> None:
    print(f"{name}: {s['items']} items")
    print(f"  macro-F1 over the 16 types:            {s['macro_f1_16']:.3f}   (target >= 0.60)")
    print(f"  type accuracy, event-bearing items:    {s['event_accuracy']:.3f}   (target >= 0.70; {s['event_items']} items)")
    print(f"  no event, sport/entertainment/business/markets: {s['noevent_rate']:.3f}   "
          f"(target >= 0.95; {s['noevent_items']} items)")
    print(f"  gold actors found:                     {s['actors_found']:.3f}   (target >= 0.70; "
          f"{s['matched']}/{s['gold_actors']})")
    print(f"  actor country, of those found:         {s['actor_country']:.3f}   (target >= 0.85)")
    print(f"  primary_event_type accuracy (none incl.): {s['primary_accuracy']:.3f}")


def ranking_by_type(classifier, items: list[dict]) -> dict:
    """Per type: AUC and ECE of the calibrated article-level probability against "the item carries it".

    The probability is the coder's own (headline + lead, and the headline alone; the larger).
    """
    titles = [i.get("title") or "" for i in items]
    leads = [i.get("text") or "" for i in items]
    both = classifier.predict_proba(titles, leads)
    alone = classifier.predict_proba(titles, [""] * len(items))
    has_title = np.array([bool(t) for t in titles])[:, None]
    prob = np.where(has_title, np.maximum(both, alone), both)
    out = {}
    for j, etype in enumerate(classifier.types):
        y = np.array([etype in {e["event_type"] for e in i.get("events") or []} for i in items], dtype=int)
        out[etype] = {"positives": int(y.sum()), "auc": auc(prob[:, j], y), "ece": ece(prob[:, j], y)}
    return out


def print_ranking(per_type: dict) -> None:
    print("  confidence by type (calibrated probability vs the item carrying the type):")
    for etype, f in per_type.items():
        print(f"    {etype:<10} AUC {f['auc']:.3f}  ECE {f['ece']:.3f}  ({f['positives']} items carry it)")


def saved_folds(items: list[dict], extractor, encoder, C: float, real_weight: float, log=print,
                encoder_short: str = ENCODER):
    """Release 2.8, ``--folds``: out_of_fold's (both, alone, models) from what
    scripts/fold_events.py wrote for these items (C, real-news weight, the encoder): the
    out-of-fold scores from its oof.npz, each group's fold model from its folder when saved (the
    same deterministic fit, weights stored as float32), a group without one fitted here as
    out_of_fold does. None when oof.npz is missing or was written for other items."""
    from loso_events import CACHE
    from train_events import fit, load_fold

    folder = CACHE / encoder_folder(C, real_weight, encoder_short)
    if not (folder / "oof.npz").exists():
        return None
    with np.load(folder / "oof.npz") as f:
        if list(f["ids"]) != [i["id"] for i in items]:
            return None
        both, alone = f["both"], f["alone"]
    models = {}
    for g in sorted({i["group"] for i in items}):
        t0 = time.time()
        if (folder / g / "classifier.json").exists():
            models[g] = load_fold(folder / g, extractor, encoder)
            log(f"  fold {g}: model read from {folder / g}")
        else:
            models[g] = fit([i for i in items if i["group"] != g], extractor, encoder, C, 1.0, real_weight)
            log(f"  fold {g}: no saved model, fitted here ({time.time() - t0:.0f}s)")
    return both, alone, models


def code_items(coder, items, nlp, resolver) -> list[dict]:
    return predict(items, nlp=nlp, coder=coder, resolver=resolver)


def score_blind(path: Path, shared: Path, nlp, resolver) -> dict | None:
    """Score one blind file with the shipped model and print its figures (None when absent)."""
    from pipelines.eval.dedup import ShingleIndex, item_text
    from pipelines.eval.events import read_gold
    from pipelines.nlp.events import EventCoder

    import hashlib

    shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    digest_file = path.with_suffix(".sha256")
    if not path.exists():
        frozen = f" (its hash {digest_file.name} is committed; the set itself is not here yet)" if digest_file.exists() else ""
        if (REPO / "data" / "eval" / "sealed" / (path.name + ".sealed")).exists():
            frozen += (f"; it is sealed in data/eval/sealed/: `python scripts/seal_blind.py open {path.name}`"
                       " once, when the release is scored")
        print(f"\nBlind test: skipped, {shown} is not in this checkout{frozen}")
        return None
    if digest_file.exists():
        digest = digest_file.read_text(encoding="utf-8").split()[0]
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            print(f"\nBlind test: skipped, {shown} does not match the hash in {digest_file.name}")
            return None
    blind = read_gold(path)
    from pipelines.resources import resource_path

    # the groups the shipped weights were trained without (a blind set seen since it was scored)
    meta = json.loads(resource_path("events/classifier.json").read_text(encoding="utf-8"))
    left_out = set(meta.get("left_out", []))
    train_index = ShingleIndex([item_text(i) for i in training_items(shared) if i["group"] not in left_out])
    dups = [b["id"] for b in blind if train_index.matches(item_text(b))]
    coder = EventCoder.load()
    figures = summary(blind, evaluate(blind, code_items(coder, blind, nlp, resolver)))
    print_summary(f"\nBlind test ({path.name}, shipped model; {len(dups)} items near-duplicate "
                  f"an item the shipped weights were trained on)", figures)
    figures["per_type"] = ranking_by_type(coder.classifier, blind)
    print_ranking(figures["per_type"])
    return figures


def main(argv: list[str] | None = None) -> int:
    from pipelines.nlp.events import EventCoder
    from pipelines.nlp.ner import load_nlp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--C", type=float, default=2.0)
    parser.add_argument("--embed-scale", type=float, default=1.0)
    parser.add_argument("--real-weight", type=float, default=REAL_WEIGHT, help="weight of real-news rows in training")
    parser.add_argument("--no-encoder", action="store_true")
    add_encoder_option(parser)
    parser.add_argument("--blind", type=Path, nargs="*", default=list(BLIND),
                        help="blind sets to score with the shipped model (default: data/eval/events_blind36.jsonl)")
    parser.add_argument("--skip-cv", action="store_true", help="only the blind test")
    parser.add_argument("--folds", action="store_true",
                        help="read the out-of-fold scores and fold models scripts/fold_events.py wrote "
                             "(fit only the groups without a saved model) instead of fitting every fold")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    require(args.shared, BBC)
    t0 = time.time()
    nlp, resolver = load_nlp(), load_resolver()
    figures: dict = {}
    if not args.skip_cv:
        encoder = None if args.no_encoder else CachedEncoder(load_encoder(encoder_name(args.encoder)))
        items = training_items(args.shared)
        extractor = CachedExtractor(extractor_from())
        groups = sorted({i["group"] for i in items})
        log = lambda m: print(m + f" ({time.time() - t0:.0f}s)", file=sys.stderr)  # noqa: E731
        folds = None
        if args.folds:
            if encoder is None or args.embed_scale != 1.0:
                print("cv_events: --folds reads fold_events.py's folds (encoder on, embed scale 1)", file=sys.stderr)
                return 2
            folds = saved_folds(items, extractor, encoder, args.C, args.real_weight, log, args.encoder)
            if folds is None:
                print("cv_events: --folds: no oof.npz for these items; run scripts/fold_events.py "
                      "(every --group, then --merge)", file=sys.stderr)
                return 1
        both, alone, models = folds or out_of_fold(items, extractor, encoder, args.C, args.embed_scale,
                                                   args.real_weight, log=log)
        shipped = EventCoder.load()
        coded: dict[str, tuple[list, list]] = {}
        oof_prob, oof_y = [], []
        for g in groups:
            keep = np.array([i["group"] != g for i in items])
            test = [i for i in items if i["group"] == g]
            calibrate_real(models[g], both[keep], alone[keep], [i for i, k in zip(items, keep) if k])
            coder = EventCoder(models[g], shipped.verbs, shipped.strong_verbs, shipped.actors)
            coded[g] = (test, code_items(coder, test, nlp, resolver))
            if g not in REAL_NEWS_GROUPS:
                oof_prob.append(calibrated(models[g].platt, both[~keep]))
                oof_y.append(label_matrix(test))
        writers = [g for g in groups if g not in REAL_NEWS_GROUPS]
        all_items = [i for g in writers for i in coded[g][0]]
        all_preds = [p for g in writers for p in coded[g][1]]
        figures["cv"] = summary(all_items, evaluate(all_items, all_preds))
        print(f"\nencoder: {'none (TF-IDF only)' if encoder is None else encoder.name}, C = {args.C}, "
              f"real-news weight {args.real_weight:g}")
        print_summary("Grouped CV over the corpus (each writer scored by a model trained on every other group)",
                      figures["cv"])
        for w in writers:
            s = summary(coded[w][0], evaluate(*coded[w]))
            print(f"    {w}: macro-F1 {s['macro_f1_16']:.3f}, event accuracy {s['event_accuracy']:.3f}, "
                  f"no-event {s['noevent_rate']:.3f}")
        prob, y = np.vstack(oof_prob), np.vstack(oof_y)
        print("  calibration of the out-of-fold probabilities (per type):  type  AUC  ECE")
        figures["calibration"] = {}
        for j, t in enumerate(EVENT_TYPES):
            figures["calibration"][t] = {"auc": auc(prob[:, j], y[:, j]), "ece": ece(prob[:, j], y[:, j])}
            print(f"    {t:<10} {figures['calibration'][t]['auc']:.3f}  {figures['calibration'][t]['ece']:.3f}")
        # Each real-news set (training data, not blind), scored by the model trained without it.
        for g in [g for g in groups if g in REAL_NEWS_GROUPS]:
            figures.setdefault("real_news", {})[g] = summary(coded[g][0], evaluate(*coded[g]))
            print_summary(f"\nReal-news set {g} (seen; scored by a model trained on every other group)",
                          figures["real_news"][g])
    if not args.blind:
        print("\nBlind test: none given (docs/blind-sets.md makes one); --blind FILE scores a file")
    for path in args.blind:
        figures.setdefault("blind", {})[path.name] = score_blind(path, args.shared, nlp, resolver)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print(f"({time.time() - t0:.0f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
