"""``EnrichArticles``: the one core composite, free of I/O, shared by ``run`` and ``replay``.

raw input -> parse + validate (+ language) -> batch -> spaCy (title and body) -> entities ->
events -> EnrichedArticle records. Every input leaves as either an enriched record (main
output) or a ``DeadLetter`` record (tag ``dead_letter``) with the stage and reason.
"""
from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines import __version__, avro
from pipelines.config import DEFAULT_MAX_ARTICLE_BYTES, DEFAULT_RECORD_TIMEOUT_SECONDS, METRICS_NAMESPACE as NAMESPACE
from pipelines.article import Article, InvalidArticle, article_from_json_bytes, \
    article_from_mapping, to_epoch_ms
from pipelines.nlp.annotate import annotate, parse
from pipelines.pipeline import heap

LOG = logging.getLogger(__name__)
DEAD_LETTER = "dead_letter"
# The per-record time budget. CPython cannot stop a thread, and SIGALRM reaches only the main
# thread while Beam runs DoFns in worker threads: nothing can safely interrupt spaCy in mid-call.
# So the budget bounds the work instead of interrupting it: (1) before anything is parsed, the
# record's token count (the tokenizer is linear and a small part of the cost) predicts its
# annotation time at SECONDS_PER_TOKEN, and a record predicted over budget is dead-lettered at
# once; (2) the clock is read after each step (tokenize, parse, entities, events) and a record
# over budget goes no further. A record thus holds its partition for at most its budget plus one
# step, and (1) keeps any one step within about the budget.
# The rate is a constant, not measured per worker, so that what the size check refuses is the
# same on every machine (and in the tests). Measured with the news NER (parse + entities + events)
# on the 2-core test VM: ~500 us per token with the core shared by two processes, on news and on
# 50,000 one-word sentences alike. 250 us (one unshared core of that VM) errs slow: at the default
# 10 s a record may have 40,000 tokens (some 30,000 words), more than almost any news article;
# --record-timeout-seconds raises it.
SECONDS_PER_TOKEN = 2.5e-4
# Not a schema field (Avro writers ignore it): the first source offset an output answers for,
# read by the delivery step's commit ledger (``pipelines.io.offsets``).
READ_FROM = "_read_from"
# Lemmas memoised per worker before the memo starts again (some 330 bytes each; a long run reads ever more words).
LEMMA_CACHE_LIMIT = 20_000
# Lexemes made (and dropped) in memory zones before a worker loads a fresh spaCy pipeline (AnnotateArticlesFn.process).
SPACY_RELOAD_LEXEMES = 100_000


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class EnrichConfig:
    """Settings of the enrichment; the clock is injectable so tests and replays are deterministic."""

    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
    # Non-English articles are dead-lettered (stage 'language'): the models are English-only
    # and would return confident nonsense. 'enrich' keeps them and enriches what it can.
    non_english: str = "dead-letter"
    min_language_confidence: float = 0.90
    batch_size: int = 16
    spacy_model: str | None = None
    # Seconds of annotation one record may take before it is dead-lettered as Timeout (0: no budget).
    record_timeout_seconds: float = DEFAULT_RECORD_TIMEOUT_SECONDS
    # A fresh spaCy pipeline after this many lexemes made and dropped in memory zones (see
    # AnnotateArticlesFn.process): ~750 articles, at most ~5 MB of hash-table growth (0: never).
    spacy_reload_lexemes: int = SPACY_RELOAD_LEXEMES
    clock: Callable[[], datetime] = field(default=utc_now, compare=False)
    # The budget's stopwatch: CPU time of the worker thread, not wall time, so that a record is
    # judged by its own cost and not by how loaded the machine is (a 2,225-article replay on a
    # machine at load 35 dead-lettered 4 ordinary BBC articles as Timeout with a wall clock).
    timer: Callable[[], float] = field(default=time.thread_time, compare=False)


class RecordTimeout(Exception):
    """One record's annotation is over its time budget."""

    error_class = "Timeout"


class RecordBudget:
    """The time one record has spent, step by step, against ``EnrichConfig.record_timeout_seconds``."""

    def __init__(self, seconds: float, timer: Callable[[], float]):
        self.seconds = seconds
        self.spent = 0.0
        self._timer = timer
        self._mark = timer()

    def predict(self, tokens: int) -> None:
        """Refuse a record whose size alone predicts more work than the budget allows."""
        predicted = tokens * SECONDS_PER_TOKEN
        if self.seconds and predicted > self.seconds:
            raise RecordTimeout(f"{tokens} tokens predict about {predicted:.1f} s of annotation, over the "
                                f"per-record budget of {self.seconds:g} s (--record-timeout-seconds)")

    def charge(self, seconds: float) -> None:
        """Add the record's share of a step done for the whole batch (the batched spaCy parse)."""
        self.spent += seconds
        self._mark = self._timer()

    def check(self, step: str) -> None:
        now = self._timer()
        self.spent += now - self._mark
        self._mark = now
        if self.seconds and self.spent > self.seconds:
            raise RecordTimeout(f"{self.spent:.2f} s spent on this record by the end of {step}, over the "
                                f"per-record budget of {self.seconds:g} s (--record-timeout-seconds)")


class RawInput(NamedTuple):
    """One input as read from Kafka or an archive, before any decoding."""

    original: bytes
    key: bytes | None = None
    kafka: tuple | None = None          # (topic, partition, offset)
    location: str | None = None         # archive file:line for replays
    payload: Any = None                 # already-decoded mapping (CSV, Avro archives)
    error: InvalidArticle | None = None  # the archive reader could not decode the row
    read_from: int | None = None        # Kafka: the first offset this input answers for (offsets skipped before it)


class Parsed(NamedTuple):
    raw: RawInput
    article: Article
    event_time: float | None = None  # published_at, else the input's own timestamp (seconds)


class Rejected(NamedTuple):
    """A dead letter travelling with the articles, so that the graph needs no Flatten.

    Beam's FnApiRunner runs a streaming pipeline with real latency only while it is one fused
    stage; a Flatten is materialized and its consumers wait for the end of the stream.
    """

    dead_letter: dict
    event_time: float | None = None


def from_kafka_record(record) -> RawInput:
    """A ``KafkaRecord`` from the source as a ``RawInput``."""
    return RawInput(original=record.value or b"", key=record.key,
                    kafka=(record.topic, record.partition, record.offset), read_from=record.read_from)


def from_archive_row(row) -> RawInput:
    """An ``ArchiveRow`` from the archive readers as a ``RawInput``."""
    return RawInput(original=row.original, location=row.location, payload=row.payload, error=row.error)


def dead_letter(raw: RawInput, stage: str, error_class: str, message: str, now: datetime) -> dict:
    """A ``DeadLetter`` record: the original bytes, where they came from, and why."""
    topic, partition, offset = raw.kafka or (None, None, None)
    record = {"original": raw.original, "key": raw.key, "topic": topic, "partition": partition,
              "offset": offset, "input_path": raw.location, "stage": stage, "error_class": error_class,
              "error_message": message[:2000], "failed_at": to_epoch_ms(now)}
    if raw.read_from is not None:
        record[READ_FROM] = raw.read_from
    return record


def decode_payload(raw: RawInput, max_bytes: int) -> Article:
    """Bytes or a decoded mapping -> a validated Article (raises InvalidArticle)."""
    if raw.error is not None:
        raise raw.error
    if raw.payload is not None:
        return article_from_mapping(raw.payload, max_bytes)
    if avro.is_single_object(raw.original):
        try:
            record = avro.decode(raw.original)
        except avro.UnknownSchemaError as exc:
            raise InvalidArticle("UnknownSchema", str(exc), "decode") from exc
        except (ValueError, EOFError, IndexError, UnicodeDecodeError) as exc:
            raise InvalidArticle("BadAvro", f"Avro body does not decode: {exc}", "decode") from exc
        if record.get("published_at") is not None and hasattr(record["published_at"], "isoformat"):
            record["published_at"] = record["published_at"].isoformat()
        return article_from_mapping(record, max_bytes)
    if not raw.original:
        raise InvalidArticle("EmptyMessage", "the message has no value", "decode")
    return article_from_json_bytes(raw.original, max_bytes)


class ParseArticlesFn(beam.DoFn):
    """Decode and validate; detect the language. Bad input -> a ``Rejected`` dead letter with a reason."""

    def __init__(self, cfg: EnrichConfig):
        self._cfg = cfg
        self._read = Metrics.counter(NAMESPACE, "read")
        self._dead = {}

    def setup(self):
        from langdetect import DetectorFactory

        DetectorFactory.seed = 0  # langdetect is random otherwise: same text, same answer

    def _count_dead(self, stage: str):
        if stage not in self._dead:
            self._dead[stage] = Metrics.counter(NAMESPACE, f"dead_lettered_{stage}")
        self._dead[stage].inc()

    def process(self, raw: RawInput, timestamp=beam.DoFn.TimestampParam) -> Iterable[Parsed | Rejected]:
        self._read.inc()
        input_time = _seconds(timestamp)
        try:
            article = decode_payload(raw, self._cfg.max_article_bytes)
            article = self._check_language(article)
        except InvalidArticle as exc:
            self._count_dead(exc.stage)
            yield Rejected(dead_letter(raw, exc.stage, exc.error_class, str(exc), self._cfg.clock()), input_time)
            return
        # Event time is the publication time; without one the input's timestamp stands.
        event_time = article.published_at.timestamp() if article.published_at else input_time
        yield Parsed(raw, article, event_time)

    def _check_language(self, article: Article) -> Article:
        from dataclasses import replace

        language = article.language
        if language is None:
            language = detect_language(article.title, article.body, self._cfg.min_language_confidence)
            article = replace(article, language=language)
        if language not in (None, "en") and self._cfg.non_english == "dead-letter":
            raise InvalidArticle("NotEnglish", f"the article is in {language!r}; newsflow's models are "
                                               f"English-only (run with --non-english=enrich to keep it)", "language")
        return article


def _seconds(timestamp) -> float | None:
    """A Beam timestamp in seconds, or None for the min/max sentinels (no real time)."""
    from apache_beam.utils.timestamp import MAX_TIMESTAMP, MIN_TIMESTAMP

    if timestamp is None or timestamp <= MIN_TIMESTAMP or timestamp >= MAX_TIMESTAMP:
        return None
    return float(timestamp)


def _stamped(value, event_time: float | None):
    """Batching loses element timestamps: give each output its own event time back."""
    return value if event_time is None else beam.window.TimestampedValue(value, event_time)


def detect_language(title: str | None, body: str, min_confidence: float) -> str | None:
    """ISO 639-1 code when langdetect is confident, else None (too short or mixed)."""
    from langdetect import LangDetectException, detect_langs

    text = ((title or "") + "\n" + body)[:2000]
    if len(text.strip()) < 40:
        return None
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return None
    return best.lang if best.prob >= min_confidence else None


def bound_lemma_cache(nlp, limit: int = LEMMA_CACHE_LIMIT) -> None:
    """Empty the lemmatizer's memo of (word, tag) -> lemma at ``limit`` entries: it has no bound of its own."""
    if "lemmatizer" in nlp.pipe_names:
        cache = getattr(nlp.get_pipe("lemmatizer"), "cache", None)
        if cache is not None and len(cache) >= limit:
            cache.clear()


class AnnotateArticlesFn(beam.DoFn):
    """spaCy over title and body in batches, then entities and events; models loaded once per worker."""

    def __init__(self, cfg: EnrichConfig):
        self._cfg = cfg
        self._nlp = self._resolver = self._coder = None
        self._provenance = None
        self._enriched = Metrics.counter(NAMESPACE, "enriched")
        self._entities = Metrics.counter(NAMESPACE, "entities")
        self._events = Metrics.counter(NAMESPACE, "events")
        self._dead = Metrics.counter(NAMESPACE, "dead_lettered_enrich")
        self._event_types = {}

    def setup(self):
        from pipelines.nlp import events, ner
        from pipelines.nlp.entities import EntityResolver

        self._trimmer = heap.Trimmer()
        self._load_nlp()
        self._resolver = EntityResolver.load()
        self._coder = events.EventCoder.load()
        info = ner.model_info(self._nlp)
        self._provenance = {"pipeline_version": __version__, "spacy_model": info.name,
                            "spacy_model_version": info.version, "event_model_version": events.MODEL_VERSION}

    def process(self, items: list[Parsed | Rejected]) -> Iterable[dict]:
        # spaCy keeps the string and lexeme of every new word it reads for good: a long run would
        # grow with every name in the news. Inside a memory zone (spaCy >= 3.8) those are dropped at
        # its end, so the records are built (plain Python values, no Doc) before it closes.
        with self._nlp.memory_zone():
            outputs = list(self._annotate(items))
        bound_lemma_cache(self._nlp)
        # The zone drops those words, but not the room they took: spaCy's hash tables (preshed
        # 3.0) mark a dropped key deleted, count it as filled and double at every resize, so the
        # vocabulary's and the tokenizer's tables grow with every word read (~40 bytes a new
        # word, in doublings; issue #13). A fresh pipeline after a bounded number of such words
        # keeps that bounded; len(vocab) counts every lexeme ever made, dropped ones included.
        if 0 < self._cfg.spacy_reload_lexemes <= len(self._nlp.vocab) - self._lexemes_at_load:
            self._load_nlp()
        self._trimmer.maybe()
        yield from outputs

    def _load_nlp(self) -> None:
        from pipelines.nlp import ner
        from pipelines.pipeline import memtrace

        memtrace.WATCHED.pop("spaCy strings", None)  # memtrace's hold on the old string store goes too
        if self._nlp is not None:
            # The old pipeline goes before the new one loads: one model in memory at a time. It is
            # held in reference cycles (~400,000 Python objects), which only a full collection
            # frees, and with the millions of long-lived objects of a worker Python runs one
            # rarely: without this, every reload kept another pipeline (+35 MiB RSS each).
            self._nlp = None
            gc.collect()
        self._nlp = ner.load_nlp(self._cfg.spacy_model)
        self._lexemes_at_load = len(self._nlp.vocab)
        self.nlp_loads = getattr(self, "nlp_loads", 0) + 1
        memtrace.watch("spaCy strings", self._nlp.vocab.strings)  # sizes for NEWSFLOW_MEMTRACE reports

    def _annotate(self, items: list[Parsed | Rejected]) -> Iterable:
        batch = []
        for item in items:
            if isinstance(item, Rejected):
                yield beam.pvalue.TaggedOutput(DEAD_LETTER, _stamped(item.dead_letter, item.event_time))
            else:
                batch.append(item)
        if not batch:
            return
        admitted, budgets, titles, bodies = [], [], [], []
        for parsed in batch:
            budget = RecordBudget(self._cfg.record_timeout_seconds, self._cfg.timer)
            try:
                title = self._nlp.make_doc(parsed.article.title or "")
                body = self._nlp.make_doc(parsed.article.body)
                budget.predict(len(title) + len(body))
                budget.check("tokenize")
            except Exception as exc:  # noqa: BLE001 - dead-lettered with its class and counted
                yield self._dead_letter(parsed, exc)
                continue
            admitted.append(parsed)
            budgets.append(budget)
            titles.append(title)
            bodies.append(body)
        if not admitted:
            return
        started = self._cfg.timer()
        try:
            title_docs, body_docs = map(list, zip(*parse(self._nlp, titles, bodies)))
        except Exception as exc:  # noqa: BLE001 - one bad text must not take the batch down
            LOG.warning("batch annotation failed (%s); retrying article by article", exc)
            title_docs = [self._safe_doc(doc.text) for doc in titles]
            body_docs = [self._safe_doc(doc.text) for doc in bodies]
        batch_seconds = self._cfg.timer() - started
        tokens = [len(t) + len(b) for t, b in zip(titles, bodies)]
        for parsed, budget, size, title_doc, body_doc in zip(admitted, budgets, tokens, title_docs, body_docs):
            try:
                if title_doc is None or body_doc is None:
                    raise RuntimeError("spaCy failed on this article")
                budget.charge(batch_seconds * size / max(sum(tokens), 1))
                budget.check("parse")
                yield _stamped(self._record(parsed, title_doc, body_doc, budget), parsed.event_time)
            except Exception as exc:  # noqa: BLE001 - dead-lettered with its class and counted
                yield self._dead_letter(parsed, exc)

    def _dead_letter(self, parsed: Parsed, exc: Exception):
        self._dead.inc()
        error_class = getattr(exc, "error_class", None) or type(exc).__name__
        return beam.pvalue.TaggedOutput(DEAD_LETTER, _stamped(dead_letter(
            parsed.raw, "enrich", error_class, str(exc) or repr(exc), self._cfg.clock()), parsed.event_time))

    def _safe_doc(self, text: str):
        try:
            return self._nlp(text)
        except Exception:  # noqa: BLE001 - reported per article by process()
            return None

    def _record(self, parsed: Parsed, title_doc, body_doc, budget: RecordBudget) -> dict:
        article = parsed.article
        entities, events, primary = annotate(title_doc, body_doc, article.published_at, self._coder,
                                             self._resolver, checkpoint=budget.check)
        record = article.to_record()
        record.update(entities=entities, events=events, primary_event_type=primary,
                      provenance=dict(self._provenance, processed_at=to_epoch_ms(self._cfg.clock())),
                      kafka=None, story_id=None)  # story_id: set after enrichment (pipelines.pipeline.stories)
        if parsed.raw.kafka:
            topic, partition, offset = parsed.raw.kafka
            record["kafka"] = {"topic": topic, "partition": partition, "offset": offset}
            if parsed.raw.read_from is not None:
                record[READ_FROM] = parsed.raw.read_from
        self._enriched.inc()
        self._entities.inc(len(entities))
        self._events.inc(len(events))
        for event in events:
            counter = self._event_types.get(event["event_type"])
            if counter is None:
                counter = self._event_types[event["event_type"]] = Metrics.counter(
                    NAMESPACE, f"events_{event['event_type']}")
            counter.inc()
        return record


class EnrichArticles(beam.PTransform):
    """RawInput -> EnrichedArticle dicts (main) and DeadLetter dicts (``dead_letter``)."""

    def __init__(self, cfg: EnrichConfig = EnrichConfig()):
        super().__init__()
        self._cfg = cfg

    def expand(self, raw_inputs):
        annotated = (raw_inputs
                     | "ParseAndValidate" >> beam.ParDo(ParseArticlesFn(self._cfg))
                     | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._cfg.batch_size)
                     | "Annotate" >> beam.ParDo(AnnotateArticlesFn(self._cfg)).with_outputs(
                         DEAD_LETTER, main="enriched"))
        return {"enriched": annotated.enriched, DEAD_LETTER: annotated[DEAD_LETTER]}
