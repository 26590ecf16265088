"""Broker outages: `run`, `publish` and `feeds` wait for a broker that goes away, recover when it is
back (one line when it goes, one when it returns), lose nothing; a broker that never comes back
ends them with one line and exit 69 after --broker-timeout-seconds.

The integration tests stop and start a broker of their own (not the session's, which other tests
use), on its own ports and state folder, so that it comes back with its data.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from pipelines import avro
from pipelines.config import DEFAULT_BROKER_TIMEOUT_SECONDS, add_broker_timeout_flag
from pipelines.io import broker
from pipelines.io.retry import EXIT_BROKER_GONE, Backoff, BrokerGone, BrokerOutage, BrokerWatch, retry
from pipelines.io.topics import ensure_topics
from tests.conftest import start_broker
from tests.fixtures import articles as fixture_articles
from tests.pipeline.test_scale import publish, start
from tests.pipeline.test_stream import REPO, Topics, read_topic, stop

WAITING = "unreachable; waiting"
BACK = "back after"
GONE = "giving up"


def quiet(*_):
    pass


# ---------------------------------------------------------------- the state machine, no broker
class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_said_once_when_it_starts_and_once_when_it_ends():
    lines, clock = [], Clock()
    outage = BrokerOutage("127.0.0.1:1", 60, lines.append, clock=clock)
    outage.back()
    assert lines == []  # up and up again: nothing to say
    for _ in range(5):
        outage.away()
        clock.now += 10
    assert lines == ["broker 127.0.0.1:1 unreachable; waiting (gives up after 60 s)"]
    outage.back()
    outage.back()
    assert lines[1:] == ["broker 127.0.0.1:1 back after 50 s"] and outage.outages == 1
    outage.away()
    assert len(lines) == 3 and outage.outages == 2


def test_an_outage_longer_than_the_timeout_gives_up():
    clock = Clock()
    outage = BrokerOutage("b:9", 30, quiet, clock=clock)
    outage.away()
    clock.now += 29.9
    outage.away()
    clock.now += 0.1
    with pytest.raises(BrokerGone, match=r"broker b:9 unreachable for 30 s; giving up .*exit 69"):
        outage.away()


def test_retry_backs_off_until_the_call_succeeds_and_lets_other_errors_through():
    from kafka.errors import KafkaTimeoutError

    lines, slept, clock = [], [], Clock()
    outage = BrokerOutage("b:9", 100, lines.append, clock=clock)
    answers = iter([KafkaTimeoutError(), KafkaTimeoutError(), KafkaTimeoutError(), "done"])

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def sleep(seconds):
        slept.append(seconds)
        clock.now += seconds

    assert retry(call, outage, backoff=Backoff(first=1, factor=2, most=3), sleep=sleep) == "done"
    assert slept == [1, 2, 3]
    assert [line.split(" (")[0] for line in lines] == ["broker b:9 unreachable; waiting", "broker b:9 back after 6 s"]
    with pytest.raises(ValueError):
        retry(lambda: (_ for _ in ()).throw(ValueError("not the broker")), outage, sleep=sleep)


def test_retry_gives_up_after_the_timeout():
    from kafka.errors import KafkaConnectionError

    clock = Clock()
    outage = BrokerOutage("b:9", 5, quiet, clock=clock)

    def sleep(seconds):
        clock.now += seconds

    def never():
        raise KafkaConnectionError()

    with pytest.raises(BrokerGone):
        retry(never, outage, sleep=sleep)
    assert clock.now - 1000 >= 5


def test_the_watch_reports_each_change_once_and_calls_give_up():
    import threading

    # One miss alone is a slow answer, not an outage; two in a row are.
    lines, gone, answers = [], threading.Event(), iter([True, False, True, False, False, True, True])

    def answer(_bootstrap, _timeout):
        return next(answers, False)

    outage = BrokerOutage("b:9", 0.3, lines.append)
    with BrokerWatch(outage, on_gone=lambda message: gone.set(), every_s=0.01,
                     backoff=Backoff(first=0.05, most=0.05), answers=answer):
        assert gone.wait(10)
    kinds = [line.split(" ")[2] for line in lines]
    assert kinds == ["unreachable;", "back", "unreachable;"], lines


def test_the_watch_says_the_broker_is_back_when_the_work_ends_between_two_probes():
    # The broker went away and came back, the last sends were acknowledged and the work ended
    # before the next probe: the watch probes once more on its way out and says so.
    lines, answers = [], iter([False, False])

    def answer(_bootstrap, _timeout):
        return next(answers, True)

    outage = BrokerOutage("b:9", 60.0, lines.append)
    with BrokerWatch(outage, on_gone=lambda message: None, every_s=0.01,
                     backoff=Backoff(first=0.01, factor=360000.0, most=3600.0), answers=answer):
        deadline = time.monotonic() + 10
        while not outage.is_away and time.monotonic() < deadline:
            time.sleep(0.01)
        assert outage.is_away
    assert [line.split(" ")[2] for line in lines] == ["unreachable;", "back"], lines
    assert not outage.is_away
    # (Backoff: the second probe at once, the next an hour later: only the exit probe can see it back.)
    # A broker still away at the end is not said to be back.
    lines.clear()
    outage = BrokerOutage("b:9", 60.0, lines.append)
    with BrokerWatch(outage, on_gone=lambda message: None, every_s=0.01,
                     backoff=Backoff(first=0.01, factor=360000.0, most=3600.0), answers=lambda _b, _t: False):
        deadline = time.monotonic() + 10
        while not outage.is_away and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [line.split(" ")[2] for line in lines] == ["unreachable;"], lines


def test_broker_timeout_flag_default_env_and_checks(monkeypatch):
    import argparse

    def parse(*argv):
        parser = argparse.ArgumentParser()
        add_broker_timeout_flag(parser)
        return parser.parse_args(list(argv)).broker_timeout_seconds

    monkeypatch.delenv("NEWSFLOW_BROKER_TIMEOUT_SECONDS", raising=False)
    assert parse() == DEFAULT_BROKER_TIMEOUT_SECONDS
    assert parse("--broker-timeout-seconds", "12.5") == 12.5
    monkeypatch.setenv("NEWSFLOW_BROKER_TIMEOUT_SECONDS", "42")
    assert parse() == 42.0
    for bad in ("0", "-3", "soon"):
        with pytest.raises(SystemExit):
            parse("--broker-timeout-seconds", bad)


def test_every_command_that_waits_takes_the_flag():
    for command in ("run", "publish", "feeds"):
        out = subprocess.run([sys.executable, "-m", "pipelines", command, "--help"], capture_output=True,
                             text=True, cwd=REPO, timeout=120).stdout
        assert "--broker-timeout-seconds" in out, command


# ---------------------------------------------------------------- against a broker of our own
@pytest.fixture(scope="module")
def own_broker(tmp_path_factory):
    """A broker these tests may stop: its own ports and state folder, so it comes back with its data."""
    # A restart on a loaded machine (recovering its logs) may take minutes: wait for it longer than usual.
    state = tmp_path_factory.mktemp("outage-broker")
    cfg = start_broker(lambda port: broker.BrokerConfig(state_dir=state, port=port, start_timeout_s=400.0))
    yield cfg
    broker.down(cfg, log=quiet)


@pytest.fixture
def live_broker(own_broker) -> broker.BrokerConfig:
    """The own broker, running (a test before may have left it stopped)."""
    broker.up(own_broker, log=quiet)
    return own_broker


def count(log: str, text: str) -> int:
    return sum(text in line for line in log.splitlines())


def report(what: str, published: int, enriched_ids: list[str], dead: int, want: set[str]) -> None:
    counts = Counter(enriched_ids)
    duplicated = sum(n - 1 for n in counts.values())
    lost = len(want - set(counts))
    print(f"\n{what}: published {published}, enriched {len(set(counts))}, dead-lettered {dead}, "
          f"duplicated {duplicated}, lost {lost}")


def enriched_ids(bootstrap, topic, want, timeout_s):
    messages = read_topic(bootstrap, topic, lambda m: want <= {avro.decode(x.value)["id"] for x in m},
                          timeout_s=timeout_s)
    return [avro.decode(m.value)["id"] for m in messages]


@pytest.mark.integration
def test_run_waits_out_a_30_second_outage_and_loses_nothing(live_broker, tmp_path):
    bootstrap = live_broker.bootstrap
    topics = Topics(f"outage-run{os.getpid()}")
    ensure_topics(bootstrap, [topics.raw, topics.enriched, topics.dlq], partitions=2)
    articles = [dict(a, id=f"{a['id']}-out{n}") for n in range(2) for a in fixture_articles()]
    bad = [b"{not json", b"\xff\xfe"]
    publish(bootstrap, topics.raw, articles[:20] + bad, 2)
    # Two processes, as on a 2-core machine by default: the launcher says each change once for both.
    proc = start(bootstrap, topics, "outage", tmp_path / "run.log", "--processes", "2",
                   "--broker-timeout-seconds", "240")
    want = {a["id"] for a in articles}
    try:
        read_topic(bootstrap, topics.enriched, lambda m: len(m) >= 3, timeout_s=300)
        broker.down(live_broker, log=quiet)  # mid-stream: most of the first 20 are still in flight
        time.sleep(30)
        broker.up(live_broker, log=quiet)
        publish(bootstrap, topics.raw, articles[20:], 2)
        ids = enriched_ids(bootstrap, topics.enriched, want, timeout_s=400)
        dead = read_topic(bootstrap, topics.dlq, lambda m: len(m) >= len(bad), timeout_s=60)
    finally:
        code = stop(proc, timeout=120)
    log = (tmp_path / "run.log").read_text()
    report("run, 30 s outage", len(articles) + len(bad), ids, len(dead), want)
    assert code == 0, log[-3000:]
    assert set(ids) == want, log[-3000:]             # none lost
    assert {bytes(avro.decode(m.value)["original"]) for m in dead} >= set(bad)
    assert len(ids) < 2 * len(want)                  # a re-read bundle at most, not everything twice
    assert count(log, WAITING) == 1 and count(log, BACK) == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.integration
def test_run_gives_up_with_one_line_when_the_broker_never_comes_back_and_a_rerun_loses_nothing(
        live_broker, tmp_path):
    bootstrap = live_broker.bootstrap
    topics = Topics(f"outage-gone{os.getpid()}")
    ensure_topics(bootstrap, [topics.raw, topics.enriched, topics.dlq], partitions=1)
    articles = [dict(a, id=f"{a['id']}-gone") for a in fixture_articles()]
    publish(bootstrap, topics.raw, articles, 1)
    proc = start(bootstrap, topics, "gone", tmp_path / "run.log", "--processes", "1",
                   "--broker-timeout-seconds", "10")
    try:
        read_topic(bootstrap, topics.enriched, lambda m: len(m) >= 1, timeout_s=300)
        broker.down(live_broker, log=quiet)
        down_at = time.monotonic()
        code = proc.wait(timeout=10 + 90)
        waited = time.monotonic() - down_at
    finally:
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / "run.log").read_text()
    assert code == EXIT_BROKER_GONE, log[-3000:]
    assert waited >= 10, log[-3000:]
    assert count(log, WAITING) == 1 and count(log, GONE) == 1, log[-3000:]
    assert f"newsflow run: broker {bootstrap} unreachable for 10 s; giving up" in log
    assert "Traceback" not in log, log[-3000:]
    # What was not committed is read again: back up, a bounded re-run enriches every article.
    broker.up(live_broker, log=quiet)
    rerun = start(bootstrap, topics, "gone", tmp_path / "rerun.log", "--processes", "1", "--until-end")
    assert rerun.wait(timeout=300) == 0, (tmp_path / "rerun.log").read_text()[-3000:]
    want = {a["id"] for a in articles}
    ids = enriched_ids(bootstrap, topics.enriched, want, timeout_s=60)
    report(f"run, broker gone (exit {code} after {waited:.0f} s), then a re-run", len(articles), ids, 0, want)
    assert set(ids) == want


def publish_cmd(bootstrap, topic, path, log_path, timeout_s):
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", "publish", str(path), "--topic", topic, "--bootstrap-servers", bootstrap,
         "--broker-timeout-seconds", str(timeout_s), "-q"],
        stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, cwd=REPO)


def numbered(start: int, stop_: int) -> list[dict]:
    stories = fixture_articles()
    return [dict(stories[n % len(stories)], id=f"pub-{n}") for n in range(start, stop_)]


def lines(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


@pytest.mark.integration
def test_publish_waits_out_an_outage_mid_file_and_loses_nothing(live_broker, tmp_path):
    bootstrap, topic = live_broker.bootstrap, f"outage-pub{os.getpid()}"
    ensure_topics(bootstrap, [topic], partitions=2)
    # A named pipe as the input file: the test decides when each part of it arrives.
    fifo = tmp_path / "articles.jsonl"
    os.mkfifo(fifo)
    proc = publish_cmd(bootstrap, topic, fifo, tmp_path / "publish.log", 120)
    rows = numbered(0, 150)
    with open(fifo, "w") as pipe:
        pipe.write(lines(rows[:50]))
        pipe.flush()
        read_topic(bootstrap, topic, lambda m: len(m) >= 50, timeout_s=60)
        broker.down(live_broker, log=quiet)
        pipe.write(lines(rows[50:100]))  # sent while the broker is away
        pipe.flush()
        time.sleep(12)
        broker.up(live_broker, log=quiet)
        pipe.write(lines(rows[100:]))
    code = proc.wait(timeout=180)
    log = (tmp_path / "publish.log").read_text()
    want = {row["id"] for row in rows}
    keys = [m.key.decode() for m in read_topic(bootstrap, topic, lambda m: want <= {x.key.decode() for x in m},
                                               timeout_s=60)]
    report("publish, 12 s outage", len(rows), keys, 0, want)
    assert code == 0, log
    assert "published 150, rejected 0" in log
    assert set(keys) == want, log
    assert count(log, WAITING) == 1 and count(log, BACK) == 1, log
    assert "Traceback" not in log, log


@pytest.mark.integration
def test_publish_gives_up_with_one_line_when_the_broker_never_comes_back(live_broker, tmp_path):
    bootstrap, topic = live_broker.bootstrap, f"outage-pubgone{os.getpid()}"
    ensure_topics(bootstrap, [topic], partitions=1)
    fifo = tmp_path / "articles.jsonl"
    os.mkfifo(fifo)
    proc = publish_cmd(bootstrap, topic, fifo, tmp_path / "publish.log", 6)
    with open(fifo, "w") as pipe:
        pipe.write(lines(numbered(0, 10)))
        pipe.flush()
        read_topic(bootstrap, topic, lambda m: len(m) >= 10, timeout_s=60)
        broker.down(live_broker, log=quiet)
        down_at = time.monotonic()
        pipe.write(lines(numbered(10, 20)))
        pipe.flush()
        try:
            code = proc.wait(timeout=6 + 60)
        finally:
            if proc.poll() is None:
                proc.kill()
        waited = time.monotonic() - down_at
    log = (tmp_path / "publish.log").read_text()
    print(f"\npublish, broker gone: exit {code} after {waited:.0f} s (timeout 6 s)")
    assert code == EXIT_BROKER_GONE, log
    assert count(log, WAITING) == 1 and count(log, GONE) == 1, log
    assert log.strip().splitlines()[-1].startswith(f"newsflow publish: broker {bootstrap} unreachable for 6 s; giving up")
    assert "Traceback" not in log, log


@pytest.mark.integration
def test_feeds_waits_out_an_outage_between_two_entries_and_loses_nothing(live_broker, tmp_path):
    from tests.io.feed_fixtures import FixtureServer, load_records, rss_feed

    bootstrap, topic = live_broker.bootstrap, f"outage-feeds{os.getpid()}"
    ensure_topics(bootstrap, [topic], partitions=1)
    records = load_records(8)
    with FixtureServer() as server:
        links = []
        for n, record in enumerate(records):
            path = f"/news/{record['id']}.html"
            from tests.io.feed_fixtures import article_html

            # One page answers late: the broker is stopped meanwhile, so the entries published
            # before it (the poller goes oldest first) reach the broker, the rest go into the outage.
            server.set(path, article_html(record), delay=20.0 if n == 2 else 0.0)
            links.append((record, server.url(path)))
        server.set_feed("/rss.xml", rss_feed("Fixture RSS", links))
        log_path = tmp_path / "feeds.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines", "feeds", server.url("/rss.xml"), "--once", "--host-delay", "0",
             "--allow-private-addresses", "--timeout", "60", "--state-dir", str(tmp_path / "state"),
             "--bootstrap-servers", bootstrap, "--topic", topic, "--broker-timeout-seconds", "120"],
            stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, cwd=REPO)
        try:
            late = links[2][1].split(server.base)[1]
            deadline = time.monotonic() + 120
            while server.hits[late] == 0 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
            time.sleep(2)  # what was published before the late page has been acknowledged by now
            before = len(read_topic(bootstrap, topic, lambda m: len(m) >= 1, timeout_s=30))
            broker.down(live_broker, log=quiet)
            time.sleep(15)
            broker.up(live_broker, log=quiet)
            code = proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
    log = log_path.read_text()
    want = {url for _, url in links}
    messages = read_topic(bootstrap, topic, lambda m: len({json.loads(x.value)["url"] for x in m}) >= len(want),
                          timeout_s=60)
    urls = [json.loads(m.value)["url"] for m in messages]
    report(f"feeds, 15 s outage after {before} of {len(want)} entries", len(want), urls, 0, want)
    assert 0 < before < len(want), log  # the outage came mid-stream
    assert code == 0, log
    assert set(urls) == want, log
    assert count(log, WAITING) == 1 and count(log, BACK) == 1, log
    assert "could not publish" not in log and "Traceback" not in log, log
