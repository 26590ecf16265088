"""The counts behind the report, and how the page words them (no browser needed)."""
from __future__ import annotations

import re
from datetime import date

from pipelines.report.render import day_unit, render_page
from pipelines.report.stats import BY_EVENT_DATE, BY_PUBLISHED, UNDATED, StreamStats
from tests.report.stream import ARTICLES, DEAD_LETTERS, actor, article, entity, event


def folded(articles=ARTICLES, dead_letters=DEAD_LETTERS) -> StreamStats:
    stats = StreamStats()
    for record in articles:
        stats.add_enriched(record)
    for record in dead_letters:
        stats.add_dead_letter(record)
    return stats


def test_events_fall_back_to_their_own_date_then_to_no_date():
    stats = folded()
    assert stats.day_sources == {BY_PUBLISHED: 4, BY_EVENT_DATE: 1, UNDATED: 1}
    assert stats.events_by_day[(date(2025, 6, 1), "PROTEST")] == 1
    assert stats.events_by_day[(date(2025, 6, 4), "CONSULT")] == 1
    assert stats.events_by_day[(None, "REQUEST")] == 1


def test_locations_join_the_articles_geocoded_entities():
    stats = folded()
    assert stats.places == {("Pyongyang", 39.03, 125.75, "PRK"): 2, ("Geneva", 46.2, 6.15, "CHE"): 1,
                            ("Nairobi", -1.28, 36.82, "KEN"): 1}
    assert (stats.events_unplaced, stats.events_without_location) == (1, 1)   # Kharkiv; the undated request
    assert stats.place_mentions[("Russia", 60.0, 100.0, "RUS")] == 2 and len(stats.place_mentions) == 4


def test_dyads_entities_dead_letters_and_throughput():
    stats = folded()
    assert sorted(stats.top_dyads(10)) == [("Protesters (KEN)", "Parliament (KEN)", 1),
                                           ("Russia (RUS)", "North Korea (PRK)", 1),
                                           ("Russia (RUS)", "Ukraine (UKR)", 1),
                                           ("Shoigu (RUS)", "Kim Jong Un (PRK)", 1)]
    assert stats.events_without_dyad == 2
    top = stats.top_entities(20)
    assert top[0] == ("Russia", "GPE", 2) and ("Sergei Shoigu", "PERSON", 1) in top
    assert not any(label == "DATE" for _, label, _ in top) and len(top) == 8
    assert stats.dead_reasons == {("parse", "MalformedJSON"): 2, ("language", "NotEnglish"): 1}
    minutes = {}
    for (minute, kind), n in stats.processed_minutes.items():
        minutes[minute % 60, kind] = n
    assert minutes == {(0, "enriched"): 2, (1, "dead-lettered"): 3, (2, "enriched"): 2}


def test_an_archive_without_dates_says_so():
    undated = [article(f"bbc-{i}", None, "2026-12-01T12:00:00", [entity("Blair", "PERSON", "e-blair", "GBR")],
                       [event("ACCUSE", actor("Blair", "GBR"), actor("Howard", "GBR"))]) for i in range(3)]
    page = render_page(folded(undated, []), "bbc")
    assert "No dates: none of the 3 events has a publication date" in page
    assert "no date: ACCUSE 3" in page and "no publication dates" in page


def test_names_are_escaped():
    hostile = article("x", "2025-01-01T00:00:00", "2026-12-01T12:00:00",
                      [entity("<script>alert(1)</script>", "ORG", "e-x")], [])
    page = render_page(folded([hostile], []), "<b>src</b>")
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;src" in page


def test_long_spans_are_binned_coarser():
    assert day_unit(date(2025, 1, 1), date(2025, 3, 1)) == "day"
    assert day_unit(date(2025, 1, 1), date(2026, 1, 1)) == "week"
    assert day_unit(date(2000, 1, 1), date(2005, 1, 1)) == "month"
    assert day_unit(date(1900, 1, 1), date(2005, 1, 1)) == "year"


def test_impossible_coordinates_are_not_placed():
    nowhere = article("n", "2025-01-01T00:00:00", "2026-12-01T12:00:00",
                      [entity("Atlantis", "GPE", "e-a", None, {"name": "Atlantis", "latitude": float("nan"),
                                                                "longitude": 10.0, "country": None,
                                                                "feature_class": None}),
                       entity("Mu", "GPE", "e-mu", None, {"name": "Mu", "latitude": 91.0, "longitude": 0.0,
                                                          "country": None, "feature_class": None})],
                      [event("CONSULT", location="Atlantis"), event("CONSULT", location="Mu")])
    stats = folded([nowhere], [])
    assert stats.places == {} and stats.place_mentions == {} and stats.events_unplaced == 2
    assert not re.search(r'="[^"]*nan', render_page(stats, "x"), re.I)   # no attribute a browser would reject
