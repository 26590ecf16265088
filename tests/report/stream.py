"""A small known stream for the report tests: four enriched articles and three dead letters, in the
shape of the contract (every field of ``schemas/enriched_article.avsc``), written with the
project's own Avro writer into a folder laid out as `newsflow replay` lays it out.

What the report must show for it (the tests count the marks):
- events by day: 2025-06-01 PROTEST (an undated article's own event date), 2025-06-04 CONSULT +
  AGREE, 2025-06-05 CONSULT + ASSAULT, "no date" REQUEST: 6 bar segments in 6 columns (5 days + no date);
- map: Pyongyang (2 events), Geneva, Nairobi: 3 points (Kharkiv has no geocoded entity: unplaced),
  over 4 grey points for the places the articles name (those three and Russia);
- dyads: Shoigu → Kim Jong Un, Russia → North Korea, Russia → Ukraine, Protesters → Parliament: 4 bars;
- entities (dates left out): Russia (2 articles), Sergei Shoigu, Pyongyang, Kim Jong Un, Geneva,
  Ignazio Cassis, Nairobi, Ukraine: 8 bars;
- dead letters: parse / MalformedJSON 2, language / NotEnglish 1: 2 bars;
- throughput: 12:00 2 enriched, 12:01 3 dead letters, 12:02 2 enriched: 3 bars.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pipelines.io.avro_files import partition_of, write_file_atomically

EXPECTED_MARKS = {"events-by-day": 6, "map": 3, "dyads": 4, "entities": 8, "dead-letters": 2, "throughput": 3}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def geo(name, lat, lon, country):
    return {"name": name, "latitude": lat, "longitude": lon, "country": country, "feature_class": "P"}


def entity(text, label, entity_id=None, country=None, place=None, canonical=None):
    return {"text": text, "label": label, "field": "body", "start_char": 0, "end_char": len(text),
            "canonical": canonical or text, "entity_id": entity_id, "country": country, "geo": place}


def actor(text, country=None, entity_id=None):
    return {"text": text, "entity_id": entity_id, "country": country, "sector": None}


def event(kind, source=None, target=None, location=None, date=None):
    return {"event_type": kind, "mode": None, "cameo_root": "04", "quad_class": 1, "source_actor": source,
            "target_actor": target, "location": location, "date": date, "field": "body", "start_char": 0,
            "end_char": 10, "confidence": 0.8}


def article(article_id, published, processed, entities, events):
    return {"id": article_id, "url": None, "source": "test", "title": f"title {article_id}", "body": "body text",
            "published_at": at(published) if published else None, "language": "en", "extra": {},
            "entities": entities, "events": events, "primary_event_type": events[0]["event_type"] if events else None,
            "provenance": {"pipeline_version": "test", "spacy_model": "en_core_web_sm", "spacy_model_version": "3.8.0",
                           "event_model_version": "test", "processed_at": at(processed)},
            "kafka": None}


def dead_letter(stage, reason, failed, line):
    return {"original": b"{not json", "key": None, "topic": None, "partition": None, "offset": None,
            "input_path": f"archive.jsonl:{line}", "stage": stage, "error_class": reason,
            "error_message": f"{reason} at line {line}", "failed_at": at(failed)}


SHOIGU = actor("Shoigu", "RUS", "e-shoigu")
RUSSIA = actor("Russia", "RUS", "e-russia")
PYONGYANG = geo("Pyongyang", 39.03, 125.75, "PRK")

ARTICLES = [
    article("a1", "2025-06-04T10:00:00", "2026-12-01T12:00:30", [
        entity("Shoigu", "PERSON", "e-shoigu", "RUS", canonical="Sergei Shoigu"),
        entity("Pyongyang", "GPE", "e-pyongyang", "PRK", PYONGYANG),
        entity("Kim Jong Un", "PERSON", "e-kim", "PRK"),
        entity("Russia", "GPE", "e-russia", "RUS", geo("Russia", 60.0, 100.0, "RUS")),
    ], [
        event("CONSULT", SHOIGU, actor("Kim Jong Un", "PRK", "e-kim"), "Pyongyang"),
        event("AGREE", RUSSIA, actor("North Korea", "PRK"), "pyongyang"),
    ]),
    article("a2", "2025-06-05T08:00:00", "2026-12-01T12:00:50", [
        entity("Geneva", "GPE", "e-geneva", "CHE", geo("Geneva", 46.2, 6.15, "CHE")),
        entity("Ignazio Cassis", "PERSON", "e-cassis", "CHE"),
        entity("Russia", "GPE", "e-russia", "RUS", geo("Russia", 60.0, 100.0, "RUS")),
        entity("Thursday", "DATE"),
    ], [
        event("CONSULT", actor("Cassis", "CHE", "e-cassis"), None, "Geneva"),
        event("ASSAULT", RUSSIA, actor("Ukraine", "UKR"), "Kharkiv"),
    ]),
    article("a3", None, "2026-12-01T12:02:10", [
        entity("Nairobi", "GPE", "e-nairobi", "KEN", geo("Nairobi", -1.28, 36.82, "KEN")),
        entity("Tuesday", "DATE"),
    ], [
        event("PROTEST", actor("Protesters", "KEN"), actor("Parliament", "KEN"), "Nairobi", date="2025-06-01"),
    ]),
    article("a4", None, "2026-12-01T12:02:40", [entity("Ukraine", "GPE", None, "UKR")], [
        event("REQUEST", actor("Kyiv", "UKR")),
    ]),
]

DEAD_LETTERS = [
    dead_letter("parse", "MalformedJSON", "2026-12-01T12:01:05", 5),
    dead_letter("parse", "MalformedJSON", "2026-12-01T12:01:06", 6),
    dead_letter("language", "NotEnglish", "2026-12-01T12:01:07", 7),
]


def write_stream(root: Path) -> Path:
    """The stream as a replay's folder: DIR/dt=…/part-00000.avro per publication date, DIR/dlq/."""
    by_partition: dict[str, list] = {}
    for record in ARTICLES:
        by_partition.setdefault(partition_of(record, by_hour=False), []).append(record)
    for day, records in by_partition.items():
        (root / day).mkdir(parents=True, exist_ok=True)
        write_file_atomically(str(root / day / "part-00000.avro"), "enriched", records)
    (root / "dlq").mkdir(parents=True, exist_ok=True)
    write_file_atomically(str(root / "dlq" / "part-00000.avro"), "dead_letter", DEAD_LETTERS)
    return root
