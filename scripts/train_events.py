"""Train the PLOVER type classifier and write its weights to pipelines/resources/events/.

Training data (scripts/event_data.training_items): the newsflow PLOVER corpus
(data/train/plover_corpus.jsonl, 4,872 items by nine writers, near-duplicates across writers
left out), the hand-labelled BBC headline + lead items (ids and labels in the repository,
texts from ../shared), the real-news dev and tuning sets and the blind sets of past releases
(``event_data.SEEN_BLIND``, seen since; real news is what the coder reads). Extra items
that near-duplicate a corpus item, and BBC labels that near-duplicate a real-news set item,
are left out.

Model (pipelines.nlp.events.TypeClassifier): one binary logistic regression per PLOVER type
over TF-IDF features of headline (counted twice) + lead and a WordLlama sentence vector. Every
item is a training row as headline + lead, and corpus items once more as lead alone, so that
body sentences (scored without a headline) get sensible scores.

Calibration (release 2.3): grouped CV where each corpus writer, the BBC labels, the tuning sets
and each seen blind set is a group gives every item an out-of-fold score. Scores are
Platt-calibrated per type on all of them; each type's threshold is its best out-of-fold F1
plus one shift, the same for every type, chosen on the real-news items for the three type
targets: macro-F1 + type accuracy on event items + the no-event rate on sport/entertainment/
business/markets items, computed on the coder's primary type (scripts/loso_events.py compares
this with per-type tuning and with no shift). Release 2.6: the primary is the passing type the
headline alone scores highest (rule "headline-rank"); a shift grid that may lower thresholds, a
no-event-floor objective and an event gate are options, measured and not kept
(scripts/threshold_events.py). Release 2.7: a learned primary ranker (rule "ranker", fit_ranker)
is an option, measured and not kept. Deterministic: sorted inputs, liblinear, no random state.

Usage: nice -n 10 python scripts/train_events.py [--shared ../shared] [--out DIR] [--no-encoder]
       [--real-weight W] [--rule headline|margin|headline-rank|ranker] [--shift-rule RULE] [--oof-cache NPZ] [--shift-grid raise|both]
       [--objective sum|noevent] [--event-gate]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import (BBC, DEFAULT_SHARED, EVENT_TYPES, REPO, is_corpus, item_types, require,  # noqa: E402
                        training_items)

from pipelines.nlp.countries import country_table  # noqa: E402
from pipelines.nlp.encoder import MINILM, WORDLLAMA, load_encoder  # noqa: E402
from pipelines.nlp.event_features import FeatureExtractor  # noqa: E402
from pipelines.nlp.events import (FALLBACK_RULES, FEATURE_RULES, HEADLINE_FIRST_RULES, NAMED_RULES,  # noqa: E402
                                  RANKED_RULES, VERB_RULES, TypeClassifier, headline_verb_types,
                                  ranker_features)

OUT = REPO / "pipelines" / "resources" / "events"
VECTORS = REPO / "out" / "vectors"   # release 3.23: the vector store of scripts/encode_events.py
TITLE_REPEAT = 2
TITLE_SHARE = 0.6
PRIMARY_RULE = "headline-rank"   # release 2.6 (docs/eval-events.md, "Release 2.6 classifier")
RULES = ("headline", "margin", "headline-rank") + RANKED_RULES
# Release 2.7 option, rule "ranker" (docs/eval-events.md, "Release 2.7 classifier"): the primary
# ranker's inverse regularisation and the weight of real-news items in its fit (as the classifier's).
RANKER_C = 1.0
RANKER_REAL_WEIGHT = 2.0
REAL_WEIGHT = 2.0   # release 2.4: real-news rows count twice (leave-one-set-out, docs/eval-events.md)
HEADLINE_PLATT = False
TUNE_ON = "shift"
NOEVENT_CATEGORIES = ("sport", "entertainment", "business", "markets")
# Release 2.6 options of the threshold choice (docs/eval-events.md, "Release 2.6 classifier"):
# the shift grid "raise" (0..0.25, releases 2.3-2.5) or "both" (-0.2..0.25); the objective "sum"
# (macro-F1 + type accuracy + no-event rate, releases 2.3-2.5) or "noevent" (macro-F1 + type
# accuracy among the choices whose no-event rate on the real-news out-of-fold items is at least
# NOEVENT_FLOOR); EVENT_GATE: the primary is the best-ranked type whenever it clears one
# "is there an event" threshold, chosen like the shift (TypeClassifier.event_gate).
# Release 3.13 options: "noevent-sets" and "noevent-sets-high" are "noevent" with the no-event
# rate taken as the mean of each real-news set's own rate (every set counts once, the BBC labels
# as one set: 2.6 found the pooled rate dominated by them) and the floor SET_FLOORS gives.
SHIFT_GRID = "raise"
OBJECTIVE = "sum"
EVENT_GATE = False
NOEVENT_FLOOR = 0.955   # a margin over the 0.95 target
SET_FLOORS = {"noevent-sets": NOEVENT_FLOOR, "noevent-sets-high": 0.965}
OBJECTIVES = ("sum", "noevent") + tuple(SET_FLOORS)
SHIFT_GRIDS = {"raise": np.arange(0.0, 0.251, 0.025), "both": np.arange(-0.2, 0.251, 0.025)}
GATE_GRIDS = {"headline": np.arange(0.2, 0.951, 0.025), "margin": np.arange(-0.2, 0.401, 0.025)}


def extractor_from(resources: Path = OUT) -> FeatureExtractor:
    """The feature extractor over the shipped dictionaries."""
    verbs = json.loads((resources / "verbs.json").read_text(encoding="utf-8"))
    strong = json.loads((resources / "strong_verbs.json").read_text(encoding="utf-8"))
    return FeatureExtractor(verbs, country_table(), strong)


def headline_named(items: list[dict], resources: Path = OUT) -> np.ndarray:
    """Items x types: whether the item's headline has a reliable verb of the type
    (pipelines.nlp.events.headline_verb_types over the shipped strong_verbs.json; release 3.9
    rule "ranker-headline-verb")."""
    strong = json.loads((resources / "strong_verbs.json").read_text(encoding="utf-8"))
    out = np.zeros((len(items), len(EVENT_TYPES)), dtype=bool)
    for n, item in enumerate(items):
        named = headline_verb_types(item.get("title") or "", strong)
        out[n] = [t in named for t in EVENT_TYPES]
    return out


def rows_of(items: list[dict], headline_rows: bool = False) -> tuple[list[str], list[str], np.ndarray, list[int]]:
    """(titles, leads, label matrix, item index) of the training rows of ``items``; with
    ``headline_rows`` (release 3.8 option) also each headline alone, with its item's labels (the
    coder scores every headline alone too)."""
    titles, leads, labels, owner = [], [], [], []
    col = {t: j for j, t in enumerate(EVENT_TYPES)}
    for n, item in enumerate(items):
        y = np.zeros(len(EVENT_TYPES), dtype=np.int8)
        for t in item_types(item):
            y[col[t]] = 1
        variants = [(item.get("title") or "", item["text"])]
        if item.get("title") and is_corpus(item):
            variants.append(("", item["text"]))
        if item.get("title") and headline_rows:
            variants.append((item["title"], ""))
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


class CachedExtractor:
    """The feature extractor, remembering the features of every text it has seen: grouped CV
    fits the same texts many times."""

    def __init__(self, extractor):
        self.extractor = extractor
        self.seen: dict[str, list[str]] = {}

    def __call__(self, text: str) -> list[str]:
        feats = self.seen.get(text)
        if feats is None:
            feats = self.seen[text] = self.extractor(text)
        return feats


def text_key(text: str) -> str:
    """The key of a text's vector in the vector store (its SHA-1)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def vector_folder(store: Path, name: str) -> Path:
    """The folder of an encoder's vectors in the vector store (release 3.23, scripts/encode_events.py)."""
    return store / name.replace("/", "_")


# Sentences every vector file also holds the vectors of: a file whose probe vectors the encoder no
# longer gives (its code or weights changed under the same name) is refused, not served stale.
PROBE = ("Ministers from both countries met in Geneva on Tuesday to discuss a ceasefire.",
         "Police fired tear gas at protesters outside parliament.",
         "Shares rose 3% after the company reported higher quarterly profits.")
PROBE_TOLERANCE = 1e-4   # MiniLM's vectors move by ~1e-7 with the texts that share their batch


def stored_vectors(store: Path, encoder) -> dict[str, np.ndarray]:
    """Text key -> vector of every vector file scripts/encode_events.py wrote for ``encoder``
    (ValueError for a file of another dimension or whose probe vectors the encoder no longer gives)."""
    out: dict[str, np.ndarray] = {}
    folder = vector_folder(store, encoder.name)
    files = sorted(folder.glob("*.npz")) if folder.is_dir() else []
    probe = encoder.encode(list(PROBE)) if files else None
    for path in files:
        with np.load(path) as f:
            if f["vectors"].shape[1:] != (encoder.dim,):
                raise ValueError(f"{path}: vectors of {f['vectors'].shape[1:]} dimensions, "
                                 f"the encoder gives {encoder.dim}")
            if "probe" not in f or not np.allclose(f["probe"], probe, atol=PROBE_TOLERANCE):
                raise ValueError(f"{path}: written by another version of {encoder.name} (its probe vectors "
                                 f"differ); delete {folder} and run scripts/encode_events.py again")
            out.update(zip(f["keys"].tolist(), f["vectors"]))
    return out


class CachedEncoder:
    """The sentence encoder, remembering the vector of every text it has seen. With ``store``
    (the scripts pass out/vectors, VECTORS), it starts from the vectors scripts/encode_events.py
    stored there for this encoder (release 3.23: each fold process of scripts/fold_events.py no
    longer encodes the ~23,000 training texts again)."""

    def __init__(self, encoder, store: Path | None = None):
        self.encoder = encoder
        self.dim = encoder.dim
        self.name = encoder.name
        self.seen: dict[str, np.ndarray] = {} if store is None else stored_vectors(store, encoder)
        self.stored = len(self.seen)

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        todo = sorted({t for t, k in zip(texts, keys) if k not in self.seen})
        if todo:
            self.seen.update(zip((text_key(t) for t in todo), self.encoder.encode(todo)))
        return np.array([self.seen[k] for k in keys], dtype=np.float32).reshape(len(texts), self.dim)


def fit(items: list[dict], extractor, encoder, C: float = 2.0, embed_scale: float = 1.0,
        real_weight: float = 1.0, headline_rows: bool = False) -> TypeClassifier:
    """An uncalibrated TypeClassifier (identity Platt map, thresholds 0.5) fitted on ``items``;
    rows of real-news items weigh ``real_weight`` (corpus rows 1)."""
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    titles, leads, y, owner = rows_of(items, headline_rows)
    joined = [" ".join([t] * TITLE_REPEAT + [lead]) if t else lead for t, lead in zip(titles, leads)]
    vocab, idf = build_vocabulary(extractor, joined)
    k = len(EVENT_TYPES)
    clf = TypeClassifier(EVENT_TYPES, vocab, idf, None, np.zeros(k), np.tile([1.0, 0.0], (k, 1)),
                         np.full(k, 0.5), extractor, encoder, TITLE_REPEAT, TITLE_SHARE, embed_scale)
    sparse, dense = clf.features(titles, leads)
    x = hstack([sparse, dense]).tocsr() if dense.shape[1] else sparse
    weight = None if real_weight == 1.0 else np.array([1.0 if is_corpus(items[n]) else real_weight for n in owner])
    coef = np.zeros((x.shape[1], k))
    for j in range(k):
        model = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", max_iter=1000)
        model.fit(x, y[:, j], sample_weight=weight)
        coef[:, j], clf.intercept[j] = model.coef_[0], model.intercept_[0]
    clf.coef = coef
    return clf


def item_decisions(clf: TypeClassifier, items: list[dict]) -> np.ndarray:
    """Decision values of items as headline + lead."""
    return clf.decision([i.get("title") or "" for i in items], [i["text"] for i in items])


def headline_decisions(clf: TypeClassifier, items: list[dict]) -> np.ndarray:
    """Decision values of items' headlines alone (the coder's second score; rows without one unused)."""
    return clf.decision([i.get("title") or "" for i in items], [""] * len(items))


def label_matrix(items: list[dict]) -> np.ndarray:
    col = {t: j for j, t in enumerate(EVENT_TYPES)}
    y = np.zeros((len(items), len(EVENT_TYPES)), dtype=np.int8)
    for n, item in enumerate(items):
        for t in item_types(item):
            y[n, col[t]] = 1
    return y


def out_of_fold(items: list[dict], extractor, encoder, C: float, embed_scale: float = 1.0,
                real_weight: float = 1.0, log=print, headline_rows: bool = False) -> tuple[np.ndarray, np.ndarray, dict]:
    """Decision values of every item from a model that did not see its group.

    Groups: the six corpus writers, the BBC labels, the tuning sets and each seen blind set.
    Returns (decisions of headline + lead, decisions of the headline alone, the fold models by
    held-out group).
    """
    groups = sorted({i["group"] for i in items})
    both = np.zeros((len(items), len(EVENT_TYPES)))
    alone = np.zeros_like(both)
    models = {}
    for g in groups:
        t0 = time.time()
        test = [n for n, i in enumerate(items) if i["group"] == g]
        models[g] = fit([i for i in items if i["group"] != g], extractor, encoder, C, embed_scale, real_weight,
                        headline_rows)
        both[test] = item_decisions(models[g], [items[n] for n in test])
        alone[test] = headline_decisions(models[g], [items[n] for n in test])
        log(f"  fold {g}: {len(items) - len(test)} training items, {len(test)} scored, {time.time() - t0:.0f}s")
    return both, alone, models


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
    """Set the Platt maps and thresholds of ``clf`` from out-of-fold decisions (release 2.2's way:
    each type's threshold maximises its own F1)."""
    clf.platt = platt(dec, y)
    prob = 1.0 / (1.0 + np.exp(-(dec * clf.platt[:, 0] + clf.platt[:, 1])))
    clf.thresholds = thresholds(prob, y)
    return clf


def calibrated(platt_map: np.ndarray, dec: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(dec * platt_map[:, 0] + platt_map[:, 1])))


def primaries(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, thr: np.ndarray,
              rule: str = PRIMARY_RULE, lead_shift: float = 0.0, gate: float | None = None,
              ranker: tuple[np.ndarray, np.ndarray] | None = None, headline_shift: float = 0.0,
              named: np.ndarray | None = None) -> np.ndarray:
    """The coder's primary type (column, -1 for none) from calibrated probabilities; mirrors
    EventCoder.code. ``rule``: "headline" (the headline's best passing type, else headline +
    lead's, ranked by probability: release 2.2), "margin" (the same order, ranked by how far
    each probability clears its threshold) or "headline-rank" (release 2.6: every type passing
    on the headline or on headline + lead, ranked by the headline's own probability) or "ranker"
    (release 2.7 option: the same passing types, ranked by the learned ``ranker``, fit_ranker;
    TypeClassifier.rank_scores) or "ranker-headline" (release 3.2 option: only the types passing on
    the headline alone when there are any, else those passing on headline + lead, ranked by the
    ranker; codebook §4) or "ranker-headline-rank" (release 3.4 option: as "ranker-headline", but
    when the headline alone passes nothing, headline + lead's passing types are ranked by the
    headline's own probability, as "headline-rank"); with these two, ``headline_shift`` (release
    3.5 option) lowers the thresholds a passing type's headline-alone probability must reach to
    count as the headline's (which types pass is unchanged); or "ranker-headline-verb" (release
    3.9 option: as "ranker-headline", but the passing types the headline's reliable verbs name,
    ``named`` from headline_named, come first when there are any) or "ranker-headline-verb-fallback"
    (release 3.10 option: the same, only for items whose headline alone counts no passing type
    as its own) or "ranker-headline-verb-own" (release 3.11 option: the passing types the verbs
    name among the headline's own passing types when it counts any, else among all passing types)
    or "ranker-headline-verb-feature" / "ranker-headline-feature" (release 3.12 options: 3.10's
    fallback rule / 3.5's ranker-headline, with a ranker that also reads ``named``,
    ranker_features). ``lead_shift`` raises the thresholds
    of headline + lead for items with a headline (it only matters when the headline alone passes
    nothing).
    ``gate`` (release 2.6 option): the per-type thresholds no longer decide the primary; the
    headline's best-ranked type when its rank score (probability, or margin over the threshold)
    reaches ``gate``, else headline + lead's best-ranked type when it does, else none (with
    "headline-rank" and "ranker", ranked by probability as "headline")."""
    out = np.full(len(both), -1)
    if gate is not None:
        for probs in (both, np.where(has_title[:, None], alone, -1.0)):   # the headline's choice wins
            score = probs - thr if rule == "margin" else probs
            best = score.argmax(axis=1)
            out = np.where(score[np.arange(len(score)), best] >= gate - 1e-12, best, out)
        return out
    if rule in ("headline-rank",) + RANKED_RULES:
        # Release 2.6 option: the types passing on the headline or on headline + lead, ranked by
        # the headline's own probability (headline + lead's without a headline); 2.7 option: by
        # the learned ranker over both rows.
        on_title = has_title[:, None] & (alone >= thr)
        lead_thr = thr + np.where(has_title & ~on_title.any(axis=1), lead_shift, 0.0)[:, None]
        key = np.where(has_title[:, None], alone, both)
        own = key
        if rule in NAMED_RULES and named is None:
            raise ValueError(f"rule {rule} needs the headline's verb types (named)")
        if rule in RANKED_RULES:
            key = ranker_features(both, key, named if rule in FEATURE_RULES else None) @ ranker[0].T + ranker[1]
        allowed = on_title | (both >= lead_thr)
        first = allowed & has_title[:, None] & (alone >= thr - headline_shift)   # on_title when the shift is 0
        passing = allowed
        if rule in HEADLINE_FIRST_RULES:   # the headline's own passing types, when it has any
            allowed = np.where(first.any(axis=1)[:, None], first, allowed)
        if rule in VERB_RULES:   # 3.9: the passing types the headline's verb names, when any
            hit = passing & named & has_title[:, None]
            if rule in FALLBACK_RULES:   # 3.10: only when the headline counts none its own
                hit &= ~first.any(axis=1)[:, None]
            if rule == "ranker-headline-verb-own":   # 3.11: among the headline's own types when it counts any
                hit = np.where(first.any(axis=1)[:, None], hit & first, hit)
            allowed = np.where(hit.any(axis=1)[:, None], hit, allowed)
        if rule == "ranker-headline-rank":   # else the headline's own probability orders them
            key = np.where(first.any(axis=1)[:, None], key, own)
        score = np.where(allowed, key, -np.inf)
        best = score.argmax(axis=1)
        return np.where(np.isfinite(score[np.arange(len(score)), best]), best, -1)
    lead_thr = thr + np.where(has_title, lead_shift, 0.0)[:, None]
    for probs, t in ((both, lead_thr), (np.where(has_title[:, None], alone, -1.0), thr)):   # the headline's choice wins: applied last
        score = probs - t if rule == "margin" else probs
        score = np.where(probs >= t, score, -np.inf)
        best = score.argmax(axis=1)
        hit = np.isfinite(score[np.arange(len(score)), best])
        out = np.where(hit, best, out)
    return out


def target_figures(primary: np.ndarray, gold: np.ndarray, noevent: np.ndarray) -> tuple[float, float, float]:
    """(macro-F1 over the 16 types, type accuracy on event items, no-event rate on ``noevent`` items)
    of primary types (columns, -1 for none), as scripts/cv_events.py computes them."""
    f1s = []
    for j in range(len(EVENT_TYPES)):
        tp = float(((primary == j) & (gold == j)).sum())
        denom = float((primary == j).sum() + (gold == j).sum())
        f1s.append(2 * tp / denom if denom else 0.0)
    events = gold >= 0
    acc = float((primary[events] == gold[events]).mean()) if events.any() else 0.0
    rate = float((primary[noevent] == -1).mean()) if noevent.any() else 0.0
    return float(np.mean(f1s)), acc, rate


def tune_thresholds(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, gold: np.ndarray,
                    noevent: np.ndarray, start: np.ndarray, rule: str = PRIMARY_RULE,
                    grid=np.arange(0.2, 0.96, 0.05), passes: int = 2, ranker=None) -> np.ndarray:
    """Per-type thresholds that maximise macro-F1 + event-item accuracy + no-event rate (the three
    type targets, equally weighted) of the coder's primary type on the given items: coordinate
    ascent from ``start``, types in order, ``passes`` rounds."""
    thr = start.copy()

    def score(t):
        return sum(target_figures(primaries(both, alone, has_title, t, rule, ranker=ranker), gold, noevent))

    best = score(thr)
    for _ in range(passes):
        for j in range(len(thr)):
            for value in grid:
                trial = thr.copy()
                trial[j] = round(float(value), 2)
                s = score(trial)
                if s > best + 1e-9:
                    best, thr = s, trial
    return thr


def objective_value(figures: tuple[float, float, float], objective: str = OBJECTIVE) -> tuple:
    """A sortable score of (macro-F1, type accuracy, no-event rate): "sum" adds the three
    (releases 2.3-2.5); "noevent" adds macro-F1 and type accuracy among choices whose no-event
    rate is at least NOEVENT_FLOOR, and prefers any such choice to one below it (below it, the
    higher no-event rate first); the objectives of SET_FLOORS do the same with their floor (the
    rate given is then the mean of the sets' rates, set_noevent_rate)."""
    f1, acc, rate = figures
    if objective == "sum":
        return (round(f1 + acc + rate, 9),)
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; one of {', '.join(OBJECTIVES)}")
    feasible = rate >= SET_FLOORS.get(objective, NOEVENT_FLOOR) - 1e-9
    return (feasible, round(f1 + acc, 9) if feasible else round(rate, 9))


def set_noevent_rate(primary: np.ndarray, noevent: np.ndarray, groups: np.ndarray) -> float:
    """The mean over the sets (``groups``) that have ``noevent`` items of each set's no-event rate
    (release 3.13 objectives, SET_FLOORS)."""
    rates = [float((primary[noevent & (groups == g)] == -1).mean()) for g in sorted(set(groups[noevent]))]
    return float(np.mean(rates)) if rates else 0.0


def shift_thresholds(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, gold: np.ndarray,
                     noevent: np.ndarray, start: np.ndarray, rule: str = PRIMARY_RULE,
                     grid=SHIFT_GRIDS["raise"], objective: str = "sum", ranker=None,
                     groups: np.ndarray | None = None, named: np.ndarray | None = None) -> np.ndarray:
    """``start`` moved by the one shift (the same for every type) that maximises the objective
    (objective_value) of the type targets on the given items: one parameter for real news's larger
    share of no-event items, where per-type tuning would fit noise. Ties go to the smallest shift.
    The objectives of SET_FLOORS need ``groups``, each item's set; the rules of NAMED_RULES need
    ``named`` (headline_named; release 3.28 option: the shift chosen with the shipped rule's own
    primaries, not headline-rank's)."""
    if objective in SET_FLOORS and groups is None:
        raise ValueError(f"objective {objective} needs each item's set (groups)")

    def score(shift):
        thr = np.clip(start + shift, 0.01, 0.99)
        prim = primaries(both, alone, has_title, thr, rule, ranker=ranker, named=named)
        f1, acc, rate = target_figures(prim, gold, noevent)
        if objective in SET_FLOORS:
            rate = set_noevent_rate(prim, noevent, groups)
        return objective_value((f1, acc, rate), objective)

    best = max(grid, key=lambda m: (score(m), -abs(m), -m))
    return np.clip(start + round(float(best), 3), 0.01, 0.99)


def gate_for(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, gold: np.ndarray, noevent: np.ndarray,
             thr: np.ndarray, rule: str = PRIMARY_RULE, objective: str = "noevent", ranker=None) -> float:
    """The event gate (primaries' ``gate``) that maximises the objective on the given items; ties
    go to the higher gate (fewer events)."""
    def score(gate):
        return objective_value(target_figures(primaries(both, alone, has_title, thr, rule, gate=gate, ranker=ranker),
                                              gold, noevent),
                               objective)

    return round(float(max(GATE_GRIDS.get(rule, GATE_GRIDS["headline"]), key=lambda g: (score(g), g))), 3)


def lead_shift_for(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, gold: np.ndarray,
                   noevent: np.ndarray, thr: np.ndarray, rule: str = PRIMARY_RULE,
                   grid=np.arange(0.0, 0.301, 0.025), ranker=None) -> float:
    """The shift of headline + lead thresholds for items whose headline alone passes no type
    (release 2.4) that maximises macro-F1 + event-item accuracy + no-event rate on the given items."""
    def score(shift):
        return sum(target_figures(primaries(both, alone, has_title, thr, rule, shift, ranker=ranker), gold, noevent))

    return round(float(max(grid, key=lambda m: (round(score(m), 9), -m))), 3)


# The top of the headline shift's grid (release 3.5); a number given to --headline-shift replaces it
# (release 3.15 option).
HEADLINE_SHIFT_MAX = 0.2


def headline_shift_for(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, gold: np.ndarray,
                       noevent: np.ndarray, thr: np.ndarray, rule: str, ranker, lead_shift: float = 0.0,
                       grid=np.arange(0.0, HEADLINE_SHIFT_MAX + 1e-9, 0.025), named: np.ndarray | None = None) -> float:
    """Release 3.5 option: the ``headline_shift`` of primaries (rules "ranker-headline" and
    "ranker-headline-rank") that maximises macro-F1 + event-item accuracy + no-event rate on the
    given items; ties go to the smaller shift."""
    def score(shift):
        return sum(target_figures(primaries(both, alone, has_title, thr, rule, lead_shift, ranker=ranker,
                                            headline_shift=shift, named=named), gold, noevent))

    return round(float(max(grid, key=lambda m: (round(score(m), 9), -m))), 3)


def joint_shifts(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, gold: np.ndarray,
                 noevent: np.ndarray, start: np.ndarray, rule: str, grid, objective: str, ranker,
                 groups: np.ndarray | None, named: np.ndarray | None, headline_grid) -> tuple[np.ndarray, float]:
    """Release 3.29 option: (thresholds, headline shift) where the one threshold shift of ``grid``
    maximises the objective (objective_value, as shift_thresholds) of ``rule``'s own primaries
    scored with the headline shift headline_shift_for gives those thresholds (from
    ``headline_grid``), instead of with no headline shift (release 3.28's candidate A, whose
    search ran before the headline shift was chosen). Ties go to the smallest shift."""
    if objective in SET_FLOORS and groups is None:
        raise ValueError(f"objective {objective} needs each item's set (groups)")
    scored = {}
    for m in grid:
        shift = round(float(m), 3)
        thr = np.clip(start + shift, 0.01, 0.99)
        hs = headline_shift_for(both, alone, has_title, gold, noevent, thr, rule, ranker, grid=headline_grid,
                                named=named)
        prim = primaries(both, alone, has_title, thr, rule, ranker=ranker, headline_shift=hs, named=named)
        f1, acc, rate = target_figures(prim, gold, noevent)
        if objective in SET_FLOORS:
            rate = set_noevent_rate(prim, noevent, groups)
        scored[shift] = (objective_value((f1, acc, rate), objective), thr, hs)
    best = max(scored, key=lambda s: (scored[s][0], -abs(s), -s))
    return scored[best][1], scored[best][2]


def fit_ranker(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, gold: np.ndarray,
               weight: np.ndarray | None = None, C: float = RANKER_C,
               named: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The primary ranker of rule "ranker" (release 2.7 option): a multinomial logistic
    regression from ranker_features of the calibrated probabilities (headline + lead; the headline
    alone, headline + lead's again without a headline) to the gold primary type, fitted on the
    event-bearing rows (``gold`` >= 0). Returns (coefficients n_types x 2 n_types, intercepts);
    a type no row has gets coefficients 0 and intercept -30 (never ranked above a seen type).
    With ``named`` (release 3.12 options) the headline's verb types are inputs too, and the
    coefficients are n_types x 3 n_types."""
    from sklearn.linear_model import LogisticRegression

    ev = gold >= 0
    x = ranker_features(both[ev], np.where(has_title[:, None], alone, both)[ev],
                        None if named is None else (named & has_title[:, None])[ev])
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=2000)
    model.fit(x, gold[ev], sample_weight=None if weight is None else weight[ev])
    k = both.shape[1]
    coef, intercept = np.zeros((k, x.shape[1])), np.full(k, -30.0)
    if len(model.classes_) == 2:   # scikit-learn gives one row, the second class's log-odds against the first
        coef[model.classes_[1]], intercept[model.classes_] = model.coef_[0], (0.0, model.intercept_[0])
    else:
        coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
    return coef, intercept


# Release 3.30 option, ranker fit "choice" (docs/eval-events.md, "Release 3.30 classifier"): the
# candidates a row's ranker is fitted over are the types passing the F1 thresholds lowered by this
# margin, on headline + lead or on the headline alone (the shifts chosen since 3.28 lie within it).
CHOICE_MARGIN = 0.1
RANKER_FITS = ("all", "choice")


def choice_candidates(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, start: np.ndarray,
                      margin: float = CHOICE_MARGIN) -> np.ndarray:
    """Which types each row's choice ranker is fitted over (fit_choice_ranker): those passing
    ``start`` - ``margin`` on headline + lead, or on the headline alone when there is one."""
    thr = start - margin
    return (both >= thr) | (has_title[:, None] & (alone >= thr))


def fit_choice_ranker(both: np.ndarray, alone: np.ndarray, has_title: np.ndarray, gold: np.ndarray,
                      candidates: np.ndarray, weight: np.ndarray | None = None, C: float = RANKER_C,
                      named: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Release 3.30 option, ranker fit "choice": fit_ranker's linear scores over the same inputs,
    fitted as a conditional logit over each row's ``candidates`` only (the gold type's score against
    the other candidates', softmax over the candidates), on the event-bearing rows whose gold type
    is a candidate beside at least one other: the choice the primary rule makes among passing
    types (an approximation: the rule ranks only the headline's own passing types when it has any,
    or those its verbs name), where fit_ranker's multinomial fit also spends itself on types that
    never pass. The penalty is fit_ranker's on the coefficients (0.5 |coef|^2 / C) and the same on
    the intercepts (a type that wins every row it is a candidate of would otherwise get an unbounded
    intercept, a fixed priority); the stored form is fit_ranker's, so the coder reads it unchanged.
    A type that is the gold type of no fitted row gets coefficients 0 and intercept -30, as a type
    no row has in fit_ranker. Raises ValueError when no row is fitted (every event row alone or its
    gold type not a candidate)."""
    from scipy.optimize import minimize

    n, k = both.shape
    rows = np.arange(n)
    ok = (gold >= 0) & candidates[rows, np.maximum(gold, 0)] & (candidates.sum(axis=1) >= 2)
    x = ranker_features(both[ok], np.where(has_title[:, None], alone, both)[ok],
                        None if named is None else (named & has_title[:, None])[ok])
    if not ok.any():
        raise ValueError("fit_choice_ranker: no event-bearing row has its gold type among two or more candidates")
    cand, g = candidates[ok], gold[ok]
    w = np.ones(len(g)) if weight is None else np.asarray(weight, dtype=np.float64)[ok]
    d, r = x.shape[1], np.arange(len(g))

    def loss(theta):
        coef, intercept = theta[:k * d].reshape(k, d), theta[k * d:]
        s = np.where(cand, x @ coef.T + intercept, -np.inf)
        top = s.max(axis=1, keepdims=True)
        e = np.exp(s - top)
        z = e.sum(axis=1, keepdims=True)
        value = (float((w * (np.log(z[:, 0]) + top[:, 0] - s[r, g])).sum())
                 + 0.5 * (float((coef ** 2).sum()) + float((intercept ** 2).sum())) / C)
        grad_s = e / z
        grad_s[r, g] -= 1.0
        grad_s *= w[:, None]
        return value, np.concatenate([(grad_s.T @ x + coef / C).ravel(), grad_s.sum(axis=0) + intercept / C])

    fitted = minimize(loss, np.zeros(k * d + k), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    coef, intercept = fitted.x[:k * d].reshape(k, d), fitted.x[k * d:].copy()
    seen = np.zeros(k, dtype=bool)
    seen[np.unique(g)] = True
    coef[~seen], intercept[~seen] = 0.0, -30.0
    return coef, intercept


def gold_columns(items: list[dict]) -> np.ndarray:
    """The primary gold type of each item as a column (-1 for no event)."""
    col = {t: j for j, t in enumerate(EVENT_TYPES)}
    return np.array([col.get(i.get("event_type"), -1) for i in items])


def noevent_mask(items: list[dict]) -> np.ndarray:
    """Items without an event in the sport/entertainment/business/markets categories."""
    return np.array([not i.get("event_type") and i.get("category") in NOEVENT_CATEGORIES for i in items])


def calibrate_real(clf: TypeClassifier, both: np.ndarray, alone: np.ndarray, items: list[dict],
                   rule: str = PRIMARY_RULE, tune_on: str = "shift", headline_platt: bool = HEADLINE_PLATT,
                   shift_grid: str = SHIFT_GRID, objective: str = OBJECTIVE, event_gate: bool = EVENT_GATE,
                   shift_rule: str | None = None, headline_shift: bool | float = False,
                   named: np.ndarray | None = None, joint_shift: bool = False,
                   ranker_fit: str = "all") -> TypeClassifier:
    """Release 2.3: Platt maps on the out-of-fold scores of every group; thresholds start at each
    type's best F1 there and are then tuned for the type targets on the real-news items
    (``tune_on="all"``: on every item, corpus included; "shift": one shift added to every type's
    F1 threshold, chosen on the real-news items; "lead": that shift, then a second one for
    headline + lead when the headline alone passes no type (``lead_shift``); "f1": not tuned; "writers": release 2.2's way,
    maps and F1 thresholds from the corpus writers' scores alone). ``headline_platt`` (release 2.4
    option): headlines scored alone get Platt maps of their own, fitted on the out-of-fold scores
    of the headlines alone, instead of the headline + lead maps.

    Release 2.6 options: ``shift_grid`` "raise" (the shift only raises thresholds) or "both" (it
    may lower them); ``objective`` "sum" or "noevent" (objective_value); ``event_gate``: after the
    thresholds, one gate on the primary's rank score decides whether there is an event at all
    (primaries' ``gate``), chosen with ``objective`` on the real-news items.

    Release 2.7 option, ``rule`` "ranker": after the Platt maps, the primary ranker (fit_ranker)
    is fitted on every event-bearing item's calibrated out-of-fold probabilities (real-news items
    weigh RANKER_REAL_WEIGHT); the thresholds are then chosen with it.

    Release 2.8 option, ``shift_rule``: the rule whose primaries choose the shift (default: ``rule``).
    With ``rule`` "ranker" and ``shift_rule`` "headline-rank" the thresholds are exactly the ones
    "headline-rank" chooses on the same scores, and the ranker only orders the passing types.

    Release 3.5 option, ``headline_shift`` (rules "ranker-headline" and "ranker-headline-rank"):
    after the thresholds, the shift of primaries' ``headline_shift`` is chosen on the real-news
    items (headline_shift_for); it only changes which passing types compete for the primary.

    Release 3.9 option, rule "ranker-headline-verb": ``named`` (headline_named) says which types
    each item's headline verbs name; the headline shift is chosen with them.

    Release 3.13 options, ``objective`` "noevent-sets" / "noevent-sets-high" (SET_FLOORS): the
    shift's no-event floor holds for the mean of the real-news sets' own rates.

    Release 3.15 option: ``headline_shift`` a number instead of True widens the headline shift's
    grid from 0-HEADLINE_SHIFT_MAX to 0-that number (steps of 0.025).

    Release 3.30 option, ``ranker_fit`` "choice": the ranker is fitted over each row's passing
    types only (fit_choice_ranker, choice_candidates at the F1 thresholds)."""
    if ranker_fit not in RANKER_FITS:
        raise ValueError(f"ranker_fit must be one of {RANKER_FITS}, not {ranker_fit!r}")
    if ranker_fit != "all" and rule not in RANKED_RULES:
        raise ValueError(f"ranker_fit {ranker_fit!r} needs a rule of {RANKED_RULES}")
    y = label_matrix(items)
    clf.lead_shift, clf.platt_alone, clf.event_gate, clf.ranker = 0.0, None, None, None
    clf.headline_shift = 0.0
    if tune_on == "writers":   # release 2.2's calibration: the corpus writers' scores only
        corpus = np.array([is_corpus(i) for i in items])
        return calibrate(clf, both[corpus], y[corpus])
    clf.platt = platt(both, y)
    has_title = np.array([bool(i.get("title")) for i in items])
    if headline_platt:
        clf.platt_alone = platt(alone[has_title], y[has_title])
    pb, pa = calibrated(clf.platt, both), calibrated(clf.platt if clf.platt_alone is None else clf.platt_alone, alone)
    start = thresholds(pb, y)
    real = np.array([tune_on == "all" or not is_corpus(i) for i in items])
    gold = gold_columns(items)
    if rule in RANKED_RULES:
        if rule in FEATURE_RULES and named is None:
            raise ValueError(f"rule {rule} needs the headline's verb types (named)")
        weight = np.array([1.0 if is_corpus(i) else RANKER_REAL_WEIGHT for i in items])
        if ranker_fit == "choice":
            clf.ranker = fit_choice_ranker(pb, pa, has_title, gold, choice_candidates(pb, pa, has_title, start),
                                           weight, named=named if rule in FEATURE_RULES else None)
        else:
            clf.ranker = fit_ranker(pb, pa, has_title, gold, weight, named=named if rule in FEATURE_RULES else None)
    if tune_on == "f1":
        clf.thresholds = start
    elif tune_on == "shift" and joint_shift:
        # release 3.29 option: the threshold shift chosen with --rule's own primaries, each
        # candidate shift scored with the headline shift it would get (joint_shifts)
        if shift_rule not in (None, rule) or not headline_shift or rule not in HEADLINE_FIRST_RULES:
            raise ValueError(f"joint_shift needs a headline shift, a rule of {HEADLINE_FIRST_RULES} and no other "
                             f"shift rule")
        top = HEADLINE_SHIFT_MAX if headline_shift is True else float(headline_shift)
        clf.thresholds, clf.headline_shift = joint_shifts(
            pb[real], pa[real], has_title[real], gold[real], noevent_mask(items)[real], start, rule,
            SHIFT_GRIDS[shift_grid], objective, clf.ranker if rule in RANKED_RULES else None,
            np.array([i.get("group") for i in items])[real], None if named is None else named[real],
            np.arange(0.0, top + 1e-9, 0.025))
    elif tune_on in ("shift", "lead"):
        if joint_shift:
            raise ValueError("joint_shift needs tune_on 'shift'")
        srule = rule if shift_rule is None else shift_rule
        clf.thresholds = shift_thresholds(pb[real], pa[real], has_title[real], gold[real], noevent_mask(items)[real],
                                          start, srule, SHIFT_GRIDS[shift_grid], objective,
                                          clf.ranker if srule in RANKED_RULES else None,
                                          np.array([i.get("group") for i in items])[real],
                                          named[real] if srule in NAMED_RULES else None)
        if tune_on == "lead":   # release 2.4 option: a second shift for items whose headline passes nothing
            clf.lead_shift = lead_shift_for(pb[real], pa[real], has_title[real], gold[real],
                                            noevent_mask(items)[real], clf.thresholds, rule, ranker=clf.ranker)
    else:
        clf.thresholds = tune_thresholds(pb[real], pa[real], has_title[real], gold[real], noevent_mask(items)[real],
                                         start, rule, ranker=clf.ranker)
    if joint_shift and tune_on == "shift":
        pass   # the headline shift was chosen with the thresholds (joint_shifts)
    elif headline_shift and rule in HEADLINE_FIRST_RULES and tune_on in ("shift", "lead"):
        top = HEADLINE_SHIFT_MAX if headline_shift is True else float(headline_shift)
        clf.headline_shift = headline_shift_for(pb[real], pa[real], has_title[real], gold[real],
                                                noevent_mask(items)[real], clf.thresholds, rule, clf.ranker,
                                                clf.lead_shift, grid=np.arange(0.0, top + 1e-9, 0.025),
                                                named=None if named is None else named[real])
    elif headline_shift:
        raise ValueError(f"headline_shift needs a rule of {HEADLINE_FIRST_RULES} and thresholds tuned by a shift")
    if event_gate and tune_on != "writers":
        clf.event_gate = gate_for(pb[real], pa[real], has_title[real], gold[real], noevent_mask(items)[real],
                                  clf.thresholds, rule, objective, clf.ranker)
    clf.primary_rule = rule
    return clf


def load_fold(folder: Path, extractor, encoder) -> TypeClassifier:
    """A classifier written by save() (a CV fold's model), read with the given extractor and encoder."""
    from pipelines.nlp.events import load_classifier

    return load_classifier(folder, extractor, encoder)


def fold_fingerprint(items: list[dict], encoder: str | None, C: float, embed_scale: float, real_weight: float,
                     headline_rows: bool, resources: Path = OUT) -> str:
    """What grouped out-of-fold scores depend on, hashed (release 3.23): every item whole (ids,
    groups, texts, labels, categories), the dictionaries the features read (verbs.json,
    strong_verbs.json), the encoder's name and the fit's settings. scripts/fold_events.py writes it
    into every part and oof.npz; a cache whose fingerprint differs is not used."""
    h = hashlib.sha256()
    for item in items:
        h.update(json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n")
    for name in ("verbs.json", "strong_verbs.json"):
        h.update((resources / name).read_bytes())
    h.update(f"{encoder}|{C:g}|{embed_scale:g}|{real_weight:g}|{bool(headline_rows)}".encode())
    return h.hexdigest()[:20]


def cached_out_of_fold(path: Path | None, items: list[dict], fingerprint: str | None = None,
                       log=print) -> tuple[np.ndarray, np.ndarray] | None:
    """Out-of-fold decisions written by scripts/fold_events.py --merge for the same items (and, when
    ``fingerprint`` is given, the same fingerprint: fold_fingerprint); else None, saying why."""
    if path is None:
        return None
    if not path.exists():
        log(f"no out-of-fold cache at {path}: every fold is fitted again")
        return None
    with np.load(path) as f:
        if list(f["ids"]) != [i["id"] for i in items]:
            log(f"{path} was written for other items: every fold is fitted again")
            return None
        if fingerprint is not None and ("fingerprint" not in f or str(f["fingerprint"]) != fingerprint):
            log(f"{path} was written for other texts, labels, dictionaries or settings (fingerprint "
                f"{str(f['fingerprint']) if 'fingerprint' in f else 'none'}, these {fingerprint}): "
                f"every fold is fitted again")
            return None
        return f["both"], f["alone"]


def train(items: list[dict], extractor, encoder, C: float, embed_scale: float = 1.0, real_weight: float = 1.0,
          rule: str = PRIMARY_RULE, oof_cache: Path | None = None, log=print, shift_grid: str = SHIFT_GRID,
          objective: str = OBJECTIVE, event_gate: bool = EVENT_GATE, shift_rule: str | None = None,
          headline_shift: bool | float = False, headline_rows: bool = False,
          vectors: Path | None = None, joint_shift: bool = False, ranker_fit: str = "all") -> TypeClassifier:
    """Fit on every item; calibrate and choose thresholds on every group's out-of-fold scores
    (read from ``oof_cache`` when it holds them for these items); ``shift_rule``: the rule whose
    primaries choose the threshold shift (default ``rule``; ``calibrate_real``); ``vectors``: the
    vector store of scripts/encode_events.py to start from (release 3.23; main passes out/vectors)."""
    extractor = CachedExtractor(extractor)
    encoder = CachedEncoder(encoder, vectors) if encoder is not None else None
    cached = cached_out_of_fold(oof_cache, items, fold_fingerprint(items, None if encoder is None else encoder.name, C,
                                                                   embed_scale, real_weight, headline_rows), log)
    if cached is not None:
        log(f"out-of-fold scores from {oof_cache}")
        both, alone = cached
    else:
        both, alone, _ = out_of_fold(items, extractor, encoder, C, embed_scale, real_weight, log, headline_rows)
    clf = fit(items, extractor, encoder, C, embed_scale, real_weight, headline_rows)
    named = headline_named(items) if rule in NAMED_RULES else None
    return calibrate_real(clf, both, alone, items, rule, TUNE_ON, HEADLINE_PLATT, shift_grid, objective, event_gate,
                          shift_rule, headline_shift, named, joint_shift, ranker_fit)


def save(clf: TypeClassifier, out: Path, extra: dict | None = None) -> None:
    """Write classifier.npz and classifier.json (plain arrays and JSON)."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "classifier.npz", "wb") as f:   # fixed member order and no timestamps: same bytes on rerun
        np.savez(f, coef=clf.coef.astype(np.float32), intercept=clf.intercept.astype(np.float32),
                 idf=clf.idf.astype(np.float32), platt=clf.platt.astype(np.float32),
                 thresholds=clf.thresholds.astype(np.float32),
                 **({} if clf.platt_alone is None else {"platt_alone": clf.platt_alone.astype(np.float32)}),
                 **({} if clf.ranker is None else {"ranker_coef": clf.ranker[0].astype(np.float32),
                                                   "ranker_intercept": clf.ranker[1].astype(np.float32)}))
    meta = {"types": list(clf.types), "encoder": clf.encoder.name if clf.encoder else None,
            "title_repeat": clf.title_repeat, "title_share": clf.title_share, "embed_scale": clf.embed_scale,
            "primary_rule": clf.primary_rule, "lead_shift": clf.lead_shift,
            **({"headline_shift": clf.headline_shift} if clf.headline_shift else {}),
            **({} if clf.event_gate is None else {"event_gate": clf.event_gate}),
            "vocabulary": dict(sorted(clf.vocabulary.items())), **(extra or {})}
    with open(out / "classifier.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, separators=(",", ":"))


# Short names of the sentence encoders (pipelines.nlp.encoder); "a+b" joins them.
ENCODER_NAMES = {"wordllama": WORDLLAMA, "minilm": MINILM}
ENCODER = "wordllama"


def encoder_name(short: str) -> str:
    """The encoder name classifier.json records for a short name such as "wordllama+minilm"."""
    parts = short.split("+")
    unknown = [p for p in parts if p not in ENCODER_NAMES]
    if unknown:
        raise ValueError(f"unknown encoder {unknown[0]!r}; known: {', '.join(ENCODER_NAMES)}")
    return "+".join(ENCODER_NAMES[p] for p in parts)


def add_encoder_option(parser: argparse.ArgumentParser) -> None:
    def checked(value: str) -> str:
        try:
            encoder_name(value)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        return value

    parser.add_argument("--encoder", type=checked, default=ENCODER,
                        help=f"sentence vector: {' or '.join(ENCODER_NAMES)}, or both joined by '+' "
                             f"(default {ENCODER}; release 3.7 option: wordllama+minilm)")


def encoder_folder(C: float, real_weight: float, encoder: str = ENCODER, headline_rows: bool = False) -> str:
    """The out-of-fold cache folder of these settings under out/loso_events (WordLlama's keeps its
    old name; "-hl": with --headline-rows)."""
    return f"C{C:g}-w{real_weight:g}-enc" + ("" if encoder == ENCODER else f"-{encoder}") + ("-hl" if headline_rows else "")


def add_headline_rows_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headline-rows", action="store_true",
                        help="also train on each item's headline alone, with the item's labels (release 3.8 option)")


def add_threshold_options(parser: argparse.ArgumentParser) -> None:
    """The release 2.6 threshold-choice flags, shared with scripts/loso_events.py."""
    parser.add_argument("--shift-grid", choices=tuple(SHIFT_GRIDS), default=SHIFT_GRID,
                        help=f"the one threshold shift may only raise (0..0.25) or also lower (-0.2..0.25) "
                             f"the F1 thresholds (default {SHIFT_GRID})")
    parser.add_argument("--objective", choices=OBJECTIVES, default=OBJECTIVE,
                        help=f"sum: macro-F1 + type accuracy + no-event rate; noevent: macro-F1 + type accuracy "
                             f"with the no-event rate >= {NOEVENT_FLOOR}; noevent-sets(-high): the same with the "
                             f"mean of the real-news sets' own rates >= {SET_FLOORS['noevent-sets']} "
                             f"({SET_FLOORS['noevent-sets-high']}) (default {OBJECTIVE})")
    parser.add_argument("--event-gate", action=argparse.BooleanOptionalAction, default=EVENT_GATE,
                        help="the primary is the best-ranked type whenever it clears one event gate, chosen on "
                             "real news (default: %(default)s)")


def leave_out(items: list[dict], groups: list[str]) -> list[dict]:
    """``items`` without the named groups (a set that became training data after the shipped
    weights were trained, so that ``make events-model`` rebuilds the shipped release); a name that
    is no group of ``items`` is an error, not a silent no-op."""
    unknown = sorted(set(groups) - {i["group"] for i in items})
    if unknown:
        raise ValueError(f"no training group named {', '.join(unknown)}")
    return [i for i in items if i["group"] not in set(groups)]


def main(argv: list[str] | None = None) -> int:
    """Train, calibrate and write the weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--C", type=float, default=2.0, help="inverse regularisation (grouped CV, docs/eval-events.md)")
    parser.add_argument("--embed-scale", type=float, default=1.0, help="weight of the sentence vector block")
    parser.add_argument("--no-encoder", action="store_true", help="TF-IDF features only")
    add_encoder_option(parser)
    add_headline_rows_option(parser)
    parser.add_argument("--real-weight", type=float, default=REAL_WEIGHT, help="weight of real-news rows in training")
    parser.add_argument("--rule", choices=RULES, default=PRIMARY_RULE,
                        help="how passing types are ranked for the primary (pipelines.nlp.events.TypeClassifier; "
                             "ranker: a learned ranker, release 2.7 option)")
    parser.add_argument("--shift-rule", choices=RULES, default=None,
                        help="the rule whose primaries choose the threshold shift (default: --rule's own, ranker and "
                             "headline verb types included, release 3.28 option; releases 2.8-3.28 ship "
                             "--shift-rule headline-rank)")
    parser.add_argument("--oof-cache", type=Path, metavar="NPZ",
                        help="reuse the grouped out-of-fold scores scripts/loso_events.py wrote for the same "
                             "items and settings (out/loso_events/<settings>/oof.npz) instead of refitting the folds")
    parser.add_argument("--headline-shift", nargs="?", const=True, default=False, type=float, metavar="MAX",
                        help="with --rule ranker-headline(-rank): a passing type counts as the headline's when "
                             "its headline-alone probability reaches its threshold minus one shift chosen on "
                             f"the out-of-fold scores from 0 to MAX (default {HEADLINE_SHIFT_MAX}; release 3.5 "
                             "option, MAX release 3.15's)")
    parser.add_argument("--joint-shift", action="store_true",
                        help="with --headline-shift and no --shift-rule: each threshold shift is scored with "
                             "--rule's own primaries at the headline shift it would get (joint_shifts; release "
                             "3.29 option)")
    parser.add_argument("--ranker-fit", choices=RANKER_FITS, default="all",
                        help="with a ranked --rule: fit the ranker over every type (all) or over each item's "
                             "passing types only (choice: a conditional logit; release 3.30 option)")
    parser.add_argument("--vectors", default=str(VECTORS), metavar="DIR",
                        help="the vector store of scripts/encode_events.py to start from (default out/vectors; "
                             "'none': encode every text; release 3.23)")
    parser.add_argument("--leave-out", nargs="*", default=[], metavar="GROUP",
                        help="training groups to leave out (e.g. a blind set seen after the shipped weights were "
                             "trained: make events-model rebuilds the shipped release)")
    add_threshold_options(parser)
    args = parser.parse_args(argv)
    if isinstance(args.headline_shift, float) and args.headline_shift <= 0:
        parser.error(f"--headline-shift MAX must be over 0, not {args.headline_shift:g}")
    if args.headline_shift and args.rule not in HEADLINE_FIRST_RULES:
        parser.error(f"--headline-shift needs --rule {' or '.join(HEADLINE_FIRST_RULES)}, not {args.rule}")
    if args.shift_rule not in (None, args.rule) and args.shift_rule in RANKED_RULES + tuple(NAMED_RULES):
        # a ranked shift rule needs --rule's ranker, a named one its headline verb types (release
        # 3.28: no --shift-rule chooses the shift with --rule's own primaries, the ranker and the
        # headline's verb types included)
        parser.error(f"--shift-rule {args.shift_rule} needs --rule {args.shift_rule} or none "
                     f"(headline-rank, as make events-model gives it, needs neither)")
    if args.joint_shift and (not args.headline_shift or args.shift_rule not in (None, args.rule)):
        parser.error("--joint-shift needs --headline-shift and no --shift-rule other than --rule")
    if args.ranker_fit != "all" and args.rule not in RANKED_RULES:
        parser.error(f"--ranker-fit {args.ranker_fit} needs a ranked --rule ({', '.join(RANKED_RULES)})")
    require(args.shared, BBC)
    t0 = time.time()
    try:
        items = leave_out(training_items(args.shared), args.leave_out)
    except ValueError as e:
        parser.error(str(e))
    encoder = None if args.no_encoder else load_encoder(encoder_name(args.encoder))
    print(f"{len(items)} training items ({sum(1 for i in items if item_types(i))} with an event)")
    clf = train(items, extractor_from(), encoder, args.C, args.embed_scale, args.real_weight, args.rule,
                args.oof_cache, print, args.shift_grid, args.objective, args.event_gate, args.shift_rule,
                args.headline_shift, args.headline_rows, None if args.vectors == "none" else Path(args.vectors),
                args.joint_shift, args.ranker_fit)
    save(clf, args.out, {"C": args.C, "real_weight": args.real_weight, "training_items": len(items),
                         **({"headline_rows": True} if args.headline_rows else {}),
                         "shift_grid": args.shift_grid, "objective": args.objective,
                         "shift_rule": args.shift_rule or args.rule,
                         **({"joint_shift": True} if args.joint_shift else {}),
                         **({"ranker_fit": args.ranker_fit} if args.ranker_fit != "all" else {}),
                         **({"headline_shift_max": args.headline_shift} if isinstance(args.headline_shift, float) else {}),
                         **({"left_out": sorted(args.leave_out)} if args.leave_out else {})})
    print("thresholds: " + ", ".join(f"{t} {v:.3f}" for t, v in zip(clf.types, clf.thresholds))
          + ("" if clf.event_gate is None else f"; event gate {clf.event_gate:.3f}")
          + (f"; headline shift {clf.headline_shift:.3f}" if args.headline_shift else ""))
    print(f"wrote {args.out}/classifier.npz and classifier.json in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
