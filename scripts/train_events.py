"""Train the PLOVER sentence classifier and write its weights to pipelines/resources/events/.

Training data (all from ../shared, nothing from the held-back splits in scripts/event_data.py, and
no BBC article that repeats the headline of a dev or tuning item - the archive has duplicates):
- synthetic NGEC stories outside the held-back split: the headline and the first two sentences
  of the story, each labelled with the story's PLOVER type;
- the hand-written NGEC headline templates (countries filled in), except held-back templates
  (template split only);
- negatives ("NONE"): sentences and headlines of BBC sport, entertainment and tech articles
  outside the held-out quarter;
- real-news sentences with distant labels: BBC politics and business articles outside the
  held-out quarter, parsed with spaCy; a sentence whose event verb (found on the parse as the
  coder does) is one of the reliable verbs (strong_verbs.json) and has a subject takes the
  verb's PLOVER type,
  a sentence without one is "NONE". This brings news style, which the synthetic stories lack;
- hand-labelled real news (``data/train/events_news_labels.jsonl``): the headline and the lead
  sentence of the 703 BBC politics and business articles of the training quarters (the 40 the
  labellers could not decide are skipped), each with its own PLOVER type or none (ids and types
  only; the texts come from ../shared); the hand-labelled leads replace their distant labels;
- one short clause per coded verb and verb pattern of the CAMEO verb dictionary ("France
  deployed troops" -> MOBILIZE through CAMEO2PLOVER; event_data.cameo_pattern_sentences), so the
  classifier knows verbs that no NGEC template uses.

Model: TF-IDF (sublinear tf, l2) over event_features.FeatureExtractor features and a
multinomial logistic regression; a temperature fitted on a calibration slice (10% of training
templates) makes the probabilities calibrated. Weights are stored as plain arrays (npz + JSON),
no pickles. Deterministic: fixed seeds and sorted inputs.

The shipped weights use the story split (every headline template seen, a fifth of the stories
held back). The generalisation check trains the same model without a fifth of the templates:
       python scripts/build_event_synthetic_test.py        # build/eval/, from ../shared
       cp -r pipelines/resources/events /tmp/unseen
       python scripts/train_events.py --split template --out /tmp/unseen
       newsflow eval events --resources /tmp/unseen --gold build/eval/events_synthetic_unseen_templates.jsonl

Usage: nice -n 10 python scripts/train_events.py [--shared ../shared]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import (BBC, CAMEO2PLOVER, CAMEO_VERBS, DEFAULT_SHARED, HEADLINES, REPO,  # noqa: E402
                        SHIPPED_SPLIT, SYNTHETIC_ZIP, cameo_pattern_sentences, load_headlines,
                        load_synthetic, load_training_bbc, require, synthetic_test_ids,
                        synthetic_test_templates)

from pipelines.nlp.event_features import FeatureExtractor, split_sentences  # noqa: E402

OUT = REPO / "pipelines" / "resources" / "events"
NONE = "NONE"
FILL_COUNTRIES = ["France", "Kenya", "Brazil", "India", "Japan", "Egypt", "Peru", "Poland",
                  "Nigeria", "Turkey", "Chile", "Iran", "Vietnam", "Canada", "Sudan", "Mexico"]
FILL_CITIES = ["Lagos", "Lima", "Cairo", "Hanoi", "Ankara", "Quito", "Dhaka", "Kyiv"]


def _fill(template: str, rng: random.Random) -> str:
    out = template
    for key in ("{country_1}", "{country_2}", "{country_3}", "{country}"):
        while key in out:
            out = out.replace(key, rng.choice(FILL_COUNTRIES), 1)
    while "{city}" in out:
        out = out.replace("{city}", rng.choice(FILL_CITIES), 1)
    return out.replace("{", "").replace("}", "")


def build_examples(shared: Path, rng: random.Random, split: str = SHIPPED_SPLIT):
    """(texts, labels, groups) of the training pool; groups keep a template's texts together."""
    stories = load_synthetic(shared)
    held = synthetic_test_templates(stories) if split == "template" else set()
    held_ids = synthetic_test_ids(stories, split)
    texts, labels, groups = [], [], []
    for s in stories:
        if s["id"] in held_ids:
            continue
        for unit in [s["title"]] + split_sentences(s["text"])[:2]:
            texts.append(unit), labels.append(s["label"]), groups.append(s["template"])
    for h in load_headlines(shared):
        template = h["title"].strip()
        if template in held:
            continue
        etype = h["event"].strip().upper()
        for _ in range(3):
            texts.append(_fill(template, rng)), labels.append(etype), groups.append(template)
    per_article = 12
    for art in load_training_bbc(shared):
        if art["category"] in ("politics", "business"):
            continue
        sents = [art["title"]] + split_sentences(art["body"])
        rng.shuffle(sents)
        for unit in sents[:per_article]:
            texts.append(unit), labels.append(NONE), groups.append(art["id"])
    for text, etype, code in cameo_pattern_sentences(shared):
        text = text.replace("{A}", rng.choice(FILL_COUNTRIES)).replace("{B}", rng.choice(FILL_COUNTRIES))
        texts.append(text), labels.append(etype), groups.append("cameo:" + code)
    return texts, labels, groups


def labelled_news_examples(shared: Path, path: Path):
    """(texts, labels, groups) of hand-labelled BBC headlines and lead sentences (training quarters).

    ``path`` holds ids and labels only (title_type, lead_type; null = no event); the texts come
    from the archive in ../shared, the lead being the body's first sentence as the dev set takes it.
    """
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    usable = {a["id"]: a for a in load_training_bbc(shared)}
    texts, labels, groups = [], [], []
    for row in rows:
        art = usable.get(row["id"])
        if row.get("skip") or art is None:
            continue
        lead = (split_sentences(art["body"]) or [""])[0]
        for text, label in ((art["title"], row["title_type"]), (lead, row["lead_type"])):
            if text.strip():
                texts.append(text.strip()), labels.append(label or NONE), groups.append(art["id"])
    return texts, labels, groups


def distant_examples(shared: Path, verbs: dict, strong: dict, max_per_article: int = 12,
                     hand_labelled: frozenset = frozenset()):
    """(texts, labels, groups) of BBC politics/business sentences labelled by the verb dictionary."""
    from pipelines.nlp.actors import event_verb, find_arguments, verb_entry
    from pipelines.nlp.ner import load_nlp

    nlp = load_nlp()
    arts = [a for a in load_training_bbc(shared) if a["category"] in ("politics", "business")]
    texts, labels, groups = [], [], []
    for art, doc in zip(arts, nlp.pipe((a["body"] for a in arts), batch_size=32)):
        for n, sent in enumerate(doc.sents):
            if n >= max_per_article or sum(t.is_alpha for t in sent) < 4:
                continue
            if n == 0 and art["id"] in hand_labelled:
                continue   # the lead has a hand label
            verb = event_verb(sent, verbs, strong)
            hit = None
            if verb is not None and verb.pos_ in ("VERB", "AUX"):
                hit = verb_entry(verb, strong)
            label = NONE
            if hit:
                source, _ = find_arguments(sent, verb)
                if source is not None:
                    label = hit[0]
            texts.append(sent.text.strip()), labels.append(label), groups.append(art["id"])
    return texts, labels, groups


def main(argv: list[str] | None = None) -> int:
    """Train, calibrate and write the weights."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--max-features", type=int, default=30000)
    parser.add_argument("--C", type=float, default=1.0,
                        help="inverse regularisation; 1.0 won a 5-fold template-grouped CV on the training pool")
    parser.add_argument("--news-labels", type=Path, default=REPO / "data" / "train" / "events_news_labels.jsonl",
                        help="hand labels of BBC headlines and leads (ids and types only)")
    parser.add_argument("--news-weight", type=float, default=1.0,
                        help="sample weight of the hand-labelled news headlines and leads")
    parser.add_argument("--distant-none-weight", type=float, default=1.0,
                        help="sample weight of distant news sentences labelled NONE")
    parser.add_argument("--no-distant", action="store_true", help="skip the distant-labelled news sentences")
    parser.add_argument("--split", choices=("template", "story"), default=SHIPPED_SPLIT,
                        help="synthetic hold-out: by story (shipped) or by headline template (generalisation check)")
    parser.add_argument("--resources", type=Path, default=OUT,
                        help="where the dictionaries are read from (default: the shipped ones)")
    args = parser.parse_args(argv)
    require(args.shared, SYNTHETIC_ZIP, HEADLINES, BBC, CAMEO2PLOVER, CAMEO_VERBS)

    t0 = time.time()
    rng = random.Random(13)
    verbs = json.loads((args.resources / "verbs.json").read_text(encoding="utf-8"))
    countries = json.loads((args.resources / "countries.json").read_text(encoding="utf-8"))
    strong = json.loads((args.resources / "strong_verbs.json").read_text(encoding="utf-8"))
    extractor = FeatureExtractor(verbs, countries, strong)
    texts, labels, groups = build_examples(args.shared, rng, args.split)
    weights = [1.0] * len(texts)
    hand_labelled: frozenset = frozenset()
    if args.news_labels and args.news_labels.exists():
        n_texts, n_labels, n_groups = labelled_news_examples(args.shared, args.news_labels)
        hand_labelled = frozenset(n_groups)
        print(f"{len(n_texts)} hand-labelled news headlines and leads, "
              f"{sum(1 for x in n_labels if x != NONE)} with an event type")
        texts, labels, groups = texts + n_texts, labels + n_labels, groups + n_groups
        weights += [args.news_weight] * len(n_texts)
    if not args.no_distant:
        d_texts, d_labels, d_groups = distant_examples(args.shared, verbs, strong, hand_labelled=hand_labelled)
        print(f"{len(d_texts)} distant-labelled news sentences, "
              f"{sum(1 for x in d_labels if x != NONE)} with an event type")
        texts, labels, groups = texts + d_texts, labels + d_labels, groups + d_groups
        # A news sentence without a reliable verb is only probably eventless ("X dismissed Y's
        # budget" has no listed verb): its "NONE" label counts for less than a real one.
        weights += [args.distant_none_weight if y == NONE else 1.0 for y in d_labels]
    print(f"{len(texts)} training units, {len(set(labels))} classes")

    # Calibration slice: whole groups, so temperature is fitted on unseen templates.
    group_ids = sorted(set(groups))
    rng.shuffle(group_ids)
    calib = set(group_ids[: len(group_ids) // 10])
    fit_idx = [i for i, g in enumerate(groups) if g not in calib]
    cal_idx = [i for i, g in enumerate(groups) if g in calib]

    vec = TfidfVectorizer(analyzer=extractor, sublinear_tf=True, min_df=2,
                          max_features=args.max_features, dtype=np.float32)
    x_fit = vec.fit_transform([texts[i] for i in fit_idx])
    y_fit = np.array([labels[i] for i in fit_idx])
    clf = LogisticRegression(C=args.C, max_iter=2000, class_weight="balanced")
    clf.fit(x_fit, y_fit, sample_weight=np.array([weights[i] for i in fit_idx]))

    x_cal = vec.transform([texts[i] for i in cal_idx])
    y_cal = np.array([labels[i] for i in cal_idx])
    logits = clf.decision_function(x_cal)
    col = {c: j for j, c in enumerate(clf.classes_)}
    target = np.array([col[c] for c in y_cal])
    best_t, best_nll = 1.0, float("inf")
    for t in np.arange(0.3, 3.01, 0.05):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -logp[np.arange(len(target)), target].mean()
        if nll < best_nll:
            best_t, best_nll = float(t), float(nll)
    acc = float((clf.classes_[logits.argmax(axis=1)] == y_cal).mean())
    print(f"calibration slice: {len(cal_idx)} units, accuracy {acc:.3f}, temperature {best_t:.2f}")

    vocab = {term: int(i) for term, i in vec.vocabulary_.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "classifier.npz",
                        coef=clf.coef_.astype(np.float32), intercept=clf.intercept_.astype(np.float32),
                        idf=vec.idf_.astype(np.float32))
    meta = {"classes": [str(c) for c in clf.classes_], "temperature": best_t,
            "vocabulary": dict(sorted(vocab.items())), "C": args.C,
            "training_units": len(texts), "calibration_accuracy": round(acc, 4)}
    with open(args.out / "classifier.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {args.out}/classifier.npz and classifier.json in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
