"""`newsflow run` ends with an account of what it read, keeps its progress current, and writes Avro by default."""
import json
import re
import signal
import subprocess
import sys
import time

import pytest

from pipelines.io.consume import read_avro_dir
from pipelines.io.kafka_client import make_producer
from pipelines.io.topics import ensure_topics
from tests.cli.helpers import REPO, newsflow

pytestmark = pytest.mark.integration
SEEDS = [json.loads(line) for line in (REPO / "seeds" / "articles.jsonl").read_text().splitlines()]


def publish(bootstrap, topic, values):
    producer = make_producer(bootstrap)
    for value in values:
        producer.send(topic, value=value)
    producer.flush()
    producer.close()


def run_args(bootstrap, topic, group):
    return ["run", "--bootstrap-servers", bootstrap, "--input-topic", topic, "--output-topic", f"{topic}.out",
            "--dlq-topic", f"{topic}.dlq", "--group-id", group]


def test_until_end_run_gives_the_account_and_writes_avro_under_out(kafka_broker, topic_name, tmp_path):
    ensure_topics(kafka_broker, [topic_name, f"{topic_name}.out", f"{topic_name}.dlq"])
    publish(kafka_broker, topic_name, [json.dumps(s).encode() for s in SEEDS[:3]] + [b"{not json", b"\xff\xfe"])
    (tmp_path / "tmp").mkdir()
    result = newsflow(*run_args(kafka_broker, topic_name, "account"), "--until-end", cwd=tmp_path,
                      env={"TMPDIR": str(tmp_path / "tmp")}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"newsflow run: read 5 = enriched 3 \+ dead-lettered 2 \(MalformedJSON 1, NotUTF8 1\); "
                        r"stopped after [\d.]+s", last), last
    # Without --avro-dir the records land under ./out/dt=.../hour=..., as the README's diagram shows.
    files = list((tmp_path / "out").glob("dt=*/hour=*/*.avro"))
    assert files and sorted(r["id"] for r in read_avro_dir(str(tmp_path / "out"))) == sorted(s["id"] for s in SEEDS[:3])
    assert list((tmp_path / "tmp").iterdir()) == []  # nothing left behind in TMPDIR


def test_interrupted_stream_keeps_progress_current_and_gives_the_account(kafka_broker, topic_name, tmp_path):
    ensure_topics(kafka_broker, [topic_name, f"{topic_name}.out", f"{topic_name}.dlq"])
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "pipelines", *run_args(kafka_broker, topic_name, "live"),
                                 "--no-avro", "--progress-seconds", "1"], stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        publish(kafka_broker, topic_name, [json.dumps(s).encode() for s in SEEDS[3:6]] + [b"{not json"])
        deadline = time.monotonic() + 240
        # Every record delivered shows up in a progress line while the stream keeps running.
        while "progress: 4 done = 3 enriched + 1 dead-lettered" not in log_path.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = log_path.read_text().strip().splitlines()
    assert re.fullmatch(r"newsflow run: read 4 = enriched 3 \+ dead-lettered 1 \(MalformedJSON 1\); "
                        r"stopped after [\d.]+s", lines[-1]), lines[-3:]
    assert all(not re.match(r"(INFO|WARNING|DEBUG):|\S+ \S+ (INFO|WARNING) ", line) for line in lines), lines
