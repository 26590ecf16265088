"""Entity records: canonical names, stable ids, countries, coordinates, dates."""
from datetime import datetime, timezone

import pytest

from pipelines.nlp.entities import EntityResolver, entity_id, person_key
from pipelines.nlp.geo import distance_km
from tests.fixtures import seed_article

PUBLISHED = datetime(2025, 6, 4, 9, 21, tzinfo=timezone.utc)
FIELDS = ("text", "label", "field", "start_char", "end_char", "canonical", "entity_id", "country", "geo")


@pytest.fixture(scope="module")
def resolver():
    return EntityResolver.load()


def resolve(nlp, resolver, title, body, published_at=PUBLISHED):
    title_doc, body_doc = nlp.pipe([title, body])
    return resolver.resolve(title_doc, body_doc, published_at)


@pytest.fixture(scope="module")
def seed_entities(nlp, resolver):
    title, body = seed_article()
    return title, body, resolve(nlp, resolver, title, body)


def test_records_match_the_schema_and_offsets(seed_entities):
    title, body, entities = seed_entities
    assert entities
    for e in entities:
        assert tuple(e) == FIELDS
        text = title if e["field"] == "title" else body
        assert text[e["start_char"]:e["end_char"]] == e["text"]


def test_seed_people_have_one_canonical_entity_each(seed_entities):
    _, _, entities = seed_entities
    people = [e for e in entities if e["label"] == "PERSON"]
    for name in ("Sergei Shoigu", "Kim Jong Un", "Vladimir Putin", "Lee Jae-myung"):
        mentions = [e for e in people if e["canonical"] == name]
        assert len(mentions) >= 2, name
        assert len({e["entity_id"] for e in mentions}) == 1, name
    # Every Shoigu/Kim/Putin/Lee mention, whatever spaCy labelled it, is that one person.
    full = {"Shoigu": "Sergei Shoigu", "Kim": "Kim Jong Un", "Kim Jong-Un": "Kim Jong Un",
            "Putin": "Vladimir Putin", "Lee": "Lee Jae-myung"}
    ids = {e["canonical"]: e["entity_id"] for e in people}
    for e in entities:
        if e["text"] in full:
            assert e["label"] == "PERSON" and e["canonical"] == full[e["text"]], e
            assert e["entity_id"] == ids[full[e["text"]]]
    assert not any("Meets" in e["text"] for e in entities)


def test_seed_places_and_countries(seed_entities):
    _, _, entities = seed_entities
    pyongyang = [e for e in entities if e["text"] == "Pyongyang"]
    assert pyongyang
    for e in pyongyang:
        assert e["country"] == "PRK" and e["geo"]["country"] == "PRK"
        assert distance_km(e["geo"]["latitude"], e["geo"]["longitude"], 39.03, 125.75) <= 25
    by_text = {e["text"]: e["country"] for e in entities if e["label"] == "GPE"}
    assert by_text["Russia"] == "RUS" and by_text["Ukraine"] == "UKR" and by_text["South Korea"] == "KOR"
    assert {e["country"] for e in entities if e["text"] == "North Korean"} == {"PRK"}


def test_seed_dates_resolved_against_publication(seed_entities):
    _, _, entities = seed_entities
    dates = {e["text"]: e["canonical"] for e in entities if e["label"] == "DATE"}
    assert dates["Wednesday"] == "2025-06-04"
    assert dates["March 21"] == "2025-03-21"
    assert [e["entity_id"] for e in entities if e["text"] == "Wednesday"] == ["DATE:2025-06-04"]


def test_ids_are_stable_across_articles(nlp, resolver):
    a = resolve(nlp, resolver, "", "Vladimir Putin met officials in Moscow. Putin said little.")
    b = resolve(nlp, resolver, "", "Russian President Vladimir Putin’s spokesman spoke in Moscow.")
    ids_a = {e["entity_id"] for e in a if e["canonical"] == "Vladimir Putin"}
    ids_b = {e["entity_id"] for e in b if e["canonical"] == "Vladimir Putin"}
    assert len(ids_a) == 1 and ids_a == ids_b
    assert {e["entity_id"] for e in a if e["text"] == "Moscow"} == {e["entity_id"] for e in b if e["text"] == "Moscow"}


def test_possessive_and_hyphen_variants(nlp, resolver):
    entities = resolve(nlp, resolver, "Kim Jong-Un Warns Seoul",
                       "North Korean leader Kim Jong Un spoke on Monday. Kim’s sister was there.")
    kims = [e for e in entities if e["text"].startswith("Kim")]
    assert {e["text"] for e in kims} >= {"Kim Jong Un", "Kim"}
    assert {e["canonical"] for e in kims} == {"Kim Jong Un"}
    assert len({e["entity_id"] for e in kims}) == 1


def test_person_key_and_entity_id():
    assert person_key("President Vladimir Putin’s") == "vladimir putin"
    assert person_key("Kim Jong-Un") == person_key("Kim Jong Un")
    assert entity_id("Kim Jong Un", "PERSON") == entity_id("Kim Jong-Un", "PERSON")
    assert entity_id("Georgia", "GPE") == entity_id("Georgia", "LOC") != entity_id("Georgia", "PERSON")
    assert entity_id("12", "CARDINAL") is None


def test_empty_title_and_no_publication_time(nlp, resolver):
    entities = resolve(nlp, resolver, "", "Officials met in Paris on Wednesday.", published_at=None)
    paris = next(e for e in entities if e["text"] == "Paris")
    assert paris["geo"]["country"] == "FRA" and paris["country"] == "FRA"
    wednesday = next(e for e in entities if e["label"] == "DATE")
    assert wednesday["canonical"] == "Wednesday" and wednesday["entity_id"] is None


def test_acronym_takes_the_spelled_out_name(nlp, resolver):
    entities = resolve(nlp, resolver, "", "The International Atomic Energy Agency (IAEA) sent inspectors "
                       "to Iran on Monday. The IAEA said access was denied.")
    agency = [e for e in entities if e["label"] == "ORG"]
    assert {e["canonical"] for e in agency} == {"International Atomic Energy Agency"}
    assert len({e["entity_id"] for e in agency}) == 1


def test_short_org_name_and_nationality_groups(nlp, resolver):
    entities = resolve(nlp, resolver, "", "The Russian Security Council met in Moscow. Russian officials "
                       "said the Security Council would meet again. The Russians declined to comment.")
    councils = [e for e in entities if e["label"] == "ORG" and "Security Council" in e["text"]]
    assert len(councils) == 2 and {e["canonical"] for e in councils} == {"Russian Security Council"}
    assert len({e["entity_id"] for e in councils}) == 1
    russians = [e for e in entities if e["label"] == "NORP"]
    assert {e["country"] for e in russians} == {"RUS"}
    assert len({e["entity_id"] for e in russians}) == 1
