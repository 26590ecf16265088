"""PLOVER event coding: who did what to whom, where and when, sentence by sentence.

Each sentence of the title and body (spaCy-parsed by the shared pipeline) goes through a
calibrated TF-IDF + logistic-regression classifier over 16 PLOVER types and a "no event" class
(weights in ``resources/events/classifier.*``, trained by ``scripts/train_events.py``); the
event verb's own clause is classified too and averaged in. The CAMEO verb dictionary adds
evidence twice: as classifier features, and on the dependency parse, where a reliable event
verb ("met", "condemned", "arrested") boosts its type and supplies the CAMEO root and mode.
Actors come from the parse (:mod:`pipelines.nlp.actors`), location from the place the verb is
anchored to ("in Pyongyang"), date from the sentence's DATE entities resolved against
``published_at``. The article's ``primary_event_type`` comes from the headline's type
distribution blended with the lead's, among the coded types; it is None when too few sentences
carry an event. An AGREE without a counterpart (a policy announcement) is not coded.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import numpy as np

from pipelines.nlp.countries import country_for, country_table
from pipelines.nlp.actors import (ActorResolver, ActorTables, core_clause, event_verb, find_arguments,
                                  verb_entry)
from pipelines.nlp.event_features import FeatureExtractor

MODEL_VERSION = "plover-tfidf-lr-1.1"

NONE_CLASS = "NONE"
EVENT_TYPES = ("AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
               "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT")
QUAD_CLASS = {"AGREE": 1, "CONSULT": 1, "SUPPORT": 1, "CONCEDE": 1, "COOPERATE": 2, "AID": 2,
              "RETREAT": 2, "REQUEST": 3, "ACCUSE": 3, "REJECT": 3, "THREATEN": 3, "PROTEST": 4,
              "SANCTION": 4, "MOBILIZE": 4, "COERCE": 4, "ASSAULT": 4}
# CAMEO root used when the sentence's verb does not give one (PLOVER.md, "approx." column).
DEFAULT_ROOT = {"AGREE": "03", "CONSULT": "04", "SUPPORT": "05", "CONCEDE": "08",
                "COOPERATE": "06", "AID": "07", "RETREAT": "08", "REQUEST": "10", "ACCUSE": "11",
                "REJECT": "12", "THREATEN": "13", "PROTEST": "14", "SANCTION": "16",
                "MOBILIZE": "15", "COERCE": "17", "ASSAULT": "19"}
# Mode cues by type, first match wins; phrases are matched against lower-cased lemmas/words.
MODE_CUES = {
    "CONSULT": (("phone", ("phone", "telephone", "call", "video call")),
                ("visit", ("visit", "trip", "arrive", "host", "tour")),
                ("multilateral", ("summit", "conference", "multilateral", "forum")),
                ("third-party", ("mediate", "mediation", "broker"))),
    "PROTEST": (("hunger", ("hunger strike",)), ("strike", ("strike", "walkout", "walk out")),
                ("riot", ("riot", "unrest", "clash")), ("boycott", ("boycott",)),
                ("obstruct", ("blockade", "block", "sit-in")),
                ("demo", ("protest", "demonstrat", "rally", "march"))),
    "ASSAULT": (("aerial", ("air strike", "airstrike", "air raid", "warplane", "bomber")),
                ("drone", ("drone",)), ("suicide-attack", ("suicide",)),
                ("explosives", ("bomb", "explosi", "blast", "ied")),
                ("abduct", ("kidnap", "abduct", "hostage")),
                ("assassinate", ("assassinat",)), ("torture", ("tortur",)),
                ("execute", ("execut",)), ("sexual", ("rape", "sexual")),
                ("crowd-control", ("tear gas", "rubber bullet", "water cannon")),
                ("beat", ("beat",))),
    "COERCE": (("arrest", ("arrest", "detain", "custody")), ("censor", ("censor",)),
               ("curfew", ("curfew",)), ("martial-law", ("martial law", "state of emergency")),
               ("seize", ("seize", "confiscat")), ("cyber", ("cyber", "hack")),
               ("ban", ("ban",))),
    "SANCTION": (("expel", ("expel", "expulsion")), ("convict", ("convict", "sentence")),
                 ("withdraw", ("withdraw", "recall")), ("discontinue", ("suspend", "halt", "cut"))),
    "RETREAT": (("release", ("release", "free")), ("resign", ("resign", "step down")),
                ("withdraw", ("withdraw", "pull out", "pull back")), ("ceasefire", ("ceasefire", "truce")),
                ("disarm", ("disarm", "surrender"))),
    "MOBILIZE": (("police", ("police",)), ("weapons", ("missile", "weapon", "test")),
                 ("militia", ("militia",))),
    "ACCUSE": (("investigate", ("investigat", "probe", "inquiry")),
               ("allege", ("allege", "accuse", "claim")),
               ("disapprove", ("criticis", "criticiz", "condemn", "denounce"))),
}
# Share of the verb's own clause in a sentence's probabilities when side clauses were cut off.
CORE_WEIGHT = 2 / 3


@dataclass(frozen=True)
class CoderConfig:
    """Decision thresholds, chosen by scripts/tune_events.py on the hand-labelled real-news
    tuning set, never on the dev set (docs/eval-events.md)."""

    sentence_threshold: float = 0.7   # min probability of the best type for a sentence event
    verb_boost: float = 4.0           # relative boost of the type a reliable event verb names
    min_event_share: float = 0.2      # fewer event sentences than this share: no political event
    min_tokens: int = 4               # shorter sentences (datelines, bylines) are skipped
    title_share: float = 0.7          # headline's share of the article distribution (rest: lead)
    lead_sentences: int = 3           # body sentences that make up the lead
    agree_needs_counterpart: bool = True  # drop AGREE events with nobody to agree with


class SentenceClassifier:
    """Calibrated multinomial logistic regression over TF-IDF features, as plain arrays."""

    def __init__(self, classes, vocabulary, idf, coef, intercept, temperature, extractor):
        self.classes = list(classes)
        self._vocab = vocabulary
        self._idf = idf
        self._coef_t = np.ascontiguousarray(coef.T)  # features x classes, row gathers are cheap
        self._intercept = intercept
        self._temperature = temperature
        self._extractor = extractor

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in ``self.classes`` order."""
        out = np.empty((len(texts), len(self.classes)), dtype=np.float64)
        for row, text in enumerate(texts):
            counts = Counter(f for f in self._extractor(text) if f in self._vocab)
            logits = self._intercept.astype(np.float64)
            if counts:
                idx = np.fromiter((self._vocab[f] for f in counts), dtype=np.int64, count=len(counts))
                tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
                val = tf * self._idf[idx]
                val /= np.linalg.norm(val)
                logits = logits + val @ self._coef_t[idx]
            z = logits / self._temperature
            z = np.exp(z - z.max())
            out[row] = z / z.sum()
        return out


class EventCoder:
    """Codes PLOVER events and the primary event type of one parsed article."""

    def __init__(self, classifier: SentenceClassifier, verbs: dict[str, list], strong_verbs: dict[str, list],
                 actors: ActorResolver, config: CoderConfig = CoderConfig(),
                 calibration: tuple[float, float] | None = None):
        self.classifier = classifier
        self.calibration = calibration
        self.verbs = verbs
        self.strong_verbs = strong_verbs
        self.actors = actors
        self.config = config
        self._none = classifier.classes.index(NONE_CLASS)
        self._col = {c: i for i, c in enumerate(classifier.classes)}

    @classmethod
    def load(cls, resource_dir: str | Path | None = None, config: CoderConfig = CoderConfig()) -> "EventCoder":
        """Read the shipped weights and dictionaries (once per worker)."""
        base = Path(resource_dir) if resource_dir else Path(str(resources.files("pipelines") / "resources" / "events"))

        def table(name):
            return json.loads((base / f"{name}.json").read_text(encoding="utf-8"))

        verbs, countries, strong = table("verbs"), country_table(), table("strong_verbs")
        meta = table("classifier")
        with np.load(base / "classifier.npz") as arrays:
            coef, intercept, idf = arrays["coef"], arrays["intercept"], arrays["idf"]
        classifier = SentenceClassifier(meta["classes"], meta["vocabulary"], idf.astype(np.float64),
                                        coef.astype(np.float64), intercept, float(meta["temperature"]),
                                        FeatureExtractor(verbs, countries, strong))
        tables = ActorTables(countries=countries, agents=table("agents"), actors=table("actors"))
        calibration = None
        if (base / "calibration.json").exists():
            fitted = table("calibration")
            calibration = (float(fitted["slope"]), float(fitted["intercept"]))
        return cls(classifier, verbs, strong, ActorResolver(tables), config, calibration)

    def code(self, title_doc, body_doc, entities: list[dict], published_at: datetime | None):
        """Events of the article (dicts matching the Event record) and its primary type or None."""
        units = []  # (field, span)
        if title_doc is not None and len(title_doc.text.strip()) > 0:
            units.append(("title", title_doc[:]))
        if body_doc is not None:
            units.extend(("body", sent) for sent in body_doc.sents)
        units = [u for u in units if sum(1 for t in u[1] if t.is_alpha) >= self.config.min_tokens]
        if not units:
            return [], None
        verbs = [event_verb(u[1], self.verbs, self.strong_verbs) for u in units]
        # The verb's own clause is classified too and weighs more, so a side clause ("as the two
        # countries strengthen their alliance") cannot outvote the main one ("X met Y").
        cores = [core_clause(u[1], v) for u, v in zip(units, verbs)]
        texts = [u[1].text for u in units] + [c for c in cores if c]
        all_probs = self.classifier.predict_proba(texts)
        probs, extra = all_probs[: len(units)].copy(), iter(all_probs[len(units):])
        for i, core in enumerate(cores):
            if core:
                probs[i] = (1 - CORE_WEIGHT) * probs[i] + CORE_WEIGHT * next(extra)
        if not entities:
            entities = entities_from_docs(title_doc, body_doc)
        by_field = {"title": [e for e in entities if e.get("field") == "title"],
                    "body": [e for e in entities if e.get("field") == "body"]}
        boosted = []
        for p, verb in zip(probs, verbs):
            verb_hit = verb_entry(verb, self.strong_verbs) if verb is not None else None
            if verb_hit and verb.pos_ in ("VERB", "AUX"):
                p = p.copy()
                p[self._col[verb_hit[0]]] *= 1.0 + self.config.verb_boost
                p /= p.sum()
            boosted.append((p, verb_hit))
        events = []
        context = self.actors.new_context(entities, published_at)
        for (field, sent), (p, verb_hit), verb in zip(units, boosted, verbs):
            best = int(p.argmax())
            if best != self._none and p[best] >= self.config.sentence_threshold:
                event = self._event(self.classifier.classes[best], float(p[best]), field, sent, verb,
                                    verb_hit, by_field[field], context, published_at)
                if not self.config.agree_needs_counterpart or _is_dyadic(event, sent, verb):
                    events.append(event)
            context.observe(sent, by_field[field])
        # A sport report with one "attack" sentence is not a political story: require events in
        # a minimum share of the sentences before the article counts as reporting any.
        if not events or len(events) < self.config.min_event_share * len(units):
            return [], None
        return events, self._primary(units, [b[0] for b in boosted], {e["event_type"] for e in events})

    def _primary(self, units, probs, coded: set[str]) -> str:
        """The article's type: the headline's distribution blended with the lead's, over coded types.

        News puts the main event in the headline and the first sentences; later sentences give
        background ("last year the two countries fought a war") that must not outvote it.
        """
        title = [p for (field, _), p in zip(units, probs) if field == "title"]
        lead = [p for (field, _), p in zip(units, probs) if field == "body"][: self.config.lead_sentences]
        parts = []
        if title:
            parts.append((self.config.title_share if lead else 1.0, title[0]))
        if lead:
            parts.append((1.0 - self.config.title_share if title else 1.0, np.mean(lead, axis=0)))
        article = sum(w * p for w, p in parts)
        return max(coded, key=lambda etype: (article[self._col[etype]], etype))

    def calibrated(self, probability: float) -> float:
        """The classifier's probability mapped to the chance the event type is right in real news.

        The classifier is temperature-calibrated on synthetic stories, where it is right 9 times in
        10; on real headlines and leads it is right far less often at the same probability. A
        Platt map (slope and intercept on the log-odds), fitted by scripts/calibrate_events.py on
        the hand-labelled tuning set, corrects that. Decisions still use the raw probability.
        """
        if self.calibration is None:
            return probability
        slope, intercept = self.calibration
        p = min(max(probability, 1e-6), 1 - 1e-6)
        return float(1.0 / (1.0 + np.exp(-(slope * np.log(p / (1 - p)) + intercept))))

    def _event(self, etype, confidence, field, sent, verb, verb_hit, ents, context, published_at) -> dict:
        source_span, target_span = find_arguments(sent, verb)
        source = self.actors.actor(source_span, ents, context) if source_span is not None else None
        target = self.actors.actor(target_span, ents, context) if target_span is not None else None
        if source and target:
            # An agent without a country word ("a court ruling", "the police") acting with a
            # national actor is taken to be of the same country: most events are domestic.
            for one, other in ((source, target), (target, source)):
                if one["country"] is None and one["sector"] and other["country"] not in (None, "IGO", "NGO", "MNC"):
                    one["country"] = other["country"]
        location, location_country = self.actors.location(sent, verb, ents, source_span, target_span)
        for actor in (source, target):
            # Unnamed groups ("thousands", "residents") acting somewhere belong to that place.
            if actor and actor["country"] is None and actor["entity_id"] is None and location_country:
                actor["country"] = location_country
        code = verb_hit[1] if verb_hit and verb_hit[0] == etype else None
        # Cue words are more specific than the verb ("protested ... on strike" is a strike).
        mode = _mode_from_cues(etype, sent) or (verb_hit[2] if code else None)
        if (etype == "CONSULT" and mode is None and location_country and source and target
                and source["country"] and location_country == target["country"] != source["country"]):
            mode = "visit"  # meeting held in the target's country: the source travelled there
        return {
            "event_type": etype,
            "mode": mode,
            "cameo_root": code[:2] if code else DEFAULT_ROOT[etype],
            "quad_class": QUAD_CLASS[etype],
            "source_actor": source,
            "target_actor": target,
            "location": location,
            "date": self.actors.event_date(sent, verb, ents, published_at),
            "field": field,
            "start_char": sent.start_char,
            "end_char": sent.end_char,
            "confidence": round(self.calibrated(confidence), 4),
        }


def _is_dyadic(event: dict, sent, verb) -> bool:
    """False for a promise with nobody to keep it to: PLOVER's AGREE is an offer *to* someone.

    "Labour plans a maternity pay rise" or "Howard unveils his platform" state a policy, not an
    event; "Iran agreed to talks with the EU" and "France and Kenya agree to ..." are events.
    """
    if event["event_type"] != "AGREE":
        return True
    target = event["target_actor"]
    if target and (target["entity_id"] or target["country"] or target["sector"]):
        return True
    if verb is not None and any(t.dep_ == "conj" and t.head.dep_ in ("nsubj", "nsubjpass") for t in sent):
        return True   # compound subject: the parties agree with each other
    return any(ent.label_ in ("GPE", "NORP", "ORG", "PERSON") for ent in sent.ents[1:])


def entities_from_docs(title_doc, body_doc) -> list[dict]:
    """Minimal Entity dicts from spaCy's own entities, for callers without the entity resolver."""
    out = []
    for field_name, doc in (("title", title_doc), ("body", body_doc)):
        if doc is None:
            continue
        for ent in doc.ents:
            out.append({"text": ent.text, "label": ent.label_, "field": field_name,
                        "start_char": ent.start_char, "end_char": ent.end_char, "canonical": ent.text,
                        "entity_id": None, "country": country_for(ent.text, ent.label_), "geo": None})
    return out


def _mode_from_cues(etype: str, sent) -> str | None:
    text = " ".join(t.lemma_.lower() for t in sent) + " " + sent.text.lower()
    for mode, cues in MODE_CUES.get(etype, ()):
        if any(cue in text for cue in cues):
            return mode
    return None
