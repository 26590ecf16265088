"""Offline geocoding of place mentions against the shipped GeoNames-derived gazetteer.

Each place name can have several candidates (Georgia the country and the US state, Paris in
France and in Texas). Candidates are ranked by how prominent the place is (countries, then
curated regions and US states, then cities by population) plus a bonus when the candidate lies
in a country that the article's *other* place mentions point to, so an article about Atlanta
puts "Georgia" in the United States.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from typing import Iterable, Sequence

from pipelines.nlp.countries import country_table, normalize_name
from pipelines.resources import resource_path

# Base scores by kind of place; cities score log10(population) (about 4.2 to 7.5).
KIND_SCORE = {"country": 10.0, "region": 11.0, "continent": 10.5, "state": 9.0}
CONTEXT_BONUS = 1.5  # a city must be ~30x smaller to lose to one in the article's countries
# A country merely named is weaker evidence for places inside it than a city or state of it:
# "the U.S." in a story on Russia must not turn Georgia into the US state.
COUNTRY_CONTEXT_BONUS = 0.7
# An article naming several countries talks at country level ("Samoa, France, Italy, Georgia"),
# which favours the country reading of an ambiguous name.
COUNTRY_LEVEL_BONUS = 1.0
COUNTRY_LEVEL_MIN = 3
PRIMARY_NAME_BONUS = 0.3
# A national capital outranks a provincial namesake (Athens, Greece vs Athens, Georgia).
CAPITAL_BONUS = 1.0
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})


@dataclass(frozen=True)
class Place:
    """One gazetteer entry."""
    name: str
    latitude: float
    longitude: float
    country: str | None
    feature_class: str
    population: int
    kind: str

    def as_geo(self) -> dict:
        """The Avro ``Geo`` record."""
        return {"name": self.name, "latitude": self.latitude, "longitude": self.longitude,
                "country": self.country, "feature_class": self.feature_class}


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


class Gazetteer:
    """Name index over the shipped places, with context-aware candidate ranking."""

    def __init__(self, places: Sequence[Place], index: dict[str, list[int]],
                 primary: dict[int, str]):
        self.places = places
        self.index = index
        self._primary = primary
        self._country_place = {p.country: i for i, p in enumerate(places) if p.kind == "country"}

    @classmethod
    def load(cls) -> "Gazetteer":
        """Read ``resources/entities/gazetteer.json`` (built by scripts/build_entity_resources.py)."""
        path = resource_path("entities/gazetteer.json")
        rows = json.loads(path.read_text(encoding="utf-8"))
        places, index, primary = [], {}, {}
        for i, (names, lat, lon, country, fclass, population, kind) in enumerate(rows):
            places.append(Place(names[0], lat, lon, country, fclass, population, kind))
            primary[i] = normalize_name(names[0])
            for name in names:
                bucket = index.setdefault(normalize_name(name), [])
                if i not in bucket:
                    bucket.append(i)
        return cls(places, index, primary)

    def candidates(self, text: str, label: str | None = None) -> list[int]:
        """Indices of places the mention may denote."""
        key = normalize_name(text)
        found = list(self.index.get(key, ()))
        if not found:
            # Country aliases the gazetteer does not list by name ("U.S.", "DPRK").
            code = country_table().get(key)
            if code in self._country_place and (label in (None, "GPE", "LOC")):
                found = [self._country_place[code]]
        return found

    def _score(self, i: int, key: str, context: dict[str, float]) -> float:
        place = self.places[i]
        score = KIND_SCORE.get(place.kind, math.log10(max(place.population, 10)))
        if place.kind == "capital":
            score += CAPITAL_BONUS
        if place.country:
            score += context.get(place.country, 0.0)
        if self._primary[i] == key:
            score += PRIMARY_NAME_BONUS
        return score

    def resolve(self, mentions: Iterable[tuple[str, str | None]]) -> list[Place | None]:
        """Best place for each (text, label) mention of one article, using the others as context."""
        mentions = list(mentions)
        found = [self.candidates(text, label) for text, label in mentions]
        # Countries each mention is evidence for: the country of every candidate that is itself
        # a country or is the only candidate, as mentions of those leave little doubt.
        # Each mention's evidence: (country codes, whether it names a place inside a country).
        evidence: list[tuple[set[str], bool]] = []
        for cands in found:
            countries = {self.places[i].country for i in cands
                         if self.places[i].country and self.places[i].kind == "country"}
            if countries:
                evidence.append((countries, False))
                continue
            codes = {self.places[i].country for i in cands if self.places[i].country}
            if len(codes) > 1:
                top = max(cands, key=lambda i: self._score(i, "", {}))
                codes = {self.places[top].country}
            evidence.append((codes, True))
        results: list[Place | None] = []
        for n, ((text, _label), cands) in enumerate(zip(mentions, found)):
            if not cands:
                results.append(None)
                continue
            key = normalize_name(text)
            other_countries = {code for m, (codes, inside) in enumerate(evidence)
                               if m != n and not inside for code in codes}
            country_level = len(other_countries) >= COUNTRY_LEVEL_MIN
            context: dict[str, float] = {}
            for m, (codes, inside) in enumerate(evidence):
                if m == n or normalize_name(mentions[m][0]) == key:
                    continue
                for code in codes:
                    bonus = CONTEXT_BONUS if inside else COUNTRY_CONTEXT_BONUS
                    context[code] = max(context.get(code, 0.0), bonus)
            best = max(cands, key=lambda i: (
                self._score(i, key, context)
                + (COUNTRY_LEVEL_BONUS if country_level and self.places[i].kind == "country" else 0.0),
                self.places[i].population))
            results.append(self.places[best])
        return results
