"""`newsflow health` and `newsflow run --health-file`: the verdicts, then a real run followed from
starting to reading, stuck (SIGSTOP), moving again and stopped."""
import json
import os
import signal
import time
from pathlib import Path

import pytest

from pipelines import health
from pipelines.io.kafka_client import make_producer
from pipelines.io.topics import ensure_topics
from pipelines.pipeline.workers import flag_value
from tests.cli.helpers import newsflow
from tests.pipeline.test_stream import Topics, read_topic, start_run, stop

NOW = 1_800_000_000.0


def write(path, state, updated_at=NOW, **facts):
    Path(path).write_text(json.dumps({"state": state, "updated_at": updated_at, "worker": "0/1", **facts}))


def test_no_file_is_unhealthy(tmp_path):
    verdict = health.judge(str(tmp_path / "none.json"), now=NOW)
    assert not verdict.healthy and "no health file" in verdict.line


def test_starting_is_live_but_not_ready(tmp_path):
    path = str(tmp_path / "h.json")
    write(path, health.STARTING, NOW - 5)
    assert health.judge(path, 60, now=NOW).healthy
    verdict = health.judge(path, 60, ready=True, now=NOW)
    assert not verdict.healthy and "not ready: starting" in verdict.line


@pytest.mark.parametrize("state", [health.READING, health.WAITING])
def test_reading_or_waiting_is_ready_until_stale(tmp_path, state):
    path = str(tmp_path / "h.json")
    write(path, state, NOW - 59, delivered=3, last_delivery_at=NOW - 70)
    verdict = health.judge(path, 60, ready=True, now=NOW)
    assert verdict.healthy, verdict.line
    stale = health.judge(path, 60, ready=True, now=NOW + 2)
    assert not stale.healthy and "stale" in stale.line and "61.0s ago" in stale.line


def test_stopped_is_unhealthy_however_fresh(tmp_path):
    path = str(tmp_path / "h.json")
    write(path, health.STOPPED, NOW)
    verdict = health.judge(path, 60, now=NOW)
    assert not verdict.healthy and "stopped" in verdict.line


def test_unreadable_file_is_unhealthy(tmp_path):
    path = tmp_path / "h.json"
    path.write_text("{half")
    assert not health.judge(str(path), now=NOW).healthy


def test_a_supervisor_is_healthy_only_when_every_process_is(tmp_path):
    path = str(tmp_path / "h.json")
    write(path, health.SUPERVISING, NOW - 1000, processes=2)  # the launcher's own age does not matter
    write(health.part_path(path, 0), health.READING, NOW - 1)
    assert not health.judge(path, 60, now=NOW).healthy  # part 1 missing
    write(health.part_path(path, 1), health.READING, NOW - 100)
    verdict = health.judge(path, 60, now=NOW)
    assert not verdict.healthy and health.part_path(path, 1) in verdict.line and "stale" in verdict.line
    write(health.part_path(path, 1), health.READING, NOW - 2)
    assert health.judge(path, 60, ready=True, now=NOW).healthy


def test_report_supervising_removes_the_parts_of_a_previous_run(tmp_path):
    path = str(tmp_path / "h.json")
    write(health.part_path(path, 1), health.READING, time.time())
    health.report(path, "0/1", health.SUPERVISING, processes=2)
    assert not os.path.exists(health.part_path(path, 1))
    assert not health.judge(path).healthy


def test_report_is_nothing_without_a_path_and_one_line_when_unwritable(tmp_path):
    health.report(None, "0/1", health.STARTING)
    with pytest.raises(ValueError, match="--health-file .*cannot write"):
        health.report(str(tmp_path / "missing-folder" / "h.json"), "0/1", health.STARTING)


def test_heartbeat_writes_at_most_once_a_second_and_remembers_the_last_delivery(tmp_path):
    clock = [NOW]
    beat = health.Heartbeat(health.HealthFile(str(tmp_path / "h.json"), "1/3"), every=1.0, clock=lambda: clock[0])

    def read():
        return json.loads((tmp_path / "h.json").read_text())

    beat.beat(0)
    assert read()["state"] == health.READING and read()["last_delivery_at"] is None and read()["worker"] == "1/3"
    clock[0] += 0.5
    beat.beat(2)
    assert read()["delivered"] == 0  # throttled
    clock[0] += 0.6
    beat.beat(2)
    assert read()["delivered"] == 2 and read()["last_delivery_at"] == NOW + 0.5
    assert read()["updated_at"] == NOW + 1.1


def test_launcher_gives_each_process_its_own_part():
    assert flag_value(["--group-id", "g", "--health-file", "/h/run.json"], "--health-file") == "/h/run.json"
    assert flag_value(["--health-file=/h/a.json"], "--health-file") == "/h/a.json"
    assert flag_value(["--group-id", "g"], "--health-file") is None


def test_an_unwritable_health_file_is_refused_before_the_broker(tmp_path):
    result = newsflow("run", "--bootstrap-servers", "127.0.0.1:1", "--health-file", tmp_path / "no" / "h.json",
                      timeout=120)
    assert result.returncode == 1
    assert "--health-file" in result.stderr and "cannot write" in result.stderr, result.stderr


# ---------------------------------------------------------------- a real run


def probe(path, *flags, max_age=3):
    result = newsflow("health", "--file", path, "--max-age", max_age, *flags, timeout=60)
    return result.returncode, (result.stdout + result.stderr).strip()


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def state_of(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


@pytest.mark.integration
def test_health_follows_a_real_run(kafka_broker, tmp_path):
    topics = Topics(f"health{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=2)
    path = str(tmp_path / "run.health.json")
    assert probe(path)[0] == 1  # nothing runs yet
    proc = start_run(kafka_broker, topics, tmp_path / "avro", "health", tmp_path / "run.log",
                     ["--processes", "1", "--health-file", path])
    log = tmp_path / "run.log"
    try:
        wait_for(lambda: state_of(path).get("state") == health.STARTING, 60, "the starting report")
        code, line = probe(path, "--ready", max_age=60)
        assert code == 1 and "not ready: starting" in line, line
        wait_for(lambda: state_of(path).get("state") == health.READING, 180, "the pipeline to read")
        code, line = probe(path, "--ready")
        assert code == 0 and "reading" in line, line

        producer = make_producer(kafka_broker)
        producer.send(topics.raw, key=b"h-1", value=json.dumps(
            {"id": "h-1", "title": "Talks in Geneva", "body": "Officials met in Geneva on Monday."}).encode())
        producer.flush()
        producer.close()
        read_topic(kafka_broker, topics.enriched, lambda m: len(m) >= 1)
        wait_for(lambda: state_of(path).get("delivered") == 1, 30, "the delivery to be reported")
        assert state_of(path)["last_delivery_at"] is not None

        # An idle pipeline still beats: after twice the max age it is healthy.
        time.sleep(6)
        code, line = probe(path, "--ready")
        assert code == 0, line

        # A pipeline that does not move (the process frozen) goes stale.
        proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(4)
            code, line = probe(path)
            assert code == 1 and "stale" in line, line
        finally:
            proc.send_signal(signal.SIGCONT)
        wait_for(lambda: probe(path)[0] == 0, 60, "the beat to come back")
    finally:
        code = stop(proc)
    assert code == 0, log.read_text()[-3000:]
    code, line = probe(path, max_age=60)
    assert code == 1 and "stopped" in line, line


@pytest.mark.integration
def test_health_of_a_run_with_two_processes_sees_one_stuck_process(kafka_broker, tmp_path):
    topics = Topics(f"health2p{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=2)
    path = str(tmp_path / "run.health.json")
    proc = start_run(kafka_broker, topics, tmp_path / "avro", "health2p", tmp_path / "run.log",
                     ["--processes", "2", "--health-file", path])
    try:
        wait_for(lambda: probe(path, "--ready")[0] == 0, 240, "both processes to read")
        assert state_of(path)["state"] == health.SUPERVISING
        part = health.part_path(path, 1)
        assert state_of(part)["worker"] == "1/2"
        copy = state_of(part)["pid"]
        os.kill(copy, signal.SIGSTOP)
        try:
            time.sleep(4)
            code, line = probe(path)
            assert code == 1 and part in line and "stale" in line, line
        finally:
            os.kill(copy, signal.SIGCONT)
        wait_for(lambda: probe(path)[0] == 0, 60, "the beat to come back")
    finally:
        code = stop(proc)
    assert code == 0, (tmp_path / "run.log").read_text()[-3000:]
    assert all(state_of(p)["state"] == health.STOPPED for p in (path, health.part_path(path, 0), health.part_path(path, 1)))
