"""Fine-tune en_core_web_sm's NER on CoNLL-2003 train, keeping its OntoNotes label set.

    nice -n 10 python scripts/train_ner.py [--shared ../shared] [--minutes 15]

Why fine-tune instead of adding a second NER: the packaged ``ner`` has its own tok2vec, so
updating it leaves tagger and parser untouched and costs no throughput at all, where a second
model would roughly double the NER time.

Training data, rebuilt on every run from ../shared:
- eng.train sentences with gold CoNLL spans relabelled to OntoNotes (PER->PERSON, ORG->ORG,
  LOC->GPE/LOC/FAC, MISC->NORP/EVENT/...; the original model's label is kept where it agrees
  with the gold span and type), plus the original model's DATE/CARDINAL/MONEY/... spans that do
  not clash with gold, so those labels are not forgotten;
- a Title-Cased copy of some of those sentences, because headlines like "Shoigu Meets With
  Kim" are capitalized without being names;
- rehearsal: sentences of the BBC and 2016-17 news archives labelled by the original model.
5% of eng.train is held out to choose the epoch; eng.testa is never seen in training.
Output: pipelines/resources/entities/ner_weights.npz (float16 weights, loaded by load_nlp);
the full-precision component of the best epoch is kept in --work.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.eval.ner import (ONTONOTES_TO_CONLL, Scores, predicted_spans, read_conll,  # noqa: E402
                                title_case)
from pipelines.nlp.countries import country_for  # noqa: E402
from _shared import BBC, CONLL_TRAIN, DEFAULT_SHARED, NEWS100, require  # noqa: E402

KEEP_PREDICTED = {"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"}
EVENT_WORDS = re.compile(r"(Cup|Championships?|Open|Games|Olympics?|War|League|Grand Prix|Tour|"
                         r"Masters|Series|Classic|Trophy|Final|Rally)$")


def ontonotes_label(text: str, conll_type: str, predicted: str | None) -> str:
    """The OntoNotes label for a gold CoNLL span."""
    if predicted and ONTONOTES_TO_CONLL.get(predicted) == conll_type:
        return predicted
    if conll_type == "PER":
        return "PERSON"
    if conll_type == "ORG":
        return "ORG"
    if conll_type == "LOC":
        return "GPE" if country_for(text, "GPE") else "LOC"
    if country_for(text, "NORP") or re.search(r"(an|ans|ese|ish|ic|i)$", text):
        return "NORP"
    if EVENT_WORDS.search(text):
        return "EVENT"
    return "NORP" if " " not in text else "EVENT"


def conll_examples(nlp, sentences, rng: random.Random, title_share: float):
    """Examples from CoNLL sentences: gold spans relabelled, plus kept numeric predictions."""
    from spacy.tokens import Doc, Span
    from spacy.training import Example

    examples = []
    docs = nlp.pipe((Doc(nlp.vocab, words=s.words) for s in sentences), batch_size=512)
    for sentence, predicted in zip(sentences, docs):
        by_span = {(e.start, e.end): e.label_ for e in predicted.ents}
        ents = []
        covered = set()
        for start, end, kind in sorted(sentence.spans):
            text = " ".join(sentence.words[start:end])
            ents.append((start, end, ontonotes_label(text, kind, by_span.get((start, end)))))
            covered.update(range(start, end))
        for ent in predicted.ents:
            if ent.label_ in KEEP_PREDICTED and not covered.intersection(range(ent.start, ent.end)):
                ents.append((ent.start, ent.end, ent.label_))
        variants = [sentence.words]
        if rng.random() < title_share and not all(w.isupper() for w in sentence.words if w.isalpha()):
            variants.append(title_case(sentence.words))
        for words in variants:
            reference = Doc(nlp.vocab, words=words)
            reference.set_ents([Span(reference, s, e, label=l) for s, e, l in sorted(ents)],
                               default="outside")
            examples.append(Example(Doc(nlp.vocab, words=words), reference))
    return examples


def archive_texts(shared: Path, limit: int, rng: random.Random) -> list[str]:
    """Paragraphs of the two news archives, shuffled."""
    texts = []
    with (shared / BBC).open(encoding="utf-8") as f:
        for line in f:
            article = json.loads(line)
            texts.extend(p for p in article["body"].split("\n") if len(p.split()) > 5)
    with (shared / NEWS100).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            texts.extend(p for p in (row.get("text") or "").split("\n") if len(p.split()) > 5)
    rng.shuffle(texts)
    return texts[:limit]


def rehearsal_examples(nlp, texts: list[str]):
    """The original model's own annotations of archive paragraphs, so its OntoNotes skills stay."""
    from spacy.tokens import Doc, Span
    from spacy.training import Example

    examples = []
    for predicted in nlp.pipe(texts, batch_size=128):
        words = [t.text for t in predicted]
        spaces = [bool(t.whitespace_) for t in predicted]
        reference = Doc(nlp.vocab, words=words, spaces=spaces)
        reference.set_ents([Span(reference, e.start, e.end, label=e.label_) for e in predicted.ents],
                           default="outside")
        examples.append(Example(Doc(nlp.vocab, words=words, spaces=spaces), reference))
    return examples


def dev_f1(nlp, sentences) -> float:
    """Entity F1 on held-out CoNLL sentences with the CoNLL mapping."""
    from spacy.tokens import Doc

    scores = Scores()
    with nlp.select_pipes(enable=["ner"]):
        for sentence, doc in zip(sentences, nlp.pipe(Doc(nlp.vocab, words=s.words) for s in sentences)):
            scores.add(sentence.spans, predicted_spans(doc))
    return scores.prf()[2]


def main(argv: list[str] | None = None) -> int:
    """Train, keep the epoch with the best held-out F1, write its weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path,
                        default=REPO / "pipelines" / "resources" / "entities" / "ner_weights.npz")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsflow-ner-train"),
                        help="folder for the best epoch's full-precision component")
    parser.add_argument("--minutes", type=float, default=15.0, help="wall-clock training budget")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--rehearsal", type=int, default=5000, help="archive paragraphs to rehearse")
    parser.add_argument("--title-share", type=float, default=0.15)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--init", type=Path,
                        help="start from these exported weights (e.g. the shipped ner_weights.npz) "
                             "instead of the packaged model's; data are still labelled by the packaged model")
    parser.add_argument("--learn-rate", type=float, default=0.001)
    args = parser.parse_args(argv)
    require(args.shared, CONLL_TRAIN, BBC, NEWS100)

    import contextlib

    import spacy
    from spacy.util import fix_random_seed, minibatch
    from thinc.api import compounding

    from pipelines.nlp.ner import load_nlp

    fix_random_seed(args.seed)
    rng = random.Random(args.seed)
    started = time.time()
    nlp = load_nlp(improved=False)
    sentences = list(read_conll(args.shared / CONLL_TRAIN))
    rng.shuffle(sentences)
    held = max(1, len(sentences) // 20)
    dev, train = sentences[:held], sentences[held:]
    examples = conll_examples(nlp, train, rng, args.title_share)
    examples += rehearsal_examples(nlp, archive_texts(args.shared, args.rehearsal, rng))
    print(f"{len(examples)} examples ({len(train)} CoNLL sentences); dev {len(dev)}; "
          f"prepared in {time.time() - started:.0f}s; dev F1 before {dev_f1(nlp, dev):.4f}", flush=True)

    ner = nlp.get_pipe("ner")
    optimizer = nlp.resume_training()
    optimizer.learn_rate = args.learn_rate
    if args.init:
        from pipelines.nlp.ner import import_ner_weights

        import_ner_weights(ner, args.init)
        print(f"started from {args.init}: dev F1 {dev_f1(nlp, dev):.4f}", flush=True)
    best = dev_f1(nlp, dev) if args.init else -1.0
    if args.init:
        args.work.mkdir(parents=True, exist_ok=True)
        ner.to_disk(args.work, exclude=["vocab"])  # a later epoch must beat the starting point
    for epoch in range(args.epochs):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        with nlp.select_pipes(enable=["ner"]):
            for batch in minibatch(examples, size=compounding(8.0, 64.0, 1.001)):
                nlp.update(batch, sgd=optimizer, drop=args.dropout, losses=losses)
        averaged = (ner.model.use_params(optimizer.averages) if optimizer.averages
                    else contextlib.nullcontext())
        with averaged:
            f1 = dev_f1(nlp, dev)
            if f1 > best:
                best = f1
                args.work.mkdir(parents=True, exist_ok=True)
                ner.to_disk(args.work, exclude=["vocab"])
        elapsed = (time.time() - started) / 60
        print(f"epoch {epoch + 1}: loss {losses.get('ner', 0):.0f} dev F1 {f1:.4f} "
              f"(best {best:.4f}) {elapsed:.1f} min", flush=True)
        if elapsed * (epoch + 2) / (epoch + 1) > args.minutes:
            break
    from pipelines.nlp.ner import export_ner_weights

    ner.from_disk(args.work, exclude=["vocab"])
    export_ner_weights(ner, args.out)
    print(f"wrote {args.out} (held-out F1 {best:.4f}); spaCy {spacy.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
