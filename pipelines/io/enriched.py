"""Typed views of an ``EnrichedArticle`` record (``schemas/enriched_article.avsc``).

Consumers that prefer attributes and type checking to dict keys get frozen dataclasses with the
contract's field names. ``EnrichedArticle.from_record`` reads a record as decoded by fastavro
(datetimes for the ``timestamp-millis`` fields) or its JSON form (ISO-8601 strings); fields a
newer schema adds are kept out of the dataclass but not lost: ``record`` holds the whole dict.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from pipelines.article import as_utc


@dataclass(frozen=True)
class Geo:
    """A gazetteer place."""

    name: str
    latitude: float
    longitude: float
    country: str | None = None
    feature_class: str | None = None

    @classmethod
    def from_record(cls, r: Mapping[str, Any] | None) -> Geo | None:
        if r is None:
            return None
        return cls(r["name"], float(r["latitude"]), float(r["longitude"]), r.get("country"), r.get("feature_class"))


@dataclass(frozen=True)
class Entity:
    """One entity mention of the title or body."""

    text: str
    label: str
    field: str
    start_char: int
    end_char: int
    canonical: str | None = None
    entity_id: str | None = None
    country: str | None = None
    geo: Geo | None = None

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> Entity:
        return cls(r["text"], r["label"], r["field"], r["start_char"], r["end_char"], r.get("canonical"),
                   r.get("entity_id"), r.get("country"), Geo.from_record(r.get("geo")))


@dataclass(frozen=True)
class Actor:
    """Who acts, or who is acted upon."""

    text: str
    entity_id: str | None = None
    country: str | None = None
    sector: str | None = None

    @classmethod
    def from_record(cls, r: Mapping[str, Any] | None) -> Actor | None:
        if r is None:
            return None
        return cls(r["text"], r.get("entity_id"), r.get("country"), r.get("sector"))


@dataclass(frozen=True)
class Event:
    """A PLOVER event: who did what to whom, where and when."""

    event_type: str
    field: str
    start_char: int
    end_char: int
    confidence: float
    mode: str | None = None
    cameo_root: str | None = None
    quad_class: int | None = None
    source_actor: Actor | None = None
    target_actor: Actor | None = None
    location: str | None = None
    date: str | None = None

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> Event:
        return cls(r["event_type"], r["field"], r["start_char"], r["end_char"], float(r["confidence"]),
                   r.get("mode"), r.get("cameo_root"), r.get("quad_class"), Actor.from_record(r.get("source_actor")),
                   Actor.from_record(r.get("target_actor")), r.get("location"), r.get("date"))


@dataclass(frozen=True)
class Provenance:
    """Which code and models produced the record."""

    pipeline_version: str
    spacy_model: str
    spacy_model_version: str
    processed_at: datetime
    event_model_version: str | None = None

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> Provenance:
        processed_at = as_utc(r["processed_at"])
        if processed_at is None:
            raise ValueError("provenance.processed_at is required")
        return cls(r["pipeline_version"], r["spacy_model"], r["spacy_model_version"], processed_at,
                   r.get("event_model_version"))


@dataclass(frozen=True)
class KafkaPosition:
    """Where the raw message was read."""

    topic: str
    partition: int
    offset: int

    @classmethod
    def from_record(cls, r: Mapping[str, Any] | None) -> KafkaPosition | None:
        return None if r is None else cls(r["topic"], r["partition"], r["offset"])


@dataclass(frozen=True)
class EnrichedArticle:
    """An enriched article, field for field as in the contract (``docs/CONTRACT.md``)."""

    id: str
    body: str
    provenance: Provenance
    url: str | None = None
    source: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    entities: tuple[Entity, ...] = ()
    events: tuple[Event, ...] = ()
    primary_event_type: str | None = None
    kafka: KafkaPosition | None = None
    story_id: str | None = None
    record: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> EnrichedArticle:
        """From a decoded record (or its JSON form); ``story_id`` is null where the writer had none."""
        return cls(
            id=r["id"], body=r["body"], provenance=Provenance.from_record(r["provenance"]),
            url=r.get("url"), source=r.get("source"), title=r.get("title"),
            published_at=as_utc(r.get("published_at")), language=r.get("language"),
            extra=dict(r.get("extra") or {}),
            entities=tuple(Entity.from_record(e) for e in r.get("entities") or ()),
            events=tuple(Event.from_record(e) for e in r.get("events") or ()),
            primary_event_type=r.get("primary_event_type"), kafka=KafkaPosition.from_record(r.get("kafka")),
            story_id=r.get("story_id"), record=r)
