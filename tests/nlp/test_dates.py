"""Resolving date expressions against the publication time."""
from datetime import date, datetime, timezone

import pytest

from pipelines.nlp.dates import resolve_date

# The seed article's publication day, a Wednesday.
PUBLISHED = datetime(2025, 6, 4, 9, 21, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("Wednesday", "2025-06-04"),
    ("On Wednesday", "2025-06-04"),
    ("Sunday", "2025-06-01"),
    ("Tuesday night", "2025-06-03"),
    ("yesterday", "2025-06-03"),
    ("today", "2025-06-04"),
    ("last Tuesday", "2025-06-03"),
    ("last Wednesday", "2025-05-28"),
    ("next Monday", "2025-06-09"),
    ("March 21", "2025-03-21"),
    ("Dec. 25", "2024-12-25"),
    ("21 March", "2025-03-21"),
    ("June 4, 2025", "2025-06-04"),
    ("June 18, 2024,", "2024-06-18"),
    ("a year ago", "2024-06-04"),
    ("two months ago", "2025-04-04"),
    ("3 days ago", "2025-06-01"),
])
def test_resolves_against_publication_day(text, expected):
    assert resolve_date(text, PUBLISHED) == expected


@pytest.mark.parametrize("text", ["2024", "the 1990s", "just over two months", "last year",
                                  "recent years", "Hello", ""])
def test_periods_and_non_dates_give_none(text):
    assert resolve_date(text, PUBLISHED) is None


def test_relative_dates_need_a_publication_time():
    assert resolve_date("Wednesday", None) is None
    assert resolve_date("June 4, 2025", None) == "2025-06-04"


def test_accepts_a_plain_date_as_base():
    assert resolve_date("yesterday", date(2024, 3, 1)) == "2024-02-29"


def test_clear_cache_forgets_the_memoised_dateparser_results():
    from pipelines.nlp import dates

    published = datetime(2025, 6, 4, tzinfo=timezone.utc)
    dates.clear_cache()
    first = dates.resolve_date("on the 3rd of June last", published)
    assert dates._parse_with_dateparser.cache_info().currsize >= 1
    dates.clear_cache()
    assert dates._parse_with_dateparser.cache_info().currsize == 0
    assert dates.resolve_date("on the 3rd of June last", published) == first
