"""What a report shows, folded from enriched records and dead letters in one pass."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from pipelines.article import as_utc

# Counts, amounts and times are entities to spaCy but say nothing about who is in the news.
NUMERIC_LABELS = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})

# Where an event's day came from (the BBC archive has no publication dates).
BY_PUBLISHED, BY_EVENT_DATE, UNDATED = "published_at", "event date", "no date"


def as_day(value) -> date | None:
    """An event's ``date`` field ("2025-06-04") as a date, or None when absent or unreadable."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclass
class Actor:
    """One side of a dyad: its most frequent wording and its country."""
    texts: Counter = field(default_factory=Counter)
    country: str | None = None

    def label(self) -> str:
        text = self.texts.most_common(1)[0][0] if self.texts else "?"
        return f"{text} ({self.country})" if self.country else text


@dataclass
class StreamStats:
    """Counters over enriched records and dead letters; ``add_*`` once per record, in any order."""
    enriched: int = 0
    dead_lettered: int = 0
    undecodable: int = 0                     # topic values that were not Avro records of ours
    entities: int = 0
    events: int = 0
    articles_with_events: int = 0
    events_by_day: Counter = field(default_factory=Counter)    # (date | None, event_type) -> n
    day_sources: Counter = field(default_factory=Counter)      # BY_PUBLISHED | BY_EVENT_DATE | UNDATED -> n
    dyads: Counter = field(default_factory=Counter)            # (actor key, actor key) -> n
    actors: dict = field(default_factory=lambda: defaultdict(Actor))
    events_without_dyad: int = 0
    places: Counter = field(default_factory=Counter)           # (name, lat, lon, country) -> events
    place_mentions: Counter = field(default_factory=Counter)   # (name, lat, lon, country) -> articles naming it
    events_unplaced: int = 0                                   # a location name no entity's geo matches
    events_without_location: int = 0
    entity_articles: Counter = field(default_factory=Counter)  # entity key -> articles naming it
    entity_names: dict = field(default_factory=lambda: defaultdict(Counter))
    entity_labels: dict = field(default_factory=lambda: defaultdict(Counter))
    dead_reasons: Counter = field(default_factory=Counter)     # (stage, error_class) -> n
    processed_minutes: Counter = field(default_factory=Counter)  # (epoch minute, "enriched"|"dead-lettered") -> n
    published: list = field(default_factory=lambda: [None, None])  # first and last published_at

    # ------------------------------------------------------------ enriched records
    def add_enriched(self, record: dict) -> None:
        self.enriched += 1
        published = as_utc(record.get("published_at"))
        if published is not None:
            first, last = self.published
            self.published = [min(first or published, published), max(last or published, published)]
        processed = as_utc((record.get("provenance") or {}).get("processed_at"))
        if processed is not None:
            self.processed_minutes[(int(processed.timestamp() // 60), "enriched")] += 1
        entities = record.get("entities") or []
        self.entities += len(entities)
        self._add_entities(entities)
        events = record.get("events") or []
        if events:
            self.articles_with_events += 1
        places = _places_of(entities)
        self.place_mentions.update(set(places.values()))
        for event in events:
            self._add_event(event, published, places)

    def _add_entities(self, entities: list[dict]) -> None:
        seen = set()
        for entity in entities:
            if entity.get("label") in NUMERIC_LABELS:
                continue
            name = entity.get("canonical") or entity.get("text") or ""
            key = entity.get("entity_id") or name.casefold()
            if not key:
                continue
            self.entity_names[key][name] += 1
            self.entity_labels[key][entity.get("label") or "?"] += 1
            if key not in seen:
                seen.add(key)
                self.entity_articles[key] += 1

    def _add_event(self, event: dict, published: datetime | None, places: dict) -> None:
        self.events += 1
        kind = event.get("event_type") or "?"
        if published is not None:
            day, source = published.date(), BY_PUBLISHED
        else:
            day = as_day(event.get("date"))
            source = BY_EVENT_DATE if day is not None else UNDATED
        self.events_by_day[(day, kind)] += 1
        self.day_sources[source] += 1

        source_actor, target_actor = event.get("source_actor"), event.get("target_actor")
        if source_actor and target_actor:
            keys = tuple(self._actor(actor) for actor in (source_actor, target_actor))
            self.dyads[keys] += 1
        else:
            self.events_without_dyad += 1

        location = (event.get("location") or "").strip()
        if not location:
            self.events_without_location += 1
        elif location.casefold() in places:
            self.places[places[location.casefold()]] += 1
        else:
            self.events_unplaced += 1

    def _actor(self, actor: dict) -> str:
        text = (actor.get("text") or "?").strip()
        key = actor.get("entity_id") or f"{text.casefold()}|{actor.get('country') or ''}"
        self.actors[key].texts[text] += 1
        self.actors[key].country = self.actors[key].country or actor.get("country")
        return key

    # ------------------------------------------------------------ dead letters
    def add_dead_letter(self, record: dict) -> None:
        self.dead_lettered += 1
        self.dead_reasons[(record.get("stage") or "?", record.get("error_class") or "?")] += 1
        failed = as_utc(record.get("failed_at"))
        if failed is not None:
            self.processed_minutes[(int(failed.timestamp() // 60), "dead-lettered")] += 1

    # ------------------------------------------------------------ views
    def top_entities(self, n: int) -> list[tuple[str, str, int]]:
        """(name, label, articles) of the ``n`` entities named in the most articles."""
        ranked = sorted(self.entity_articles.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [(self.entity_names[key].most_common(1)[0][0], self.entity_labels[key].most_common(1)[0][0], count)
                for key, count in ranked]

    def top_dyads(self, n: int) -> list[tuple[str, str, int]]:
        """(source label, target label, events) of the ``n`` most frequent actor pairs."""
        ranked = sorted(self.dyads.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [(self.actors[s].label(), self.actors[t].label(), count) for (s, t), count in ranked]


def _places_of(entities: list[dict]) -> dict:
    """Lower-cased names (text, canonical, gazetteer name) of the article's geocoded entities -> place."""
    places = {}
    for entity in entities:
        geo = entity.get("geo")
        if not geo or geo.get("latitude") is None or geo.get("longitude") is None:
            continue
        lat, lon = float(geo["latitude"]), float(geo["longitude"])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):   # also NaN: no point can be drawn for it
            continue
        place = (geo.get("name") or entity.get("text"), round(lat, 2), round(lon, 2), geo.get("country"))
        for name in (entity.get("text"), entity.get("canonical"), geo.get("name")):
            if name:
                places.setdefault(name.strip().casefold(), place)
    return places
