"""EnrichArticles as a composite: TestPipeline in, assert_that out, no I/O."""
import gc
import json
import pickle
import weakref
from datetime import datetime, timezone
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.pipeline.enrich import DEAD_LETTER, EnrichArticles, EnrichConfig, RawInput
from tests.pipeline.bad_inputs import BAD_INPUTS, MAX_BYTES_FOR_TESTS, avro_article

REPO = Path(__file__).resolve().parents[2]
FIXED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def fixed_clock():
    return FIXED


def seeds():
    return [json.loads(line) for line in (REPO / "seeds" / "articles.jsonl").read_text().splitlines()]


def _collect(path: Path):
    """A matcher that saves the elements to a file: the runner pickles it, so no shared memory."""
    def keep(elements):
        path.write_bytes(pickle.dumps(list(elements)))
    return keep


def run_enrich(raw_inputs, tmp: Path):
    cfg = EnrichConfig(max_article_bytes=MAX_BYTES_FOR_TESTS, clock=fixed_clock)
    with TestPipeline() as p:
        outputs = p | beam.Create(raw_inputs) | EnrichArticles(cfg)
        assert_that(outputs["enriched"], _collect(tmp / "enriched.pkl"), label="KeepEnriched")
        assert_that(outputs[DEAD_LETTER], _collect(tmp / "dead.pkl"), label="KeepDead")
    return pickle.loads((tmp / "enriched.pkl").read_bytes()), pickle.loads((tmp / "dead.pkl").read_bytes())


@pytest.fixture(scope="module")
def enriched_and_dead(tmp_path_factory):
    inputs = [RawInput(original=json.dumps(s).encode(), kafka=("raw", 0, i)) for i, s in enumerate(seeds())]
    inputs += [RawInput(original=data, key=b"k", kafka=("raw", 1, i)) for i, (data, _) in enumerate(BAD_INPUTS)]
    inputs.append(RawInput(original=avro_article("avro-1", "The minister met the ambassador in Paris on Monday."),
                           kafka=("raw", 2, 0)))
    return run_enrich(inputs, tmp_path_factory.mktemp("enrich"))


def test_every_input_is_accounted_for(enriched_and_dead):
    enriched, dead = enriched_and_dead
    assert len(enriched) + len(dead) == len(seeds()) + len(BAD_INPUTS) + 1
    assert sorted(d["error_class"] for d in dead) == sorted(e for _, e in BAD_INPUTS)
    assert {r["id"] for r in enriched} == {s["id"] for s in seeds()} | {"avro-1"}


def test_dead_letters_keep_the_original_bytes_and_position(enriched_and_dead):
    _, dead = enriched_and_dead
    by_class = {d["error_class"]: d for d in dead}
    assert by_class["MalformedJSON"]["original"] == b"{this is not json"
    assert by_class["MalformedJSON"]["stage"] == "parse"
    assert by_class["NotEnglish"]["stage"] == "language"
    assert by_class["UnknownSchema"]["stage"] == "decode" and "0011223344556677" in by_class["UnknownSchema"]["error_message"]
    assert all(d["topic"] == "raw" and d["partition"] == 1 and d["key"] == b"k" for d in dead)
    assert all(d["failed_at"] == int(FIXED.timestamp() * 1000) for d in dead)


def test_seed_article_entities_offsets_and_provenance(enriched_and_dead):
    enriched, _ = enriched_and_dead
    seed = next(r for r in enriched if r["id"].startswith("seed-"))
    people = {e["canonical"] or e["text"] for e in seed["entities"] if e["label"] == "PERSON"}
    places = {e["text"] for e in seed["entities"] if e["label"] == "GPE"}
    assert {"Sergei Shoigu", "Kim Jong Un"} <= people
    assert {"Pyongyang", "Russia"} <= places
    for e in seed["entities"]:
        text = seed["title"] if e["field"] == "title" else seed["body"]
        assert text[e["start_char"]:e["end_char"]] == e["text"]
    assert seed["kafka"] == {"topic": "raw", "partition": 0, "offset": 0}
    assert seed["language"] == "en"
    assert seed["published_at"] == int(datetime(2025, 6, 4, 13, 21, tzinfo=timezone.utc).timestamp() * 1000)
    prov = seed["provenance"]
    assert prov["spacy_model"].startswith("en_core_web_sm") and prov["spacy_model_version"] == "3.8.0+newsflow.ner"
    assert prov["processed_at"] == int(FIXED.timestamp() * 1000) and prov["event_model_version"]


def test_enriched_records_are_valid_avro(enriched_and_dead):
    from pipelines import avro

    enriched, _ = enriched_and_dead
    schema = avro.load_schema("enriched")
    for record in enriched:
        assert avro.decode(avro.encode(record, schema))["id"] == record["id"]


def test_non_english_can_be_kept_when_asked():
    from tests.pipeline.bad_inputs import GERMAN

    cfg = EnrichConfig(non_english="enrich", clock=fixed_clock)
    with TestPipeline() as p:
        outputs = p | beam.Create([RawInput(original=json.dumps({"id": "de", "body": GERMAN}).encode())]) \
            | EnrichArticles(cfg)
        assert_that(outputs["enriched"] | beam.Map(lambda r: (r["id"], r["language"])), equal_to([("de", "de")]))


def test_metrics_count_read_enriched_dead_lettered_entities_and_events():
    from apache_beam.metrics.metric import MetricsFilter

    inputs = [RawInput(original=json.dumps(s).encode()) for s in seeds()[:3]]
    inputs += [RawInput(original=b"{broken"), RawInput(original=json.dumps({"title": "x"}).encode())]
    p = TestPipeline()
    _ = p | beam.Create(inputs) | EnrichArticles(EnrichConfig(clock=fixed_clock))
    result = p.run()
    result.wait_until_finish()

    def counter(name):
        found = result.metrics().query(MetricsFilter().with_namespace("newsflow").with_name(name))["counters"]
        return sum(c.committed for c in found)

    assert counter("read") == 5
    assert counter("enriched") == 3
    assert counter("dead_lettered_parse") == 1 and counter("dead_lettered_validate") == 1
    assert counter("entities") > 10
    assert counter("events") >= 1 and counter("events_CONSULT") >= 1  # the seed article is a CONSULT


def with_timestamp(record, timestamp=beam.DoFn.TimestampParam):
    return record["id"], float(timestamp)


def test_event_time_is_the_publication_time():
    from apache_beam.transforms.window import TimestampedValue

    seed = seeds()[0]
    undated = {"id": "undated", "body": "The minister spoke in parliament on Monday about the budget."}
    with TestPipeline() as p:
        raw = (p | beam.Create([(json.dumps(seed), 1000.0), (json.dumps(undated), 1234.0)])
               | beam.MapTuple(lambda value, ts: TimestampedValue(RawInput(original=value.encode()), ts)))
        outputs = raw | EnrichArticles(EnrichConfig(clock=fixed_clock))
        published = datetime(2025, 6, 4, 13, 21, tzinfo=timezone.utc).timestamp()
        assert_that(outputs["enriched"] | beam.Map(with_timestamp),
                    equal_to([(seed["id"], published), ("undated", 1234.0)]))


def test_annotation_leaves_spacy_vocab_bounded_and_records_unchanged():
    """Each bundle is annotated in a spaCy memory zone: new words do not stay, records are the same."""
    from pipelines.pipeline.enrich import AnnotateArticlesFn, ParseArticlesFn, bound_lemma_cache

    cfg = EnrichConfig(clock=fixed_clock)
    parse, annotate = ParseArticlesFn(cfg), AnnotateArticlesFn(cfg)
    parse.setup()
    annotate.setup()
    nlp = annotate._nlp

    def items(articles):
        return [x for a in articles for x in parse.process(RawInput(original=json.dumps(a).encode()), timestamp=None)]

    def records(outputs):
        return [getattr(o, "value", o) for o in outputs]

    articles = seeds()
    # Names no model has seen, different in every bundle, as a long run meets them.
    invented = [dict(a, id=f"{a['id']}-{n}", body=a["body"] + f" Zorvald Quintrex{n} met Ulbrecht Vantaz{n} "
                     f"of Kelmoria{n} Holdings in Dravosk{n}.") for n, a in enumerate(articles * 3)]
    first = records(annotate.process(items(articles)))
    # len(nlp.vocab) only counts up; the lexemes held are those the vocab iterates over.
    strings, lexemes = len(nlp.vocab.strings), sum(1 for _ in nlp.vocab)
    for start in range(0, len(invented), 8):
        list(annotate.process(items(invented[start:start + 8])))
    assert (len(nlp.vocab.strings), sum(1 for _ in nlp.vocab)) == (strings, lexemes)
    assert "Quintrex0" not in nlp.vocab.strings and "Quintrex0" not in nlp.vocab
    again = records(annotate.process(items(articles)))
    assert again == first and len(first) == len(articles)
    # Annotated outside a zone (as before), known and new words alike give the same records.
    zoned = records(annotate.process(items(invented[:4])))
    assert records(annotate._annotate(items(articles))) == first
    assert records(annotate._annotate(items(invented[:4]))) == zoned
    # The lemmatizer's memo is emptied at its bound, not kept for every word of the run.
    lemmatizer = nlp.get_pipe("lemmatizer")
    assert len(lemmatizer.cache) > 10
    bound_lemma_cache(nlp, limit=10)
    assert len(lemmatizer.cache) == 0


def test_spacy_pipeline_is_reloaded_at_its_lexeme_bound_and_records_unchanged():
    """Words dropped by memory zones still grow spaCy's hash tables: a fresh pipeline after a bound."""
    from pipelines.pipeline.enrich import AnnotateArticlesFn, ParseArticlesFn

    limit = 300
    parse = ParseArticlesFn(EnrichConfig(clock=fixed_clock))
    bounded = AnnotateArticlesFn(EnrichConfig(clock=fixed_clock, spacy_reload_lexemes=limit))
    never = AnnotateArticlesFn(EnrichConfig(clock=fixed_clock, spacy_reload_lexemes=0))
    parse.setup()
    bounded.setup()
    never.setup()

    def items(articles):
        return [x for a in articles for x in parse.process(RawInput(original=json.dumps(a).encode()), timestamp=None)]

    def records(outputs):
        return [getattr(o, "value", o) for o in outputs]

    articles = [dict(a, id=f"{a['id']}-{n}", body=a["body"] + f" Zorvald Quintrex{n} met Ulbrecht Vantaz{n}.")
                for n, a in enumerate(seeds() * 2)]
    first_nlp = weakref.ref(bounded._nlp)
    # A worker holds millions of long-lived objects, so Python's automatic full collections come
    # rarely there: with them off, the old pipeline must go by reference counts or by the reload's
    # own collection, not by one a worker may not run for many minutes.
    gc.disable()
    try:
        for start in range(0, len(articles), 2):
            bundle = articles[start:start + 2]
            assert records(bounded.process(items(bundle))) == records(never.process(items(bundle)))
            # The bound holds after every bundle: lexemes made since the last load stay under it.
            assert len(bounded._nlp.vocab) - bounded._lexemes_at_load < limit
    finally:
        gc.enable()
    # The pipeline it replaced is gone at once (in a long run it sat in reference cycles: without
    # the reload's full collection, scripts/nlp_memory_growth.py showed +35 MiB RSS at a reload).
    assert bounded.nlp_loads >= 2 and first_nlp() is None
    assert never.nlp_loads == 1 and len(never._nlp.vocab) - never._lexemes_at_load >= limit


def test_nlp_memory_growth_runs_one_part_alone():
    # scripts/nlp_memory_growth.py --part: the spaCy pipeline or the encoder alone reads an article
    # (issue #13: which part the step's memory growth belongs to).
    import nlp_memory_growth

    article = {"title": "Ministers meet in Brussels", "body": "Foreign ministers met in Brussels on Monday. " * 3}
    nlp_memory_growth.part_runner("spacy")(article)
    assert nlp_memory_growth.part_runner("encoder")(article).shape == (2, 256)
    assert nlp_memory_growth.part_runner("parse")(article) > 20
    assert any(e["text"] == "Brussels" for e in nlp_memory_growth.part_runner("entities")(article))
    arrest = {"title": "Police arrest protest leaders in Nairobi",
              "body": "Kenyan police arrested five opposition leaders in Nairobi on Monday after a rally "
                      "against tax rises, the interior ministry said."}
    events, primary = nlp_memory_growth.part_runner("events")(arrest)
    assert primary == "COERCE" and "COERCE" in {e["event_type"] for e in events}
    with pytest.raises(ValueError):
        nlp_memory_growth.part_runner("parser")
