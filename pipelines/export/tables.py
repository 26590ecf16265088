"""Enriched records -> flat rows of the three export tables (pure functions, no I/O).

One row per event (``events``), per canonical entity of an article (``entities``) and per
article (``articles``). The column lists below are the documented interface
(``docs/export.md``); a column is only ever added, never renamed or retyped.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Iterable

import pyarrow as pa

from pipelines.article import as_utc

TIMESTAMP = pa.timestamp("ms", tz="UTC")


def _actor_columns(prefix: str) -> list[pa.Field]:
    return [pa.field(f"{prefix}_text", pa.string()), pa.field(f"{prefix}_canonical", pa.string()),
            pa.field(f"{prefix}_entity_id", pa.string()), pa.field(f"{prefix}_country", pa.string()),
            pa.field(f"{prefix}_sector", pa.string())]


STORY_COLUMNS = [pa.field("story_id", pa.string()), pa.field("story_articles", pa.int32()),
                 pa.field("story_sources", pa.int32())]

EVENTS = pa.schema([
    pa.field("event_id", pa.string(), nullable=False), pa.field("article_id", pa.string(), nullable=False),
    pa.field("url", pa.string()), pa.field("source", pa.string()), pa.field("published_at", TIMESTAMP),
    pa.field("event_date", pa.date32()), pa.field("event_type", pa.string(), nullable=False),
    pa.field("mode", pa.string()), pa.field("cameo_root", pa.string()), pa.field("quad_class", pa.int8()),
    *_actor_columns("source"), *_actor_columns("target"),
    pa.field("place_name", pa.string()), pa.field("latitude", pa.float64()), pa.field("longitude", pa.float64()),
    pa.field("place_country", pa.string()), pa.field("confidence", pa.float64()),
    pa.field("field", pa.string()), pa.field("start_char", pa.int32()), pa.field("end_char", pa.int32()),
    pa.field("sentence", pa.string()), *STORY_COLUMNS,
])

ENTITIES = pa.schema([
    pa.field("article_id", pa.string(), nullable=False), pa.field("published_at", TIMESTAMP),
    pa.field("entity_id", pa.string()), pa.field("canonical", pa.string(), nullable=False),
    pa.field("label", pa.string(), nullable=False), pa.field("country", pa.string()),
    pa.field("place_name", pa.string()), pa.field("latitude", pa.float64()), pa.field("longitude", pa.float64()),
    pa.field("feature_class", pa.string()), pa.field("mentions", pa.int32()), pa.field("in_title", pa.bool_()),
    pa.field("story_id", pa.string()),
])

ARTICLES = pa.schema([
    pa.field("article_id", pa.string(), nullable=False), pa.field("url", pa.string()),
    pa.field("source", pa.string()), pa.field("title", pa.string()), pa.field("published_at", TIMESTAMP),
    pa.field("language", pa.string()), *STORY_COLUMNS,
    pa.field("entity_mentions", pa.int32()), pa.field("entities", pa.int32()), pa.field("events", pa.int32()),
    pa.field("primary_event_type", pa.string()), pa.field("body_chars", pa.int32()),
    pa.field("processed_at", TIMESTAMP), pa.field("pipeline_version", pa.string()),
    pa.field("kafka_topic", pa.string()), pa.field("kafka_partition", pa.int32()), pa.field("kafka_offset", pa.int64()),
])

SCHEMAS = {"events": EVENTS, "entities": ENTITIES, "articles": ARTICLES}


def day_partition(published_at: datetime | None) -> str:
    """``dt=YYYY-MM-DD`` of the publication day (UTC), ``dt=unknown`` without one: as the Avro input."""
    if published_at is None:
        return "dt=unknown"
    return f"dt={published_at.year:04d}-{published_at:%m-%d}"


def iso_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def place_of(event: dict, entities: list[dict]) -> dict | None:
    """The gazetteer place of the event's location: an entity of the article with coordinates whose
    text, canonical name or gazetteer name is the location, preferring one inside the event's sentence."""
    name = event.get("location")
    if not name:
        return None
    candidates = [e for e in entities if e.get("geo") and name in (e.get("text"), e.get("canonical"), e["geo"]["name"])]
    inside = [e for e in candidates if e.get("field") == event.get("field")
              and event["start_char"] <= e["start_char"] < event["end_char"]]
    chosen = (inside or candidates)
    return chosen[0]["geo"] if chosen else None


def _canonical_names(entities: list[dict]) -> dict[str, str]:
    names: dict[str, str] = {}
    for e in entities:
        if e.get("entity_id") and e.get("entity_id") not in names:
            names[e["entity_id"]] = e.get("canonical") or e["text"]
    return names


def _actor(prefix: str, actor: dict | None, names: dict[str, str]) -> dict:
    actor = actor or {}
    entity_id = actor.get("entity_id")
    return {f"{prefix}_text": actor.get("text"), f"{prefix}_canonical": names.get(entity_id) if entity_id else None,
            f"{prefix}_entity_id": entity_id, f"{prefix}_country": actor.get("country"),
            f"{prefix}_sector": actor.get("sector")}


@dataclass
class ArticleRows:
    """The rows one enriched record contributes to each table (story counts filled in later)."""

    article_id: str
    story_key: str
    source: str | None
    partition: str
    processed_at: datetime | None
    article: dict
    events: list[dict] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)


def rows_of(record: dict) -> ArticleRows:
    """Flatten one enriched record (fastavro's dict) into its table rows."""
    entities = list(record.get("entities") or ())
    events = list(record.get("events") or ())
    published = as_utc(record.get("published_at"))
    story_id = record.get("story_id")
    names = _canonical_names(entities)
    base = {"article_id": record["id"], "url": record.get("url"), "source": record.get("source"),
            "published_at": published}
    event_rows = []
    for index, ev in enumerate(events):
        text = record.get(ev.get("field")) or ""
        geo = place_of(ev, entities) or {}
        event_rows.append({
            "event_id": f"{record['id']}:{index}", **base, "event_date": iso_day(ev.get("date")),
            "event_type": ev["event_type"], "mode": ev.get("mode"), "cameo_root": ev.get("cameo_root"),
            "quad_class": ev.get("quad_class"),
            **_actor("source", ev.get("source_actor"), names), **_actor("target", ev.get("target_actor"), names),
            "place_name": ev.get("location"), "latitude": geo.get("latitude"), "longitude": geo.get("longitude"),
            "place_country": geo.get("country"), "confidence": ev.get("confidence"),
            "field": ev.get("field"), "start_char": ev.get("start_char"), "end_char": ev.get("end_char"),
            "sentence": text[ev["start_char"]:ev["end_char"]] if isinstance(text, str) else None,
            "story_id": story_id})
    entity_rows = entity_rows_of(record["id"], published, story_id, entities)
    provenance = record.get("provenance") or {}
    kafka = record.get("kafka") or {}
    article = {
        "article_id": record["id"], "url": record.get("url"), "source": record.get("source"),
        "title": record.get("title"), "published_at": published, "language": record.get("language"),
        "story_id": story_id, "entity_mentions": len(entities), "entities": len(entity_rows),
        "events": len(events), "primary_event_type": record.get("primary_event_type"),
        "body_chars": len(record.get("body") or ""), "processed_at": as_utc(provenance.get("processed_at")),
        "pipeline_version": provenance.get("pipeline_version"), "kafka_topic": kafka.get("topic"),
        "kafka_partition": kafka.get("partition"), "kafka_offset": kafka.get("offset")}
    return ArticleRows(record["id"], story_id or f"article:{record['id']}", record.get("source"),
                       day_partition(published), article["processed_at"], article, event_rows, entity_rows)


def entity_rows_of(article_id: str, published: datetime | None, story_id: str | None,
                   entities: list[dict]) -> list[dict]:
    """One row per canonical entity (by entity_id, else canonical name, else text; and label), with its mention count."""
    grouped: dict[tuple, dict] = {}
    for e in entities:
        name = e.get("canonical") or e["text"]
        key = (e.get("entity_id") or f"name:{name}", e["label"])
        row = grouped.get(key)
        if row is None:
            geo = e.get("geo") or {}
            row = grouped[key] = {
                "article_id": article_id, "published_at": published, "entity_id": e.get("entity_id"),
                "canonical": name, "label": e["label"], "country": e.get("country"),
                "place_name": geo.get("name"), "latitude": geo.get("latitude"), "longitude": geo.get("longitude"),
                "feature_class": geo.get("feature_class"), "mentions": 0, "in_title": False, "story_id": story_id}
        row["mentions"] += 1
        row["in_title"] = row["in_title"] or e.get("field") == "title"
        if row["country"] is None and e.get("country"):
            row["country"] = e["country"]
        if row["place_name"] is None and e.get("geo"):
            geo = e["geo"]
            row.update(place_name=geo["name"], latitude=geo["latitude"], longitude=geo["longitude"],
                       feature_class=geo.get("feature_class"))
    return sorted(grouped.values(), key=lambda r: (r["label"], r["canonical"], r["entity_id"] or ""))


def newer(candidate: ArticleRows, kept: ArticleRows) -> bool:
    """Of two records with one id (an at-least-once repeat or a re-enrichment), the later-processed wins."""
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    return (candidate.processed_at or epoch) > (kept.processed_at or epoch)


def fill_story_counts(articles: Iterable[ArticleRows]) -> None:
    """Articles and distinct sources per story across the exported data (GDELT's NumArticles/NumSources);
    an article without a story_id is a story of its own."""
    articles = list(articles)
    members: dict[str, int] = defaultdict(int)
    sources: dict[str, set] = defaultdict(set)
    for a in articles:
        members[a.story_key] += 1
        if a.source:
            sources[a.story_key].add(a.source)
    for a in articles:
        counts = {"story_articles": members[a.story_key], "story_sources": len(sources[a.story_key])}
        a.article.update(counts)
        for row in a.events:
            row.update(counts)


def sort_key(a: ArticleRows) -> tuple:
    published = a.article["published_at"]
    return (published is None, published or datetime.min.replace(tzinfo=timezone.utc), a.article_id)


def tables_by_partition(articles: Iterable[ArticleRows]) -> dict[str, dict[str, pa.Table]]:
    """``{partition: {table name: Table}}``, rows in a fixed order (publication time, article id, position)."""
    rows: dict[str, dict[str, list[dict]]] = defaultdict(lambda: {"events": [], "entities": [], "articles": []})
    for a in sorted(articles, key=sort_key):
        part = rows[a.partition]
        part["articles"].append(a.article)
        part["events"].extend(a.events)
        part["entities"].extend(a.entities)
    return {partition: {name: pa.Table.from_pylist(table_rows, schema=SCHEMAS[name])
                        for name, table_rows in tables.items()}
            for partition, tables in sorted(rows.items())}
