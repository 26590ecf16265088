"""Archive readers: JSONL, CSV with a column mapping, Avro, .txt folders; bad rows kept with a reason."""

import fastavro
import pytest

from pipelines import avro
from pipelines.io.archives import CsvMapping, expand_inputs, read_file


def test_jsonl_rows_and_bad_lines(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"body": "one"}\n\n{broken\n\xff\xfe\n{"body": "two"}\n')
    rows = list(read_file(str(path)))
    assert [r.payload["body"] for r in rows if r.payload] == ["one", "two"]
    assert [r.error.error_class for r in rows if r.error] == ["MalformedJSON", "NotUTF8"]
    assert rows[1].original == b"{broken" and rows[1].location.endswith(":3")


def test_csv_column_mapping(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("article_id,publish_date,text,title\n7,2017/2/7,\"Body, with comma\nand newline\",Hi\n")
    mapping = CsvMapping.parse(["id=article_id,published_at=publish_date", "body=text"])
    (row,) = list(read_file(str(path), mapping))
    assert row.payload == {"id": "7", "published_at": "2017/2/7", "body": "Body, with comma\nand newline", "title": "Hi"}
    with pytest.raises(ValueError):
        CsvMapping.parse(["body"])


def test_avro_container_and_txt_folder(tmp_path):
    with open(tmp_path / "a.avro", "wb") as f:
        fastavro.writer(f, avro.load_schema("article"), [{"id": "x", "body": "b", "published_at": 1749043260000}])
    (row,) = list(read_file(str(tmp_path / "a.avro")))
    assert row.payload["id"] == "x" and row.payload["published_at"].startswith("2025-06-04")
    assert not row.enriched
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "one.txt").write_text("Title line\n\nBody text here.\n")
    files = expand_inputs([str(folder)])
    (row,) = list(read_file(files[0]))
    assert row.payload["title"] == "Title line" and row.payload["body"] == "Body text here."
    with pytest.raises(FileNotFoundError):
        expand_inputs([str(tmp_path / "nothing*.jsonl")])


def test_archives_are_read_from_a_beam_file_system_url(tmp_path, monkeypatch):
    """A replay's workers read inputs through Beam's FileSystems: no local file is touched."""
    from tests.io import memory_filesystem as mem

    mem.reset()
    monkeypatch.chdir(tmp_path)
    mem.OBJECTS["mem://bucket/in/a.jsonl"] = b'{"id": "a1", "body": "First."}\n{not json\n'
    mem.OBJECTS["mem://bucket/in/b.csv"] = b"id,text\nb1,Second.\n"
    mem.OBJECTS["mem://bucket/in/c.txt"] = b"A title\nThe body.\n"
    mem.OBJECTS["mem://bucket/in/notes.md"] = b"ignored"
    try:
        files = expand_inputs(["mem://bucket/in"])
        assert files == ["mem://bucket/in/a.jsonl", "mem://bucket/in/b.csv", "mem://bucket/in/c.txt"]
        rows = [row for path in files for row in read_file(path, CsvMapping.parse(["body=text"]))]
        assert [r.payload.get("body") if r.payload else r.error.error_class for r in rows] == \
            ["First.", "MalformedJSON", "Second.", "The body."]
        assert ("open", "mem://bucket/in/a.jsonl") in mem.CALLS
        assert expand_inputs(["mem://bucket/in/*.csv"]) == ["mem://bucket/in/b.csv"]
        with pytest.raises(FileNotFoundError):
            expand_inputs(["mem://bucket/missing"])
        assert list(tmp_path.iterdir()) == []
    finally:
        mem.reset()


def test_hostile_jsonl_lines_are_kept_with_a_reason(tmp_path):
    path = tmp_path / "hostile.jsonl"
    deep = b'{"body": "x", "meta": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    path.write_bytes(b'{"body": "one"}\n' + deep + b'\n{"body": "x", "n": 1' + b"0" * 5000 + b'}\n{"body": "two"}\n')
    rows = list(read_file(str(path)))
    assert [r.payload["body"] for r in rows if r.payload] == ["one", "two"]
    assert [(r.error.error_class, r.location[-2:]) for r in rows if r.error] == [("TooDeep", ":2"), ("MalformedJSON", ":3")]
