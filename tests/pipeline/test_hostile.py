"""The hostile corpus through the real ``EnrichArticles``: each kind is enriched or dead-lettered
with its reason, the counters add up, and one record over its time budget is dead-lettered as
``Timeout`` while the batch goes on."""
import json
import pickle
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that
from kafka import KafkaProducer

from pipelines import avro
from pipelines.io.kafka_source import KafkaReadConfig, KafkaRecord, ReadPartitionFn
from pipelines.io.topics import ensure_topics
from pipelines.pipeline.enrich import DEAD_LETTER, EnrichArticles, EnrichConfig, from_kafka_record
from tests.io.test_kafka_source import _Tracker, _Watermark
from tests.pipeline.bad_inputs import ENGLISH, ENRICHED, HOSTILE
from tests.pipeline.test_enrich import _collect, fixed_clock

TOPIC = "articles.raw"
STAGES = {"decode", "parse", "validate", "language", "enrich"}


def as_read(values: list[tuple[bytes | None, bytes | None]]):
    """(key, value) pairs as the Kafka reader hands them on: KafkaRecords made RawInputs, offset = position."""
    return [from_kafka_record(KafkaRecord(TOPIC, 0, offset, key, value, 0)) for offset, (key, value) in enumerate(values)]


def run_counted(raw_inputs, cfg: EnrichConfig, tmp: Path):
    """Enriched records, dead letters and the newsflow counters of one run on the embedded runner."""
    p = TestPipeline()
    outputs = p | beam.Create(raw_inputs) | EnrichArticles(cfg)
    assert_that(outputs["enriched"], _collect(tmp / "enriched.pkl"), label="KeepEnriched")
    assert_that(outputs[DEAD_LETTER], _collect(tmp / "dead.pkl"), label="KeepDead")
    result = p.run()
    result.wait_until_finish()
    counters = {}
    for c in result.metrics().query(MetricsFilter().with_namespace("newsflow"))["counters"]:
        counters[c.key.metric.name] = counters.get(c.key.metric.name, 0) + c.committed
    return pickle.loads((tmp / "enriched.pkl").read_bytes()), pickle.loads((tmp / "dead.pkl").read_bytes()), counters


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    # The contract's default size limit and time budget: the pathological texts reach spaCy.
    return run_counted(as_read([(kind.key, kind.value) for kind in HOSTILE]), EnrichConfig(clock=fixed_clock),
                       tmp_path_factory.mktemp("hostile"))


def test_the_corpus_has_at_least_30_named_kinds():
    assert len({kind.name for kind in HOSTILE}) == len(HOSTILE) >= 30


def test_each_kind_is_enriched_or_dead_lettered_as_expected(outcomes):
    enriched, dead, _ = outcomes
    got = [(r["kafka"]["offset"], ENRICHED) for r in enriched] + [(d["offset"], d["error_class"]) for d in dead]
    assert sorted(offset for offset, _ in got) == list(range(len(HOSTILE)))  # each once, none lost
    outcome = dict(got)
    assert {kind.name: outcome[i] for i, kind in enumerate(HOSTILE)} == {kind.name: kind.expected for kind in HOSTILE}


def test_the_counters_add_up(outcomes):
    enriched, dead, counters = outcomes
    dead_lettered = sum(n for name, n in counters.items() if name.startswith("dead_lettered_"))
    assert counters["read"] == len(HOSTILE) == counters["enriched"] + dead_lettered
    assert (counters["enriched"], dead_lettered) == (len(enriched), len(dead))


def test_every_dead_letter_says_why_and_keeps_the_record(outcomes):
    _, dead, _ = outcomes
    for letter in dead:
        kind = HOSTILE[letter["offset"]]
        assert letter["error_class"] and letter["error_message"] and letter["stage"] in STAGES, kind.name
        assert letter["original"] == (kind.value or b"") and letter["key"] == kind.key, kind.name
        assert (letter["topic"], letter["partition"]) == (TOPIC, 0)


def test_every_output_is_valid_avro(outcomes):
    """Enriched safely: what was enriched (NUL, bidi controls, year 0001...) can be written."""
    enriched, dead, _ = outcomes
    for records, schema in ((enriched, avro.load_schema("enriched")), (dead, avro.load_schema("dead_letter"))):
        for record in records:
            assert avro.decode(avro.encode(record, schema))["failed_at" if "failed_at" in record else "id"] is not None


def test_safely_enriched_text_is_kept_as_sent(outcomes):
    enriched, _, _ = outcomes
    by_id = {}
    for record in enriched:
        by_id.setdefault(record["id"], []).append(record)
    assert by_id["html"][0]["body"].startswith("<script>alert(document.cookie)</script>")
    assert "\x00" in by_id["nul"][0]["body"]
    assert by_id["y0001"][0]["published_at"] == -62135596800000
    assert len(by_id["dup-id"]) == 2  # at-least-once: consumers de-duplicate on id
    assert by_id["nan-extra"][0]["extra"] == {"score": "NaN", "rank": "-Infinity"}


def frozen_timer() -> float:
    return 0.0


class TickingTimer:
    """A stopwatch on which every reading is one second after the last."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _article(article_id: str, body: str) -> tuple[bytes, bytes]:
    return article_id.encode(), json.dumps({"id": article_id, "body": body}).encode()


def test_a_record_whose_size_is_over_budget_is_dead_lettered_and_the_batch_goes_on(tmp_path):
    # The stopwatch stands still, so only the size check can refuse: ~900 tokens predict 0.2 s
    # against a budget of 0.05 s, ~22 tokens predict 6 ms.
    cfg = EnrichConfig(clock=fixed_clock, timer=frozen_timer, record_timeout_seconds=0.05)
    inputs = as_read([_article("before", ENGLISH), _article("big", ENGLISH * 40), _article("after", ENGLISH)])
    enriched, dead, counters = run_counted(inputs, cfg, tmp_path)
    assert sorted(r["id"] for r in enriched) == ["after", "before"]
    assert [(d["key"], d["stage"], d["error_class"]) for d in dead] == [(b"big", "enrich", "Timeout")]
    assert "tokens predict" in dead[0]["error_message"] and "0.05 s" in dead[0]["error_message"]
    assert counters["dead_lettered_enrich"] == 1 and counters["read"] == 3


def test_a_record_over_budget_by_the_clock_is_dead_lettered(tmp_path):
    # A stopwatch that gains a second a reading: a record of a few tokens is over 1.5 s after its
    # second step, however fast the machine. With no budget (0) the same records are enriched.
    inputs = as_read([_article("a", ENGLISH), _article("b", ENGLISH)])
    cfg = EnrichConfig(clock=fixed_clock, timer=TickingTimer(), record_timeout_seconds=1.5)
    enriched, dead, _ = run_counted(inputs, cfg, tmp_path)
    assert enriched == [] and sorted((d["key"], d["error_class"]) for d in dead) == [(b"a", "Timeout"), (b"b", "Timeout")]
    assert all("spent on this record by the end of" in d["error_message"] for d in dead)
    unbounded = EnrichConfig(clock=fixed_clock, timer=TickingTimer(), record_timeout_seconds=0)
    enriched, dead, _ = run_counted(inputs, unbounded, tmp_path)
    assert sorted(r["id"] for r in enriched) == ["a", "b"] and dead == []


def no_key(_key) -> None:
    return None


@pytest.mark.integration
def test_a_record_with_null_key_and_null_value_from_the_broker_is_dead_lettered(kafka_broker, topic_name, tmp_path):
    ensure_topics(kafka_broker, [topic_name])
    # kafka-python refuses to send neither key nor value, but serializes keys after that check: a
    # key serializer that answers None writes the record other clients can write.
    producer = KafkaProducer(bootstrap_servers=kafka_broker, key_serializer=no_key)
    producer.send(topic_name, key=b"", value=None, partition=0).get(timeout=30)
    producer.send(topic_name, key=b"", value=json.dumps({"id": "after", "body": ENGLISH}).encode(), partition=0)
    producer.flush()
    producer.close()
    fn = ReadPartitionFn(KafkaReadConfig(kafka_broker, group_id="hostile-test"))
    fn.setup()
    try:
        records = []
        for _ in range(40):
            records += [r.value for r in fn.read((topic_name, 0), _Tracker(len(records)), _Watermark())]
            if len(records) >= 2:
                break
    finally:
        fn.teardown()
    assert [(r.key, r.value is None) for r in records] == [(None, True), (None, False)]
    enriched, dead, counters = run_counted([from_kafka_record(r) for r in records], EnrichConfig(clock=fixed_clock),
                                           tmp_path)
    assert [r["id"] for r in enriched] == ["after"]
    assert [(d["key"], d["original"], d["offset"], d["error_class"]) for d in dead] == [(None, b"", 0, "EmptyMessage")]
    assert counters["read"] == 2


def test_the_budget_flag_reaches_the_enrichment():
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipelines.pipeline.options import EnrichOptions
    from pipelines.pipeline.stream import enrich_config

    opts = PipelineOptions(["--record-timeout-seconds", "2.5"]).view_as(EnrichOptions)
    assert enrich_config(opts).record_timeout_seconds == 2.5
    assert enrich_config(PipelineOptions([]).view_as(EnrichOptions)).record_timeout_seconds == 10.0
