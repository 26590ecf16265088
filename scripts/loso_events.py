"""Leave one real-news set out: release 2.2 against the 2.3 candidate on each seen real-news set.

For each of blind v1, blind v2, blind v3 and dev + tune (the tuning sets) the set is held out:

- **2.2**: the training data and thresholds of release 2.2 (corpus, BBC labels, tuning sets;
  Platt maps and per-type F1 thresholds from the corpus writers' out-of-fold scores). The blind
  sets were never in its training, so the 2.2 classifier (read from git history, commit
  RELEASE_22) scores them; for dev + tune a model is fitted without them and given 2.2's Platt
  maps and thresholds.
- **2.3**: every group of the 2.3 training data except the held-out set (corpus writers, BBC
  labels, tuning sets, seen blind sets) trains the model; Platt maps and thresholds are chosen
  on the out-of-fold scores of the other groups only (grouped CV, each writer and each set a
  group; those scores come from models that saw the held-out set, a small optimism in the
  choice of thresholds only), as scripts/train_events.py does for the shipped model.

Both are scored with the whole coder (spaCy parse, entity resolver, actors), as
``newsflow eval events`` would: macro-F1 over the 16 types, type accuracy on event items, the
no-event rate on sport/entertainment/business/markets items and primary accuracy ("none"
counted). The grouped out-of-fold scores, the fold models and 2.2's model without dev + tune are
cached under out/loso_events/ (per C, real-news weight and encoder; delete the folder after a
change to the data or features), so a second run only codes.

``--against RULE`` (release 2.7): the first column is not release 2.2 but the same fold models,
Platt maps and threshold recipe with another primary rule (e.g. ``--rule ranker --against
headline-rank``): two rules through the whole coder from one parse of each set.

``--shift-rule RULE`` (release 2.9): the rule whose primaries choose the threshold shift of
``--rule``'s recipe, as ``train_events.py --shift-rule`` (release 2.8 ships ``--rule ranker
--shift-rule headline-rank``; ``--against headline-rank`` then has the same thresholds and only
the order of the passing types differs).

Usage: nice -n 10 python scripts/loso_events.py [--shared ../shared] [--C 2] [--real-weight 1]
       [--rule headline|margin|headline-rank|ranker] [--shift-grid raise|both] [--objective sum|noevent] [--event-gate]
       [--against RULE] [--shift-rule RULE] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import BBC, DEFAULT_SHARED, REPO, SEEN_BLIND, is_corpus, require, training_items  # noqa: E402
from train_events import (HEADLINE_PLATT, REAL_WEIGHT, RULES, TUNE_ON, VECTORS, CachedEncoder, CachedExtractor, PRIMARY_RULE, calibrate_real, calibrated,  # noqa: E402
                          add_encoder_option, add_threshold_options, encoder_folder, encoder_name, extractor_from,
                          fit, fold_fingerprint, load_encoder, gold_columns, headline_named, load_fold, noevent_mask, out_of_fold, primaries,
                          save, target_figures)

from pipelines.nlp.events import FEATURE_RULES, NAMED_RULES  # noqa: E402

HELD_OUT = tuple(name for name, _ in SEEN_BLIND) + ("tune",)
NAMES = {"blind1": "blind v1", "blind2": "blind v2", "blind3": "blind v3", "blind4": "blind v4", "blind5": "blind v5",
         "blind6": "blind v6", "blind7": "blind v7", "blind8": "blind v8", "blind9": "blind v9", "blind10": "blind v10", "blind11": "blind v11", "blind12": "blind v12", "blind13": "blind v13", "blind14": "blind v14", "blind15": "blind v15", "blind16": "blind v16", "blind17": "blind v17", "blind18": "blind v18", "blind21": "blind v21", "blind22": "blind v22", "blind23": "blind v23", "blind24": "blind v24", "blind25": "blind v25", "blind26": "blind v26", "blind27": "blind v27", "blind28": "blind v28", "blind29": "blind v29", "blind30": "blind v30", "blind31": "blind v31", "blind32": "blind v32", "blind33": "blind v33", "blind34": "blind v34", "blind35": "blind v35", "tune": "dev + tune"}
CACHE = REPO / "out" / "loso_events"
RELEASE_22 = "2dc61fb"   # a commit whose classifier is release 2.2's (trained for 2.0, unchanged in 2.1/2.2)


def grouped_scores(items, args, extractor, encoder, log=print):
    """Out-of-fold decisions of every item, and the fold models of the held-out sets (cached)."""
    folder = CACHE / grouped_tag(args, encoder is not None)
    ids = [i["id"] for i in items]
    path = folder / "oof.npz"
    if path.exists():
        with np.load(path) as f:
            if list(f["ids"]) == ids:
                log(f"out-of-fold scores from {path.relative_to(REPO)}")
                return f["both"], f["alone"], {g: load_fold(folder / g, extractor, encoder) for g in HELD_OUT}
    both, alone, models = out_of_fold(items, extractor, encoder, args.C, real_weight=args.real_weight, log=log)
    for g in HELD_OUT:
        save(models[g], folder / g)
    np.savez(path, ids=np.array(ids), both=both, alone=alone,   # release 3.23: train_events checks the fingerprint
             fingerprint=np.array(fold_fingerprint(items, None if encoder is None else encoder.name, args.C, 1.0,
                                                   args.real_weight, False)))
    return both, alone, {g: load_fold(folder / g, extractor, encoder) for g in HELD_OUT}


def grouped_tag(args, encoder: bool = True) -> str:
    """The cache folder name of the grouped out-of-fold scores for these settings."""
    base = encoder_folder(args.C, args.real_weight, args.encoder) if encoder else f"C{args.C:g}-w{args.real_weight:g}-tfidf"
    return base + ('' if args.hard_negatives else '-nohn')


def release_22(extractor, encoder):
    """The classifier of release 2.2 (weights of 2.0), read from the git history of this repository."""
    import subprocess

    folder = CACHE / "release-2.2"
    if not (folder / "classifier.npz").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("classifier.npz", "classifier.json"):
            blob = subprocess.run(["git", "-C", str(REPO), "show", f"{RELEASE_22}:pipelines/resources/events/{name}"],
                                  check=True, capture_output=True).stdout
            (folder / name).write_bytes(blob)
    return load_fold(folder, extractor, encoder)


def recipe_classifier(model, both, alone, items, args):
    """``model`` with Platt maps and thresholds of ``args``' recipe (``--rule``, and ``--shift-rule``
    for the shift) chosen on the given out-of-fold scores (train_events.calibrate_real)."""
    return calibrate_real(model, both, alone, items, args.rule, args.tune_on, args.headline_platt, args.shift_grid,
                          args.objective, args.event_gate, getattr(args, "shift_rule", None))


def figures(items, preds) -> dict:
    from cv_events import summary

    from pipelines.eval.events import evaluate

    s = summary(items, evaluate(items, preds))
    return {k: s[k] for k in ("macro_f1_16", "event_accuracy", "noevent_rate", "primary_accuracy",
                              "items", "event_items", "noevent_items")}


def main(argv: list[str] | None = None) -> int:
    from pipelines.eval.events import load_resolver, parse_items
    from pipelines.nlp.annotate import annotate
    from pipelines.nlp.events import EventCoder
    from pipelines.nlp.ner import load_nlp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--C", type=float, default=2.0)
    parser.add_argument("--real-weight", type=float, default=REAL_WEIGHT, help="weight of real-news rows in training")
    parser.add_argument("--rule", choices=RULES, default=PRIMARY_RULE,
                        help="how the primary type is ranked (pipelines.nlp.events.TypeClassifier)")
    parser.add_argument("--tune-on", choices=("real", "all", "shift", "lead", "f1", "writers"), default=TUNE_ON,
                        help="items the thresholds are tuned on (train_events.calibrate_real)")
    parser.add_argument("--quick", action="store_true",
                        help="primary types from the classifier alone (no parse, no actors: the company-only filter is not applied)")
    parser.add_argument("--headline-platt", action=argparse.BooleanOptionalAction, default=HEADLINE_PLATT,
                        help="Platt maps of their own for headlines scored alone (train_events.calibrate_real)")
    parser.add_argument("--no-hard-negatives", dest="hard_negatives", action="store_false",
                        help="leave out the release 2.4 BBC sport/entertainment/tech labels")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="--quick: leave out release 2.2 on dev + tune (it needs a fit of its own; nan)")
    parser.add_argument("--against", choices=RULES,
                        help="compare with this primary rule on the same fold models instead of release 2.2")
    parser.add_argument("--shift-rule", choices=RULES, default=None,
                        help="the rule whose primaries choose --rule's threshold shift (default: --rule's; release "
                             "2.8 ships --rule ranker --shift-rule headline-rank)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    add_encoder_option(parser)
    add_threshold_options(parser)
    args = parser.parse_args(argv)
    for rule in (args.rule, args.against):
        if rule in FEATURE_RULES:   # calibrate_real here passes no headline verb types to the ranker
            parser.error(f"rule {rule} reads the headline's verb types in its ranker; measure it with "
                         f"scripts/threshold_events.py")
    require(args.shared, BBC)
    t0 = time.time()
    items = training_items(args.shared, args.hard_negatives)
    extractor = CachedExtractor(extractor_from())
    encoder = CachedEncoder(load_encoder(encoder_name(args.encoder)), VECTORS)   # release 3.23's vector store
    print(f"{len(items)} training items; grouped CV over {len({i['group'] for i in items})} groups", file=sys.stderr)
    both, alone, folds = grouped_scores(items, args, extractor, encoder, lambda m: print(m, file=sys.stderr))
    shipped = EventCoder.load()
    baseline = release_22(extractor, encoder) if args.against is None else None
    nlp, resolver = (None, None) if args.quick else (load_nlp(), load_resolver())
    old_items = [i for i in items if is_corpus(i) or i["group"] in ("bbc", "tune")]
    rows, out = [], {}
    for g in HELD_OUT:
        test = [i for i in items if i["group"] == g]
        keep = np.array([i["group"] != g for i in items])
        # 2.2: the shipped classifier, or (dev + tune) one fitted without the held-out set.
        if args.against is not None:   # the same fold model and recipe, another primary rule
            old = calibrate_real(load_fold(CACHE / grouped_tag(args) / g, extractor, encoder), both[keep], alone[keep],
                                 [i for i, k in zip(items, keep) if k], args.against, args.tune_on,
                                 args.headline_platt, args.shift_grid, args.objective, args.event_gate)
        elif g == "tune" and not args.baseline:
            old = None   # 2.2 without dev + tune needs a fit of its own: not asked for
        elif g == "tune":
            folder = CACHE / "release-2.2-without-tune"
            if not (folder / "classifier.npz").exists():
                save(fit([i for i in old_items if i["group"] != g], extractor, encoder, 2.0), folder)
            old = load_fold(folder, extractor, encoder)
            old.platt, old.thresholds = baseline.platt, baseline.thresholds
        else:
            old = baseline
        new = recipe_classifier(folds[g], both[keep], alone[keep], [i for i, k in zip(items, keep) if k], args)
        out[g] = {}
        if args.quick:
            for name, clf in (("2.2", old), ("2.3", new)):
                if clf is None:
                    out[g][name] = dict.fromkeys(("macro_f1_16", "event_accuracy", "noevent_rate", "primary_accuracy"),
                                                 float("nan")) | {"items": len(test)}
                    continue
                pb = clf.predict_proba([i.get("title") or "" for i in test], [i["text"] for i in test])
                pa = clf.predict_proba([i.get("title") or "" for i in test], [""] * len(test))
                has_title = np.array([bool(i.get("title")) for i in test])
                prim = primaries(pb, pa, has_title, clf.thresholds, clf.primary_rule, clf.lead_shift, clf.event_gate,
                                 clf.ranker, named=headline_named(test) if clf.primary_rule in NAMED_RULES else None)
                gold = gold_columns(test)
                f1, acc, rate = target_figures(prim, gold, noevent_mask(test))
                out[g][name] = {"macro_f1_16": f1, "event_accuracy": acc, "noevent_rate": rate,
                                "primary_accuracy": float((prim == gold).mean()), "items": len(test)}
            continue
        docs = list(parse_items(test, nlp))
        for name, clf in (("2.2", old), ("2.3", new)):
            coder = EventCoder(clf, shipped.verbs, shipped.strong_verbs, shipped.actors)
            preds = []
            for title_doc, body_doc, published in docs:
                _, events, primary = annotate(title_doc, body_doc, published, coder, resolver)
                preds.append({"primary": primary, "events": events})
            out[g][name] = figures(test, preds)
        print(f"{NAMES[g]} done ({time.time() - t0:.0f}s)", file=sys.stderr)
    keys = (("macro_f1_16", "macro-F1 (16 types) >= 0.60"), ("event_accuracy", "type accuracy, event items >= 0.70"),
            ("noevent_rate", "no event, sport/ent./business/markets >= 0.95"),
            ("primary_accuracy", "primary accuracy, none included"))
    print(f"\nLeave one real-news set out (C = {args.C:g}, real-news weight {args.real_weight:g}, "
          f"primary rule {args.rule}, thresholds tuned on {args.tune_on}"
          f"{', headline Platt maps' if args.headline_platt else ''}, shift grid {args.shift_grid}, "
          f"objective {args.objective}{', event gate' if args.event_gate else ''}"
          f"{'' if args.shift_rule is None else ', shift chosen with ' + args.shift_rule}"
          f"{'; classifier alone' if args.quick else ''}); "
          f"{'2.2' if args.against is None else 'rule ' + args.against} / this recipe")
    print("| target | " + " | ".join(f"{NAMES[g]} ({out[g]['2.2']['items']})" for g in HELD_OUT) + " | mean |")
    print("|---|" + "---|" * (len(HELD_OUT) + 1))
    for key, label in keys:
        cells = [f"{out[g]['2.2'][key]:.3f} / **{out[g]['2.3'][key]:.3f}**" for g in HELD_OUT]
        mean = [np.mean([out[g][v][key] for g in HELD_OUT]) for v in ("2.2", "2.3")]
        rows.append(cells)
        print(f"| {label} | " + " | ".join(cells) + f" | {mean[0]:.3f} / **{mean[1]:.3f}** |")
    # The corpus writers under 2.3 (each scored by its fold model; thresholds chosen without it),
    # from the classifier alone: the grouped-CV corpus figures without the parse.
    prim, gold, noev = [], [], []
    for w in sorted({i["group"] for i in items if is_corpus(i)}):
        keep = np.array([i["group"] != w for i in items])
        test = [i for i in items if i["group"] == w]
        probe = recipe_classifier(folds[HELD_OUT[0]], both[keep], alone[keep],   # any classifier: only maps are set
                                  [i for i, k in zip(items, keep) if k], args)
        pb = calibrated(probe.platt, both[~keep])
        pa = calibrated(probe.platt if probe.platt_alone is None else probe.platt_alone, alone[~keep])
        prim.append(primaries(pb, pa, np.array([bool(i.get("title")) for i in test]), probe.thresholds, args.rule,
                              probe.lead_shift, probe.event_gate, probe.ranker,
                              named=headline_named(test) if args.rule in NAMED_RULES else None))
        gold.append(gold_columns(test)), noev.append(noevent_mask(test))
    f1, acc, rate = target_figures(np.concatenate(prim), np.concatenate(gold), np.concatenate(noev))
    out["corpus_cv_classifier"] = {"macro_f1_16": f1, "event_accuracy": acc, "noevent_rate": rate}
    print(f"\ncorpus writers, 2.3 grouped CV (classifier alone, no company-only filter): macro-F1 {f1:.3f}, "
          f"type accuracy on event items {acc:.3f}, no event {rate:.3f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(f"({time.time() - t0:.0f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
