"""Publish valid and invalid articles to a real broker and read them back."""
import json
import subprocess
import sys

import pytest

from pipelines.article import article_id
from pipelines.io.kafka_client import make_consumer

pytestmark = pytest.mark.integration


def newsflow(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "pipelines", *args], capture_output=True, text=True, timeout=timeout)


def read_all(bootstrap, topic, expected, timeout_s=20):
    consumer = make_consumer(bootstrap, topic, consumer_timeout_ms=int(timeout_s * 1000))
    messages = []
    for msg in consumer:
        messages.append(msg)
        if len(messages) >= expected:
            break
    consumer.close()
    return messages


def test_publish_jsonl_csv_and_txt_with_rejections(tmp_path, kafka_broker, topic_name):
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_bytes(b'{"id": "a1", "title": "One", "body": "First body."}\n'
                      b'{"url": "https://example.org/x", "body": "Second body.", "published_at": "2025-06-04"}\n'
                      b'{"title": "no body"}\n'
                      b'{"body": "bad date", "published_at": "soon"}\n'
                      b'\xff\xfe not utf8\n')
    csv_file = tmp_path / "b.csv"
    csv_file.write_text("title,text\nCSV title,CSV body\n")
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "c.txt").write_text("Txt title\nTxt body.\n")
    result = newsflow("publish", str(jsonl), str(csv_file), str(folder), "--topic", topic_name,
                      "--csv-columns", "body=text", "--bootstrap-servers", kafka_broker, "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == \
        "published 4, rejected 3 (BadDate=1, MissingBody=1, NotUTF8=1)"
    assert "a.jsonl:3: MissingBody" in result.stderr
    messages = read_all(kafka_broker, topic_name, 4)
    by_key = {m.key.decode(): json.loads(m.value) for m in messages}
    assert set(by_key) == {"a1", article_id(url="https://example.org/x"),
                           article_id(title="CSV title", body="CSV body"),
                           article_id(title="Txt title", body="Txt body.")}
    assert by_key["a1"]["body"] == "First body."
    assert by_key[article_id(url="https://example.org/x")]["published_at"] == "2025-06-04T00:00:00+00:00"


def test_consume_prints_json_lines_with_max_and_timeout(kafka_broker, topic_name):
    result = newsflow("publish", "seeds/articles.jsonl", "--topic", topic_name,
                      "--bootstrap-servers", kafka_broker, "-q")
    assert result.returncode == 0 and result.stdout.startswith("published 13, rejected 0"), result.stderr
    out = newsflow("consume", "--topic", topic_name, "--from-beginning", "--max", "5",
                   "--timeout", "10", "--bootstrap-servers", kafka_broker)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 5 and all(line["body"] for line in lines)
    everything = newsflow("consume", "--topic", topic_name, "--from-beginning", "--timeout", "3",
                          "--group", "g1", "--bootstrap-servers", kafka_broker)
    ids = {json.loads(line)["id"] for line in everything.stdout.splitlines()}
    assert "seed-000-10c24450e8870a78" in ids and len(ids) == 13
    # The group committed its offsets: a second read in the same group sees nothing new.
    again = newsflow("consume", "--topic", topic_name, "--from-beginning", "--timeout", "3",
                     "--group", "g1", "--bootstrap-servers", kafka_broker)
    assert again.stdout.strip() == ""
