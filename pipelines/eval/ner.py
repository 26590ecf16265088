"""``newsflow eval ner``: entity-level precision, recall and F1 of the NER step on CoNLL-2003.

The pipeline keeps OntoNotes labels; for scoring they are mapped to the four CoNLL types
(PERSON->PER; GPE, LOC, FAC->LOC; ORG->ORG; NORP, EVENT, WORK_OF_ART, LAW, LANGUAGE,
PRODUCT->MISC; other labels are not scored). A predicted entity counts only when its token
span and type both match a gold entity exactly.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

CONLL_TYPES = ("PER", "LOC", "ORG", "MISC")
ONTONOTES_TO_CONLL = {
    "PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "ORG": "ORG",
    "NORP": "MISC", "EVENT": "MISC", "WORK_OF_ART": "MISC", "LAW": "MISC", "LANGUAGE": "MISC",
    "PRODUCT": "MISC",
}

Span = tuple[int, int, str]  # token start, token end (exclusive), CoNLL type


@dataclass
class Sentence:
    """One CoNLL sentence: its tokens and gold entity spans."""
    words: list[str]
    spans: set[Span]


@dataclass
class Scores:
    """Entity-level counts per type, with P/R/F1 derived from them."""
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)

    def add(self, gold: set[Span], predicted: set[Span]) -> None:
        for span in predicted & gold:
            self.tp[span[2]] += 1
        for span in predicted - gold:
            self.fp[span[2]] += 1
        for span in gold - predicted:
            self.fn[span[2]] += 1

    def prf(self, kind: str | None = None) -> tuple[float, float, float]:
        """Precision, recall, F1 for one type, or micro-averaged over all when ``kind`` is None."""
        kinds = (kind,) if kind else CONLL_TYPES
        tp = sum(self.tp[k] for k in kinds)
        fp = sum(self.fp[k] for k in kinds)
        fn = sum(self.fn[k] for k in kinds)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def as_dict(self) -> dict:
        """JSON-ready figures."""
        result = {}
        for kind in (*CONLL_TYPES, None):
            p, r, f = self.prf(kind)
            kinds = (kind,) if kind else CONLL_TYPES
            result[kind or "overall"] = {
                "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                "support": sum(self.tp[k] + self.fn[k] for k in kinds)}
        return result


def iob_spans(tags: list[str]) -> set[Span]:
    """Entity spans from IOB1 or IOB2 tags (an I- after a different type starts an entity)."""
    spans: set[Span] = set()
    start, kind = None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_type = tag.partition("-")
        begins = prefix == "B" or (prefix == "I" and tag_type != kind)
        if start is not None and (prefix == "O" or begins):
            spans.add((start, i, kind))
            start, kind = None, None
        if begins:
            start, kind = i, tag_type
    return spans


def read_conll(path: Path) -> Iterator[Sentence]:
    """Sentences of a CoNLL-2003 file (token POS chunk tag per line; blank line between)."""
    words: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in [*f, "\n"]:
            parts = line.split()
            if parts and parts[0] != "-DOCSTART-":
                words.append(parts[0])
                tags.append(parts[-1])
                continue
            if words:
                yield Sentence(words, iob_spans(tags))
            words, tags = [], []


SMALL_WORDS = frozenset({"a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "by", "with"})


def title_case(words: list[str]) -> list[str]:
    """Headline casing: every word capitalized except small function words."""
    out = []
    for i, word in enumerate(words):
        if word.isalpha() and (i == 0 or word.lower() not in SMALL_WORDS):
            out.append(word[:1].upper() + word[1:])
        else:
            out.append(word)
    return out


def headline_variant(sentences: Iterable[Sentence]) -> list[Sentence]:
    """The mixed-case sentences, Title-Cased like headlines (gold spans unchanged)."""
    return [Sentence(title_case(s.words), s.spans) for s in sentences
            if not all(w.isupper() for w in s.words if w.isalpha())]


def predicted_spans(doc) -> set[Span]:
    """The doc's entities as CoNLL-typed token spans (unscored labels dropped)."""
    return {(ent.start, ent.end, ONTONOTES_TO_CONLL[ent.label_])
            for ent in doc.ents if ent.label_ in ONTONOTES_TO_CONLL}


def evaluate(nlp, sentences: Iterable[Sentence], batch_size: int = 256) -> tuple[Scores, int, float]:
    """Run ``nlp`` over pre-tokenized sentences; return scores, sentence count and seconds."""
    from spacy.tokens import Doc

    sentences = list(sentences)
    docs = (Doc(nlp.vocab, words=s.words) for s in sentences)
    scores = Scores()
    started = time.perf_counter()
    for sentence, doc in zip(sentences, nlp.pipe(docs, batch_size=batch_size)):
        scores.add(sentence.spans, predicted_spans(doc))
    return scores, len(sentences), time.perf_counter() - started


def format_table(scores: Scores) -> str:
    """A fixed-width table of P/R/F1 per type and overall."""
    lines = [f"{'type':<8}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for name, row in scores.as_dict().items():
        lines.append(f"{name:<8}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}"
                     f"{row['support']:>10}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow eval ner",
                                     description="Entity-level precision, recall and F1 of the NER step on CoNLL-2003.")
    parser.add_argument("--conll", type=Path, required=True, metavar="FILE",
                        help="CoNLL-2003 file (e.g. eng.testa; not shipped: the CoNLL-2003 English data)")
    parser.add_argument("--model", metavar="NAME", help="spaCy model package (default: the project's loader)")
    parser.add_argument("--bare", action="store_true",
                        help="score the spaCy model without the project's NER improvements")
    parser.add_argument("--limit", type=int, metavar="N", help="score only the first N sentences")
    parser.add_argument("--title-case", action="store_true",
                        help="score Title-Cased copies of the mixed-case sentences (headline robustness)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``newsflow eval ner``."""
    args = build_parser().parse_args(argv)
    if not args.conll.is_file():
        print(f"newsflow eval ner: cannot read {args.conll}", file=sys.stderr)
        return 2
    from pipelines.nlp.ner import ModelNotFoundError, load_nlp

    try:
        nlp = load_nlp(args.model, improved=not args.bare)
    except ModelNotFoundError as exc:
        print(f"newsflow eval ner: {exc}", file=sys.stderr)
        return 3
    sentences = list(read_conll(args.conll))
    if args.limit:
        sentences = sentences[:args.limit]
    if args.title_case:
        sentences = headline_variant(sentences)
    scores, count, seconds = evaluate(nlp, sentences)
    if args.json:
        print(json.dumps({"file": str(args.conll), "sentences": count, "seconds": round(seconds, 1),
                          "scores": scores.as_dict()}, indent=2))
    else:
        print(f"{args.conll}: {count} {'Title-Cased ' if args.title_case else ''}sentences in "
              f"{seconds:.1f}s ({'bare model' if args.bare else 'newsflow NER'})")
        print(format_table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
