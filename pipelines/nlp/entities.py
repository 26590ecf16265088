"""Entities users can join on: canonical names, stable ids, countries, coordinates, dates.

``EntityResolver.resolve`` turns the spaCy entities of an article's title and body into
``Entity`` records (schemas/enriched_article.avsc):

- ``text``/``start_char``/``end_char``: the mention, without a trailing possessive
  ("Trump’s" -> "Trump") or leading "the";
- ``canonical``: the best full name in the article. "Shoigu" and "Kim" point to the first
  full name ending or starting with them ("Sergei Shoigu", "Kim Jong Un"); spelling variants
  ("Kim Jong-Un") share the most frequent spelling; places take their gazetteer name
  ("U.S." -> "United States"); DATE entities take their ISO date resolved against
  ``published_at``;
- ``entity_id``: a type plus a hash of the normalized canonical name, so it is equal across
  articles for the same name ("PER:4c6e5fc352b9"); GPE and LOC share the type PLACE, a
  nationality is keyed by its country ("Russian" = "Russians"), a resolved date is
  "DATE:2025-06-04", and quantities (CARDINAL, MONEY, ...) have none;
- ``country``: ISO-3 for places, nationalities and organisations named after a country;
- ``geo``: the gazetteer match for GPE/LOC/FAC.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from pipelines.nlp.countries import country_for, normalize_name
from pipelines.nlp.dates import resolve_date
from pipelines.nlp.geo import PLACE_LABELS, Gazetteer
from pipelines.nlp.ner import HONORIFICS

# Id namespaces: labels spaCy confuses for the same thing share one, so ids still join.
ID_TYPE = {"PERSON": "PER", "ORG": "ORG", "GPE": "PLACE", "LOC": "PLACE", "FAC": "FAC",
           "NORP": "NORP", "EVENT": "EVENT", "WORK_OF_ART": "WORK", "LAW": "LAW",
           "PRODUCT": "PRODUCT", "LANGUAGE": "LANGUAGE", "DATE": "DATE"}
# Labels that are quantities, not things: no canonical entity to join on.
NUMERIC_LABELS = frozenset({"TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
# Labels spaCy puts on a lone surname it did not recognise as a person ("Shoigu" as ORG).
MISLABELLED_PERSON = frozenset({"ORG", "GPE", "NORP", "PRODUCT", "WORK_OF_ART", "LOC", "FAC"})
_POSSESSIVE_END = re.compile(r"(?:['’]s|(?<=s)['’])$")
_EDGE_PUNCT = " \t\n,.;:!?\"'“”‘’()[]"
_PUNCT_ONLY = re.compile(r"^[\W_]+$")


@dataclass
class _Mention:
    """One entity mention being resolved."""
    text: str
    label: str
    field: str
    start: int
    end: int
    key: str = ""
    canonical: str | None = None
    country: str | None = None
    geo: dict | None = None
    words: list[str] = field(default_factory=list)


def entity_id(canonical: str, label: str) -> str | None:
    """Stable id of a canonical name: its id type and a short hash of the normalized name."""
    kind = ID_TYPE.get(label)
    if kind is None or not canonical:
        return None
    key = person_key(canonical) if label == "PERSON" else normalize_name(canonical)
    digest = hashlib.sha1(f"{kind}:{key}".encode("utf-8")).hexdigest()[:12]
    return f"{kind}:{digest}"


def person_key(name: str) -> str:
    """Normalized person name without honorifics ("President Vladimir Putin’s" -> "vladimir putin")."""
    words = normalize_name(name).split()
    while len(words) > 1 and words[0] in HONORIFICS:
        words = words[1:]
    return " ".join(words)


def _clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets without edge punctuation, a trailing possessive or a leading 'the'."""
    while start < end and text[start] in _EDGE_PUNCT:
        start += 1
    while end > start and text[end - 1] in _EDGE_PUNCT:
        end -= 1
    match = _POSSESSIVE_END.search(text[start:end])
    if match and end - start - len(match.group(0)) > 0:
        end = start + match.start()
    if text[start:start + 4].lower() == "the " and end - start > 4:
        start += 4
    return start, end


class EntityResolver:
    """Resolves an article's spaCy entities into joinable Entity records."""

    def __init__(self, gazetteer: Gazetteer):
        self.gazetteer = gazetteer

    @classmethod
    def load(cls) -> "EntityResolver":
        """Load the shipped gazetteer and country table (once per worker)."""
        from pipelines.nlp.countries import country_table

        country_table()
        return cls(Gazetteer.load())

    def resolve(self, title_doc, body_doc, published_at: datetime | None) -> list[dict]:
        """Entity records for the title's and the body's entities, in text order."""
        # Doc.text is rebuilt from the tokens on every access: read it once.
        docs = {"title": title_doc, "body": body_doc}
        texts = {name: doc.text if doc is not None else "" for name, doc in docs.items()}
        mentions = list(self._mentions(docs, texts))
        self._canonical_people(mentions)
        self._acronyms(mentions, texts)
        self._places(mentions)
        for mention in mentions:
            if mention.label == "DATE":
                mention.canonical = resolve_date(mention.text, published_at) or mention.text
            elif mention.canonical is None:
                mention.canonical = mention.text
            if mention.country is None and mention.geo is None and mention.label != "PERSON":
                mention.country = country_for(mention.text, mention.label)
        self._short_org_names(mentions)
        self._canonical_variants(mentions)
        return [self._record(m) for m in mentions]

    @staticmethod
    def _mentions(docs: dict, texts: dict[str, str]) -> Iterable[_Mention]:
        for field_name, doc in docs.items():
            if doc is None:
                continue
            full_text = texts[field_name]
            for ent in doc.ents:
                start, end = _clean_span(full_text, ent.start_char, ent.end_char)
                text = full_text[start:end]
                if not text or _PUNCT_ONLY.match(text):
                    continue
                mention = _Mention(text, ent.label_, field_name, start, end)
                mention.key = person_key(text) if ent.label_ == "PERSON" else normalize_name(text)
                mention.words = mention.key.split()
                yield mention

    def _canonical_people(self, mentions: list[_Mention]) -> None:
        """Point surnames, first names and spelling variants at the article's full name."""
        people = [m for m in mentions if m.label == "PERSON"]
        full = [m for m in people if len(m.words) >= 2]
        # Full-name keys in order of first mention (the body before the title, whose casing
        # and hyphenation are less reliable), so a surname goes to the first-mentioned person.
        order = sorted(full, key=lambda m: (m.field != "body", m.start))
        keys: list[str] = []
        for m in order:
            if m.key not in keys:
                keys.append(m.key)
        # Keys that only extend a longer one ("kim jong" of "kim jong un") fold into it.
        merged = {k: next((o for o in keys if o != k and o.startswith(k + " ")), k) for k in keys}
        for mention in mentions:
            if mention.label == "PERSON" and len(mention.words) >= 2:
                mention.key = merged[mention.key]
                continue
            if len(mention.words) != 1 or mention.label not in ({"PERSON"} | MISLABELLED_PERSON):
                continue
            word = mention.words[0]
            # Surname (last word) first, then a leading family name (Korean, Chinese order).
            match = next((k for k in keys if k.split()[-1] == word), None) \
                or next((k for k in keys if k.split()[0] == word), None)
            if match is None:
                continue
            if mention.label != "PERSON":
                # A lone non-person label on a person's surname: only when the name is
                # unknown as a place or country word ("Shoigu" GPE yes, "Jordan" GPE no).
                if country_for(mention.text, mention.label) or self.gazetteer.candidates(mention.text):
                    continue
                mention.label = "PERSON"
            mention.key = match

    @staticmethod
    def _acronyms(mentions: list[_Mention], texts: dict[str, str]) -> None:
        """"Security Service (SBU)": later "SBU" mentions take the spelled-out name."""
        expansions: dict[str, _Mention] = {}
        for mention in mentions:
            if mention.label not in ("ORG", "FAC", "GPE"):
                continue
            match = re.match(r"\s*\(([A-Z][A-Za-z.&]{1,9})\)", texts[mention.field][mention.end:])
            if match and len(mention.words) >= 2:
                acronym = match.group(1)
                initials = "".join(w[0] for w in mention.words if w not in ("of", "and", "for", "the"))
                # Accept an acronym that shares its first letter with the name's initials (the
                # name may be translated: "Security Service (SBU)").
                if acronym[0].lower() in initials:
                    expansions[normalize_name(acronym)] = mention
        if not expansions:
            return
        for mention in mentions:
            full = expansions.get(mention.key)
            if full is not None and mention is not full and len(mention.words) == 1:
                mention.key = full.key
                mention.label = full.label
                mention.canonical = full.text

    def _places(self, mentions: list[_Mention]) -> None:
        places = [m for m in mentions if m.label in PLACE_LABELS]
        for mention, place in zip(places, self.gazetteer.resolve((m.text, m.label) for m in places)):
            if place is None:
                continue
            if mention.label == "FAC" and place.kind in ("city", "capital"):
                continue  # "the Russian Embassy" is not a city; a FAC must match by its own name
            mention.geo = place.as_geo()
            # A region spanning countries ("Central America") has none, whatever its words say.
            mention.country = place.country
            mention.canonical = place.name
            mention.key = normalize_name(place.name)

    @staticmethod
    def _short_org_names(mentions: list[_Mention]) -> None:
        """"Security Council" after "Russian Security Council": the one longer name it ends."""
        orgs = [m for m in mentions if m.label == "ORG"]
        longer = {m.key: m for m in orgs if len(m.words) >= 3}
        for mention in orgs:
            if len(mention.words) < 2 or mention.key in longer:
                continue
            matches = {k for k in longer if k.endswith(" " + mention.key)}
            if len(matches) == 1:
                full = longer[matches.pop()]
                mention.key, mention.canonical = full.key, full.canonical or full.text

    @staticmethod
    def _canonical_variants(mentions: list[_Mention]) -> None:
        """Give every mention of one key the key's most frequent spelling (first if tied)."""
        spellings: dict[tuple[str, str], Counter] = {}
        first: dict[tuple[str, str], dict[str, int]] = {}
        for rank, m in enumerate(sorted(mentions, key=lambda m: (m.field != "body", m.start))):
            if m.label in NUMERIC_LABELS or m.label == "DATE" or m.geo is not None:
                continue
            group = (ID_TYPE.get(m.label, m.label), m.key)
            # The canonical set so far: the text itself, or an acronym's spelled-out name.
            surface = (m.canonical or m.text) if len(m.words) >= 2 or m.label != "PERSON" else None
            if surface is None:
                continue
            spellings.setdefault(group, Counter())[surface] += 1
            first.setdefault(group, {}).setdefault(surface, rank)
        for m in mentions:
            group = (ID_TYPE.get(m.label, m.label), m.key)
            if m.geo is None and group in spellings:
                counts = spellings[group]
                m.canonical = min(counts, key=lambda s: (-counts[s], first[group][s]))

    @staticmethod
    def _record(m: _Mention) -> dict:
        if m.label in NUMERIC_LABELS:
            ident = None
        elif m.label == "DATE":
            ident = f"DATE:{m.canonical}" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", m.canonical or "") else None
        elif m.label == "PERSON":
            ident = entity_id(m.key, "PERSON")
        elif m.label == "NORP" and m.country:
            # "Russian", "Russians" and "the Russians" are one group: key it by its country.
            ident = entity_id(m.country, "NORP")
        else:
            ident = entity_id(m.canonical, m.label)
        return {"text": m.text, "label": m.label, "field": m.field, "start_char": m.start,
                "end_char": m.end, "canonical": m.canonical, "entity_id": ident,
                "country": m.country, "geo": m.geo}
