"""Offline geocoding with the shipped gazetteer."""
import pytest

from pipelines.nlp.geo import Gazetteer, distance_km


@pytest.fixture(scope="module")
def gazetteer():
    return Gazetteer.load()


def names(places):
    return [(p.name, p.country, p.kind) if p else None for p in places]


def test_distance_km_known_pair():
    # London to Paris is about 344 km.
    assert distance_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(344, abs=3)


def test_pyongyang_is_in_north_korea_within_25_km(gazetteer):
    (place,) = gazetteer.resolve([("Pyongyang", "GPE")])
    assert place.country == "PRK" and place.feature_class == "P"
    assert distance_km(place.latitude, place.longitude, 39.03, 125.75) <= 25


def test_countries_and_aliases(gazetteer):
    places = gazetteer.resolve([("Russia", "GPE"), ("Ukraine", "GPE"), ("South Korea’s", "GPE"),
                                ("U.S.", "GPE")])
    assert [p.country for p in places] == ["RUS", "UKR", "KOR", "USA"]
    assert all(p.feature_class == "A" for p in places)


def test_georgia_follows_the_other_places(gazetteer):
    assert names(gazetteer.resolve([("Georgia", "GPE"), ("Tbilisi", "GPE")]))[0] == ("Georgia", "GEO", "country")
    assert names(gazetteer.resolve([("Atlanta", "GPE"), ("Georgia", "GPE")]))[1] == ("Georgia", "USA", "state")
    # A country merely named is weak evidence: "the U.S." does not make Georgia a US state.
    assert names(gazetteer.resolve([("Georgia", "GPE"), ("U.S.", "GPE"), ("Moscow", "GPE")]))[0][1] == "GEO"


def test_city_name_shared_across_countries(gazetteer):
    assert gazetteer.resolve([("Birmingham", "GPE"), ("London", "GPE")])[0].country == "GBR"
    assert gazetteer.resolve([("Birmingham", "GPE"), ("Alabama", "GPE")])[0].country == "USA"


def test_unknown_place_and_partial_country_words(gazetteer):
    assert gazetteer.resolve([("Nowhereville Xyz", "GPE")]) == [None]
    # "Central America" must not fall back to the United States through "America".
    (place,) = gazetteer.resolve([("Central America", "LOC")])
    assert place.country is None and place.name == "Central America"


def test_geo_record_matches_the_schema(gazetteer):
    geo = gazetteer.resolve([("Moscow", "GPE")])[0].as_geo()
    assert set(geo) == {"name", "latitude", "longitude", "country", "feature_class"}
    assert isinstance(geo["latitude"], float) and geo["country"] == "RUS"
