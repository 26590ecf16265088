"""Country codes for entity text."""
import pytest

from pipelines.nlp.countries import country_for, normalize_name


@pytest.mark.parametrize("text, label, expected", [
    ("Russia", "GPE", "RUS"),
    ("Ukraine", "GPE", "UKR"),
    ("South Korea", "GPE", "KOR"),
    ("South Korea’s", "GPE", "KOR"),
    ("North Korean", "NORP", "PRK"),
    ("Pyongyang", "GPE", "PRK"),
    ("the Kremlin", "ORG", "RUS"),
    ("Kremlin", None, "RUS"),
    ("U.S.", "GPE", "USA"),
    ("Britain", "GPE", "GBR"),
    ("Georgia", "GPE", "GEO"),
    ("Kiev", "GPE", "UKR"),
    ("Americans", "NORP", "USA"),
    ("Russian Security Council", "ORG", "RUS"),
])
def test_country_names_nationalities_capitals_and_metonyms(text, label, expected):
    assert country_for(text, label) == expected


@pytest.mark.parametrize("text, label", [
    ("Sergei Shoigu", "PERSON"), ("Jordan", "PERSON"), ("us", None), ("Korean Peninsula", "LOC"),
    ("June 4", "DATE"), ("Europe", "LOC"), ("Chelsea", "ORG"),
])
def test_no_country(text, label):
    assert country_for(text, label) is None


def test_normalize_name_folds_variants():
    assert normalize_name("The U.S.") == normalize_name("US") == "us"
    assert normalize_name("Kim Jong-Un’s") == "kim jong un"
    assert normalize_name("Côte d’Ivoire") == "cote d'ivoire"


def test_regions_named_after_a_continent_are_not_its_country():
    assert country_for("Central America", "LOC") is None
    assert country_for("Latin America", "LOC") is None


def test_capital_of_a_dissolved_state_maps_to_its_successor():
    assert country_for("Belgrade") == "SRB"
