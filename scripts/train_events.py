"""Train the PLOVER type classifier and write its weights to pipelines/resources/events/.

Training data (scripts/event_data.training_items): the newsflow PLOVER corpus
(data/train/plover_corpus.jsonl, 4,367 items by six writers, near-duplicates across writers
left out), the 703 hand-labelled BBC headline + lead items (ids and labels in the repository,
texts from ../shared), and the real-news dev and tuning sets (tuning data now). Extra items that
near-duplicate a corpus item are left out.

Model (pipelines.nlp.events.TypeClassifier): one binary logistic regression per PLOVER type
over TF-IDF features of headline (counted twice) + lead and a WordLlama sentence vector. Every
item is a training row as headline + lead, and corpus items once more as lead alone, so that
body sentences (scored without a headline) get sensible scores. Scores are Platt-calibrated
per type on out-of-fold scores (folds grouped by writer; the extra items are always in
training), and each type's threshold maximises that type's F1 on the out-of-fold calibrated
probabilities. Deterministic: sorted inputs, liblinear, no random state.

Usage: nice -n 10 python scripts/train_events.py [--shared ../shared] [--out DIR] [--no-encoder]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import BBC, DEFAULT_SHARED, EVENT_TYPES, REPO, item_types, require, training_items  # noqa: E402

from pipelines.nlp.countries import country_table  # noqa: E402
from pipelines.nlp.event_features import FeatureExtractor  # noqa: E402
from pipelines.nlp.events import TypeClassifier  # noqa: E402

OUT = REPO / "pipelines" / "resources" / "events"
TITLE_REPEAT = 2
TITLE_SHARE = 0.6


def extractor_from(resources: Path = OUT) -> FeatureExtractor:
    """The feature extractor over the shipped dictionaries."""
    verbs = json.loads((resources / "verbs.json").read_text(encoding="utf-8"))
    strong = json.loads((resources / "strong_verbs.json").read_text(encoding="utf-8"))
    return FeatureExtractor(verbs, country_table(), strong)


def rows_of(items: list[dict]) -> tuple[list[str], list[str], np.ndarray, list[int]]:
    """(titles, leads, label matrix, item index) of the training rows of ``items``."""
    titles, leads, labels, owner = [], [], [], []
    col = {t: j for j, t in enumerate(EVENT_TYPES)}
    for n, item in enumerate(items):
        y = np.zeros(len(EVENT_TYPES), dtype=np.int8)
        for t in item_types(item):
            y[col[t]] = 1
        variants = [(item.get("title") or "", item["text"])]
        if item.get("title") and item["group"] not in ("bbc", "tune"):
            variants.append(("", item["text"]))
        for title, lead in variants:
            titles.append(title), leads.append(lead), labels.append(y), owner.append(n)
    return titles, leads, np.array(labels), owner


def build_vocabulary(extractor, texts: list[str], min_df: int = 2, max_features: int = 40000):
    """Feature -> column and idf (smooth idf, as scikit-learn's), most frequent features kept."""
    df: dict[str, int] = {}
    for text in texts:
        for f in set(extractor(text)):
            df[f] = df.get(f, 0) + 1
    kept = sorted((f for f, n in df.items() if n >= min_df), key=lambda f: (-df[f], f))[:max_features]
    kept.sort()
    vocab = {f: i for i, f in enumerate(kept)}
    n = len(texts)
    idf = np.array([np.log((1 + n) / (1 + df[f])) + 1.0 for f in kept])
    return vocab, idf


def fit(items: list[dict], extractor, encoder, C: float = 2.0, embed_scale: float = 1.0) -> TypeClassifier:
    """An uncalibrated TypeClassifier (identity Platt map, thresholds 0.5) fitted on ``items``."""
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    titles, leads, y, _ = rows_of(items)
    joined = [" ".join([t] * TITLE_REPEAT + [lead]) if t else lead for t, lead in zip(titles, leads)]
    vocab, idf = build_vocabulary(extractor, joined)
    k = len(EVENT_TYPES)
    clf = TypeClassifier(EVENT_TYPES, vocab, idf, None, np.zeros(k), np.tile([1.0, 0.0], (k, 1)),
                         np.full(k, 0.5), extractor, encoder, TITLE_REPEAT, TITLE_SHARE, embed_scale)
    sparse, dense = clf.features(titles, leads)
    x = hstack([sparse, dense]).tocsr() if dense.shape[1] else sparse
    coef = np.zeros((x.shape[1], k))
    for j in range(k):
        model = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", max_iter=1000)
        model.fit(x, y[:, j])
        coef[:, j], clf.intercept[j] = model.coef_[0], model.intercept_[0]
    clf.coef = coef
    return clf


def item_decisions(clf: TypeClassifier, items: list[dict]) -> np.ndarray:
    """Decision values of items as headline + lead."""
    return clf.decision([i.get("title") or "" for i in items], [i["text"] for i in items])


def label_matrix(items: list[dict]) -> np.ndarray:
    col = {t: j for j, t in enumerate(EVENT_TYPES)}
    y = np.zeros((len(items), len(EVENT_TYPES)), dtype=np.int8)
    for n, item in enumerate(items):
        for t in item_types(item):
            y[n, col[t]] = 1
    return y


def out_of_fold(items: list[dict], extractor, encoder, C: float, embed_scale: float = 1.0,
                log=print) -> tuple[np.ndarray, list[int]]:
    """Decision values of the corpus items from models that did not see their writer.

    Returns (decisions of the scored items, their positions in ``items``); items outside the
    corpus (BBC labels, tuning sets) are always in training and not scored.
    """
    writers = sorted({i["group"] for i in items if i["group"] not in ("bbc", "tune")})
    scored = [n for n, i in enumerate(items) if i["group"] in writers]
    dec = np.zeros((len(items), len(EVENT_TYPES)))
    for w in writers:
        t0 = time.time()
        train = [i for i in items if i["group"] != w]
        test = [n for n in scored if items[n]["group"] == w]
        model = fit(train, extractor, encoder, C, embed_scale)
        dec[test] = item_decisions(model, [items[n] for n in test])
        log(f"  fold {w}: {len(train)} training items, {len(test)} scored, {time.time() - t0:.0f}s")
    return dec[scored], scored


def platt(dec: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-type (slope, intercept) of a logistic fit of the labels on the decision values."""
    from sklearn.linear_model import LogisticRegression

    out = np.zeros((dec.shape[1], 2))
    for j in range(dec.shape[1]):
        model = LogisticRegression(C=100.0, solver="lbfgs").fit(dec[:, j:j + 1], y[:, j])
        out[j] = model.coef_[0, 0], model.intercept_[0]
    return out


def thresholds(prob: np.ndarray, y: np.ndarray, grid=np.arange(0.2, 0.91, 0.05)) -> np.ndarray:
    """Per-type threshold on the calibrated probability that maximises that type's F1."""
    out = np.zeros(prob.shape[1])
    for j in range(prob.shape[1]):
        best = (-1.0, 0.5)
        for t in grid:
            pred = prob[:, j] >= t
            tp = float((pred & (y[:, j] == 1)).sum())
            f1 = 2 * tp / (pred.sum() + y[:, j].sum()) if pred.sum() + y[:, j].sum() else 0.0
            best = max(best, (f1, round(float(t), 2)))
        out[j] = best[1]
    return out


def calibrate(clf: TypeClassifier, dec: np.ndarray, y: np.ndarray) -> TypeClassifier:
    """Set the Platt maps and thresholds of ``clf`` from out-of-fold decisions."""
    clf.platt = platt(dec, y)
    prob = 1.0 / (1.0 + np.exp(-(dec * clf.platt[:, 0] + clf.platt[:, 1])))
    clf.thresholds = thresholds(prob, y)
    return clf


def train(items: list[dict], extractor, encoder, C: float, embed_scale: float = 1.0, log=print) -> TypeClassifier:
    """Fit on every item, calibrate on the out-of-fold scores of the corpus."""
    dec, scored = out_of_fold(items, extractor, encoder, C, embed_scale, log)
    clf = fit(items, extractor, encoder, C, embed_scale)
    return calibrate(clf, dec, label_matrix([items[n] for n in scored]))


def save(clf: TypeClassifier, out: Path, extra: dict | None = None) -> None:
    """Write classifier.npz and classifier.json (plain arrays and JSON)."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "classifier.npz", "wb") as f:   # fixed member order and no timestamps: same bytes on rerun
        np.savez(f, coef=clf.coef.astype(np.float32), intercept=clf.intercept.astype(np.float32),
                 idf=clf.idf.astype(np.float32), platt=clf.platt.astype(np.float32),
                 thresholds=clf.thresholds.astype(np.float32))
    meta = {"types": list(clf.types), "encoder": "wordllama-0.4.0.post1/l2_supercat_256" if clf.encoder else None,
            "title_repeat": clf.title_repeat, "title_share": clf.title_share, "embed_scale": clf.embed_scale,
            "vocabulary": dict(sorted(clf.vocabulary.items())), **(extra or {})}
    with open(out / "classifier.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    """Train, calibrate and write the weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--C", type=float, default=2.0, help="inverse regularisation (grouped CV, docs/eval-events.md)")
    parser.add_argument("--embed-scale", type=float, default=1.0, help="weight of the sentence vector block")
    parser.add_argument("--no-encoder", action="store_true", help="TF-IDF features only")
    args = parser.parse_args(argv)
    require(args.shared, BBC)
    t0 = time.time()
    items = training_items(args.shared)
    encoder = None
    if not args.no_encoder:
        from pipelines.nlp.encoder import StaticEncoder
        encoder = StaticEncoder.load()
    print(f"{len(items)} training items ({sum(1 for i in items if item_types(i))} with an event)")
    clf = train(items, extractor_from(), encoder, args.C, args.embed_scale)
    save(clf, args.out, {"C": args.C, "training_items": len(items)})
    print("thresholds: " + ", ".join(f"{t} {v:.2f}" for t, v in zip(clf.types, clf.thresholds)))
    print(f"wrote {args.out}/classifier.npz and classifier.json in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
