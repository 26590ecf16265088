"""Schemas parse, evolve with defaults, and single-object encoding round-trips."""
import io
import json

import fastavro
import pytest

from pipelines import avro


@pytest.mark.parametrize("name", ["article", "enriched", "dead_letter"])
def test_schema_parses_is_namespaced_and_documented(name):
    assert avro.load_schema(name)["name"].startswith("io.newsflow.")
    raw = json.loads((avro.schema_dir() / avro.SCHEMA_FILES[name]).read_text())
    assert raw["namespace"] == "io.newsflow" and raw["doc"]
    assert all("doc" in f for f in raw["fields"])
    # Every nullable field has a default so readers can evolve without breaking.
    for f in raw["fields"]:
        if isinstance(f["type"], list) and "null" in f["type"]:
            assert "default" in f, f["name"]


def test_enriched_schema_has_every_contract_field():
    schema = avro.load_schema("enriched")
    names = {f["name"] for f in schema["fields"]}
    assert {"id", "url", "source", "title", "body", "published_at", "language", "entities", "events",
            "primary_event_type", "provenance", "kafka"} <= names
    entity = next(f for f in schema["fields"] if f["name"] == "entities")["type"]["items"]
    assert [f["name"] for f in entity["fields"]] == [
        "text", "label", "field", "start_char", "end_char", "canonical", "entity_id", "country", "geo"]
    event = next(f for f in schema["fields"] if f["name"] == "events")["type"]["items"]
    assert [f["name"] for f in event["fields"]] == [
        "event_type", "mode", "cameo_root", "quad_class", "source_actor", "target_actor", "location",
        "date", "field", "start_char", "end_char", "confidence"]


def test_record_written_today_reads_with_a_reader_schema_that_adds_a_defaulted_field():
    writer = avro.load_schema("article")
    reader_json = json.loads((avro.schema_dir() / "article.avsc").read_text())
    reader_json["fields"].append({"name": "section", "type": ["null", "string"], "default": None})
    reader = fastavro.parse_schema(reader_json)
    buf = io.BytesIO()
    fastavro.writer(buf, writer, [{"id": "a1", "body": "text", "title": "t"}])
    buf.seek(0)
    (record,) = list(fastavro.reader(buf, reader_schema=reader))
    assert record["section"] is None and record["id"] == "a1" and record["title"] == "t"


def test_single_object_encoding_layout_and_round_trip():
    schema = avro.load_schema("article")
    data = avro.encode({"id": "x", "body": "hello"}, schema)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == avro.schema_fingerprint(schema)
    assert avro.decode(data)["body"] == "hello"


def test_fingerprint_matches_the_avro_spec_value_for_a_primitive():
    # The Avro spec's CRC-64-AVRO of the canonical form '"int"' is 0x7275d51a3f395c8f (little-endian bytes).
    assert avro.schema_fingerprint("int") == bytes.fromhex("8f5c393f1ad57572")


def test_unknown_fingerprint_is_named_in_the_error():
    with pytest.raises(avro.UnknownSchemaError, match="0102030405060708"):
        avro.decode(b"\xc3\x01" + bytes(range(1, 9)) + b"\x00")


def test_non_avro_bytes_are_refused():
    with pytest.raises(avro.NotSingleObjectError):
        avro.decode(b'{"body": "json"}')


def test_a_message_of_a_released_older_schema_decodes_into_the_current_shape(tmp_path, monkeypatch):
    """Messages already on Kafka outlive a schema change: schemas/history's fingerprints stay known."""
    import shutil

    schemas = tmp_path / "schemas"
    shutil.copytree(avro.schema_dir(), schemas)
    older = json.loads((schemas / "article.avsc").read_text(encoding="utf-8"))
    older["fields"] = [f for f in older["fields"] if f["name"] != "language"]  # as if "language" came later
    (schemas / "history" / "article.v0.avsc").write_text(json.dumps(older), encoding="utf-8")
    monkeypatch.setattr(avro, "schema_dir", lambda: schemas)
    avro._known_schemas.cache_clear()
    try:
        message = avro.encode({"id": "a1", "body": "Text.", "extra": {}}, fastavro.parse_schema(older))
        assert message[2:10] != avro.schema_fingerprint(avro.load_schema("article"))
        record = avro.decode(message)
        assert record["id"] == "a1" and record["language"] is None  # the current shape, default filled
    finally:
        monkeypatch.undo()
        avro._known_schemas.cache_clear()
    with pytest.raises(avro.UnknownSchemaError):
        avro.decode(message)  # the shipped history has no such release: the fingerprint is unknown
