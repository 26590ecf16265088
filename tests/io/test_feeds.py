"""The feed poller against a real HTTP server on 127.0.0.1 serving feeds and pages built from the BBC archive."""
from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.io.feed_fixtures import FixtureServer, article_html, atom_feed, load_records, rdf_feed, rss_feed, summary_of
from pipelines import __version__
from pipelines.article import article_from_json_bytes, article_id, encode_raw
from pipelines.io.feeds import main
from pipelines.io.feeds.cli import build_parser, read_opml
from pipelines.io.feeds.extract import drop_repeated_title, html_to_text
from pipelines.io.feeds.http import FetchError, HttpClient, HttpConfig, address_allowed
from pipelines.io.feeds.poller import FeedPoller, FeedsConfig, clean_url
from pipelines.io.feeds.robots import RobotsPolicy
from pipelines.io.feeds.sinks import JsonLinesSink
from pipelines.io.feeds.state import FeedHttpState, FeedState, StateLocked, seen_key

INTERVAL = 60.0
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def records():
    return load_records(8)


@pytest.fixture
def server():
    with FixtureServer() as srv:
        yield srv


class Clock:
    """A settable clock, so backoff is tested without sleeping."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def poller_for(state_dir, urls, clock=None, allow_private=True, **http):
    http.setdefault("timeout", 5.0)
    state = FeedState(state_dir).open()
    sink = JsonLinesSink()
    poller = FeedPoller(FeedsConfig(tuple(urls), interval=INTERVAL),
                        state, HttpClient(HttpConfig(allow_private_addresses=allow_private, **http)),
                        sink, clock=clock or Clock())
    try:
        yield poller, sink
    finally:
        state.close()


def serve_pages(server, records, prefix="/news/"):
    links = []
    for record in records:
        path = f"{prefix}{record['id']}.html"
        server.set(path, article_html(record))
        links.append((record, server.url(path)))
    return links


def by_url(sink):
    return {a.url: a for a in sink.articles}


# --- parsing the three formats --------------------------------------------------------------------

def test_rss_atom_and_rdf_entries_are_published_with_page_text(server, records, tmp_path):
    links = serve_pages(server, records[:6])
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links[0:2]))
    server.set_feed("/atom.xml", atom_feed("Fixture Atom", links[2:4]), content_type="application/atom+xml")
    server.set_feed("/rdf.xml", rdf_feed("Fixture RDF", links[4:6]), content_type="application/rdf+xml")
    feeds = [server.url(p) for p in ("/rss.xml", "/atom.xml", "/rdf.xml")]
    with poller_for(tmp_path, feeds) as (poller, sink):
        poller.poll_pass()
    assert poller.counts.published == 6 and poller.counts.errors == {}
    published = by_url(sink)
    for index, (record, link) in enumerate(links):
        article = published[link]
        assert article.id == article_id(url=link)
        assert article.title == record["title"]
        assert article.extra["text_source"] == "page"
        assert article.extra["feed_url"] == feeds[index // 2]
        # Main text, not boilerplate: the last paragraph is there, the navigation is not.
        assert record["body"].split("\n\n")[-1].strip()[:60] in article.body
        assert "navigation menu" not in article.body and "Privacy policy" not in article.body
        assert article.published_at == record["published"]
        assert article.language == "en"
    assert {published[link].source for _, link in links} == {"Fixture RSS", "Fixture Atom", "Fixture RDF"}
    # Feeds list newest first; entries are published in the feed's reverse order.
    rss_ids = [a.id for a in sink.articles if a.extra["feed_url"] == feeds[0]]
    assert rss_ids == [article_id(url=links[1][1]), article_id(url=links[0][1])]
    assert all(ua.startswith(f"newsflow/{__version__}") for ua in server.user_agents)


def test_publish_time_comes_from_the_page_when_the_entry_has_none(server, records, tmp_path):
    links = serve_pages(server, records[:1])
    server.set_feed("/rdf.xml", rdf_feed("No dates", links, with_dates=False), content_type="application/rdf+xml")
    with poller_for(tmp_path, [server.url("/rdf.xml")]) as (poller, sink):
        poller.poll_pass()
    (article,) = sink.articles
    assert article.published_at == records[0]["published"]
    assert article.extra["published_at_source"] == "page"



def test_page_body_does_not_repeat_the_headline(server, records, tmp_path):
    links = serve_pages(server, records[:2])  # each page has the headline as <h1> above the text
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links))
    with poller_for(tmp_path, [server.url("/rss.xml")]) as (poller, sink):
        poller.poll_pass()
    for record, link in links:
        article = by_url(sink)[link]
        assert article.extra["text_source"] == "page" and article.title == record["title"]
        assert article.body.splitlines()[0] == record["body"].split("\n\n")[0]
        assert record["title"] not in article.body


def test_drop_repeated_title_compares_without_case_or_spacing():
    assert drop_repeated_title("  EU adopts  new sanctions\nThe EU adopted ...", "EU adopts new Sanctions") == \
        "The EU adopted ..."
    assert drop_repeated_title("Headline\nText", None, "headline") == "Text"  # the page's own title counts too
    assert drop_repeated_title("Headline is longer\nText", "Headline") == "Headline is longer\nText"
    assert drop_repeated_title("Headline", "Headline") == "Headline"  # never an empty body

def test_published_json_matches_the_raw_article_contract(server, records, tmp_path):
    links = serve_pages(server, records[:1])
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links))
    with poller_for(tmp_path, [server.url("/rss.xml")]) as (poller, sink):
        poller.poll_pass()
    (article,) = sink.articles
    obj = json.loads(encode_raw(article))
    assert {"id", "url", "source", "title", "body", "published_at", "language", "extra"} <= set(obj)
    assert obj["published_at"] == "2005-01-10T09:30:00+00:00"
    assert article_from_json_bytes(encode_raw(article)) == article


# --- conditional GET --------------------------------------------------------------------------------

def test_conditional_get_gets_304_and_publishes_nothing_again(server, records, tmp_path):
    links = serve_pages(server, records[:2])
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links))
    clock = Clock()
    with poller_for(tmp_path, [server.url("/rss.xml")], clock) as (poller, sink):
        poller.poll_pass()
        page_hits = sum(server.hits[urlpath] for urlpath in server.hits if urlpath.startswith("/news/"))
        clock.advance(INTERVAL)
        poller.poll_pass()
        assert server.conditional["/rss.xml"] == 1 and server.not_modified["/rss.xml"] == 1
        route = server.routes["/rss.xml"]
        assert server.validators == [("/rss.xml", route.etag, route.last_modified)]
        assert poller.counts.not_modified == 1 and poller.counts.published == 2
        # A changed feed (new ETag) with one new item: only that one is fetched and published.
        links += serve_pages(server, records[2:3])
        server.set_feed("/rss.xml", rss_feed("Fixture RSS", links), version="2")
        clock.advance(INTERVAL)
        poller.poll_pass()
    assert poller.counts.published == 3 and poller.counts.duplicates == 2
    assert sum(server.hits[p] for p in server.hits if p.startswith("/news/")) == page_hits + 1
    assert [a.url for a in sink.articles][-1] == links[2][1]


def test_last_modified_alone_is_used_for_a_conditional_get(server, records, tmp_path):
    links = serve_pages(server, records[:1])
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links), etag=None)
    clock = Clock()
    with poller_for(tmp_path, [server.url("/rss.xml")], clock) as (poller, _):
        poller.poll_pass()
        clock.advance(INTERVAL)
        poller.poll_pass()
    assert server.not_modified["/rss.xml"] == 1 and poller.counts.not_modified == 1


def test_etag_alone_is_used_for_a_conditional_get(server, records, tmp_path):
    links = serve_pages(server, records[:1])
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links), last_modified=None)
    clock = Clock()
    with poller_for(tmp_path, [server.url("/rss.xml")], clock) as (poller, _):
        poller.poll_pass()
        clock.advance(INTERVAL)
        poller.poll_pass()
    assert server.validators == [("/rss.xml", '"/rss.xml-v1"', None)]
    assert server.not_modified["/rss.xml"] == 1 and poller.counts.not_modified == 1


def test_feed_not_due_before_the_interval(server, records, tmp_path):
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))
    clock = Clock()
    with poller_for(tmp_path, [server.url("/rss.xml")], clock) as (poller, _):
        poller.poll_pass()
        clock.advance(INTERVAL / 2)
        poller.poll_pass()
    assert server.hits["/rss.xml"] == 1 and poller.counts.backed_off == 1


# --- errors and backoff -----------------------------------------------------------------------------

def test_http_errors_are_counted_and_backed_off_exponentially(server, records, tmp_path):
    server.set("/down.xml", "oops", status=500, content_type="text/plain")
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))
    feeds = [server.url("/down.xml"), server.url("/gone.xml"), server.url("/rss.xml")]
    clock = Clock()
    with poller_for(tmp_path, feeds, clock) as (poller, sink):
        hits = []
        for _ in range(7):  # passes at t0, t0+1i, ..., t0+6i
            poller.poll_pass()
            hits.append((server.hits["/down.xml"], server.hits["/gone.xml"]))
            clock.advance(INTERVAL)
        # 1st failure waits 2 intervals, 2nd waits 4: polled at passes 0, 2 and 6.
        assert [h[0] for h in hits] == [1, 1, 2, 2, 2, 2, 3]
        assert [h[1] for h in hits] == [1, 1, 2, 2, 2, 2, 3]
        assert poller.counts.errors["feed:http_500"] == 3 and poller.counts.errors["feed:http_404"] == 3
        # The good feed kept being polled every pass and published its entry once.
        assert server.hits["/rss.xml"] == 7 and poller.counts.published == 1
        # A recovered feed is polled at the normal interval again.
        server.set_feed("/down.xml", rss_feed("Back", []))
        clock.advance(INTERVAL * 16)
        poller.poll_pass()
        clock.advance(INTERVAL)
        poller.poll_pass()
        assert server.hits["/down.xml"] == 5
        assert poller.state.feed(server.url("/down.xml")).failures == 0


def test_backoff_survives_a_restart(server, tmp_path):
    server.set("/down.xml", "oops", status=503, content_type="text/plain", headers={"Retry-After": "600"})
    clock = Clock()
    with poller_for(tmp_path, [server.url("/down.xml")], clock) as (poller, _):
        poller.poll_pass()
    assert poller.counts.errors["feed:http_503"] == 1
    clock.advance(INTERVAL * 4)  # past 2 intervals, within Retry-After's 600 s
    with poller_for(tmp_path, [server.url("/down.xml")], clock) as (poller, _):
        poller.poll_pass()
        assert server.hits["/down.xml"] == 1 and poller.counts.backed_off == 1
        clock.advance(600)
        poller.poll_pass()
    assert server.hits["/down.xml"] == 2



def test_a_skipped_backed_off_feed_is_announced_once_with_its_due_time(server, tmp_path, caplog):
    server.set("/down.xml", "oops", status=500, content_type="text/plain")
    clock = Clock()
    caplog.set_level(logging.INFO, logger="newsflow.feeds")
    with poller_for(tmp_path, [server.url("/down.xml")], clock) as (poller, _):
        poller.poll_pass()
        poller.poll_pass()  # the failure line already said when the next try is
    assert [r.message for r in caplog.records if "skipped" in r.message] == []
    with poller_for(tmp_path, [server.url("/down.xml")], clock) as (poller, _):  # a restart
        poller.poll_pass()
        clock.advance(1)
        poller.poll_pass()
    skipped = [r.message for r in caplog.records if "skipped" in r.message]
    until = datetime.fromtimestamp(clock.now - 1 + 2 * INTERVAL, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert skipped == [f"feed {server.url('/down.xml')} skipped: backing off until {until} after 1 failure(s) "
                       "in a row (last: http_500); --reset-backoff polls it now"]
    assert server.hits["/down.xml"] == 1


def test_a_backoff_stored_for_an_address_refusal_is_ignored(server, records, tmp_path):
    # Earlier versions stored one; it would hold the feed back after --allow-private-addresses.
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))
    clock = Clock()
    with FeedState(tmp_path) as state:
        state.save_feed(FeedHttpState(server.url("/rss.xml"), failures=1, next_due=clock.now + 600,
                                      last_status="private_address"))
    with poller_for(tmp_path, [server.url("/rss.xml")], clock) as (poller, sink):
        poller.poll_pass()
    assert poller.counts.published == 1 and poller.counts.backed_off == 0

def test_invalid_xml_is_an_error_and_the_poller_keeps_going(server, records, tmp_path):
    server.set_feed("/broken.xml", "<<< this is not a feed & never was >>>", content_type="application/xml")
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))
    with poller_for(tmp_path, [server.url("/broken.xml"), server.url("/rss.xml")]) as (poller, _):
        poller.poll_pass()
    assert poller.counts.errors == {"feed:invalid_xml": 1}
    assert poller.counts.published == 1


def test_recoverable_xml_is_used_and_counted(server, records, tmp_path):
    (record, link), = serve_pages(server, records[:1])
    # A bare "&" makes the document not well-formed; feedparser's loose parser still reads the item.
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", [(record, link)]).replace("<title>Fixture RSS", "<title>A & B"))
    with poller_for(tmp_path, [server.url("/rss.xml")]) as (poller, sink):
        poller.poll_pass()
    assert poller.counts.errors == {"feed:recovered_xml": 1}
    assert [a.url for a in sink.articles] == [link] and sink.articles[0].source == "A & B"


def test_html_page_given_as_a_feed_is_not_a_feed(server, records, tmp_path):
    server.set("/page.html", article_html(records[0]))
    with poller_for(tmp_path, [server.url("/page.html")]) as (poller, _):
        poller.poll_pass()
    assert sum(poller.counts.errors.values()) == 1
    assert set(poller.counts.errors) <= {"feed:invalid_xml", "feed:not_a_feed"}


def test_redirect_loops_are_detected_for_feeds_and_pages(server, records, tmp_path):
    server.set("/loop-a", status=302, headers={"Location": "/loop-b"})
    server.set("/loop-b", status=301, headers={"Location": server.url("/loop-a")})
    record = records[0]
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", [(record, server.url("/loop-a"))]))
    with poller_for(tmp_path, [server.url("/loop-a"), server.url("/rss.xml")]) as (poller, sink):
        poller.poll_pass()
    assert poller.counts.errors["feed:redirect_loop"] == 1 and poller.counts.errors["page:redirect_loop"] == 1
    (article,) = sink.articles
    assert article.extra["text_source"] == "summary" and article.extra["page_error"] == "redirect_loop"
    assert article.body == summary_of(record)


def test_redirects_are_followed_and_the_final_url_is_the_story(server, records, tmp_path):
    links = serve_pages(server, records[:1])
    server.set("/r/1", status=302, headers={"Location": "/hop"})
    server.set("/hop", status=307, headers={"Location": links[0][1]})
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", [(records[0], server.url("/r/1"))]))
    with poller_for(tmp_path, [server.url("/rss.xml")]) as (poller, sink):
        poller.poll_pass()
    (article,) = sink.articles
    assert article.url == links[0][1] and article.id == article_id(url=links[0][1])
    assert article.extra["text_source"] == "page"


def test_too_many_redirects(server):
    for i in range(8):
        server.set(f"/hop{i}", status=302, headers={"Location": f"/hop{i + 1}"})
    with pytest.raises(FetchError) as err:
        HttpClient(HttpConfig(allow_private_addresses=True, max_redirects=5)).get(server.url("/hop0"))
    assert err.value.reason == "too_many_redirects"


def test_huge_pages_and_feeds_are_capped(server, records, tmp_path):
    huge = article_html(records[0]).replace("</article>", "<p>" + "filler text " * 30000 + "</p></article>")
    server.set("/huge.html", huge)
    server.set("/huge-stream.html", huge, send_length=False)  # no Content-Length: capped while reading
    server.set_feed("/huge.xml", rss_feed("Huge", []).replace("</channel>", "<!--" + "x" * 400_000 + "--></channel>"))
    items = [(records[0], server.url("/huge.html")), (records[1], server.url("/huge-stream.html"))]
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", items))
    with poller_for(tmp_path, [server.url("/huge.xml"), server.url("/rss.xml")], max_bytes=200_000) as (poller, sink):
        poller.poll_pass()
    assert poller.counts.errors["feed:too_large"] == 1 and poller.counts.errors["page:too_large"] == 2
    assert [a.extra["text_source"] for a in sink.articles] == ["summary", "summary"]
    assert poller.counts.summary_fallbacks == 2


def test_non_html_page_falls_back_to_the_summary(server, records, tmp_path):
    server.set("/report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n", content_type="application/pdf")
    server.set_feed("/atom.xml", atom_feed("Fixture Atom", [(records[0], server.url("/report.pdf"))]),
                    content_type="application/atom+xml")
    with poller_for(tmp_path, [server.url("/atom.xml")]) as (poller, sink):
        poller.poll_pass()
    (article,) = sink.articles
    assert article.extra["text_source"] == "summary" and article.extra["page_error"] == "non_html"
    assert article.body == summary_of(records[0])  # the Atom HTML summary as plain text
    assert article.published_at == records[0]["published"] and article.extra["published_at_source"] == "entry"
    assert poller.counts.errors == {"page:non_html": 1}


def test_slow_server_times_out(server, records, tmp_path):
    server.set_feed("/slow.xml", rss_feed("Slow", []), delay=1.5)
    with poller_for(tmp_path, [server.url("/slow.xml")], timeout=0.5) as (poller, _):
        started = time.monotonic()
        poller.poll_pass()
    assert poller.counts.errors == {"feed:timeout": 1}
    assert time.monotonic() - started < 1.4


def test_gzip_encoded_feeds_are_decoded(server, records, tmp_path):
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:2])), gzip=True)
    with poller_for(tmp_path, [server.url("/rss.xml")]) as (poller, _):
        poller.poll_pass()
    assert poller.counts.published == 2 and poller.counts.errors == {}


# --- de-duplication ---------------------------------------------------------------------------------

def test_one_story_in_two_feeds_is_published_once(server, records, tmp_path):
    links = serve_pages(server, records[:3])
    tracked = [(record, link + "?utm_source=rss&at_medium=RSS") for record, link in links[:2]]
    server.set_feed("/a.xml", rss_feed("Feed A", links))
    server.set_feed("/b.xml", atom_feed("Feed B", tracked), content_type="application/atom+xml")
    with poller_for(tmp_path, [server.url("/a.xml"), server.url("/b.xml")]) as (poller, sink):
        poller.poll_pass()
    assert poller.counts.published == 3 and poller.counts.duplicates == 2
    assert len({a.id for a in sink.articles}) == 3


def test_alias_url_with_the_same_rel_canonical_is_a_duplicate(server, records, tmp_path):
    record = records[0]
    story = server.url("/news/story.html")
    server.set("/news/story.html", article_html(record, canonical=story))
    server.set("/amp/story.html", article_html(record, canonical=story))
    server.set_feed("/a.xml", rss_feed("Feed A", [(record, story)]))
    server.set_feed("/b.xml", rss_feed("Feed B", [(record, server.url("/amp/story.html"))]))
    with poller_for(tmp_path, [server.url("/a.xml"), server.url("/b.xml")]) as (poller, sink):
        poller.poll_pass()
    assert poller.counts.published == 1 and poller.counts.duplicates == 1
    assert sink.articles[0].id == article_id(url=story)


def test_restart_publishes_nothing_twice(server, records, tmp_path):
    links = serve_pages(server, records[:4])
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links[:3]))
    with poller_for(tmp_path, [server.url("/rss.xml")]) as (poller, first):
        poller.poll_pass()
    assert len(first.articles) == 3
    # After a restart the stored ETag still gives a 304 ...
    with poller_for(tmp_path, [server.url("/rss.xml")]) as (poller, second):
        poller.poll_pass()
    assert server.not_modified["/rss.xml"] == 1 and second.articles == []
    # ... and when the feed changes, only the new entry goes out.
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links), version="2")
    with poller_for(tmp_path, [server.url("/rss.xml")]) as (poller, third):
        poller.poll_pass()
    assert [a.url for a in third.articles] == [links[3][1]] and poller.counts.duplicates == 3


def test_a_failed_publish_is_retried_and_the_etag_kept_back(server, records, tmp_path):
    class FlakySink(JsonLinesSink):
        """A real sink that refuses its first article, as a broker outage would."""

        def __init__(self):
            super().__init__()
            self.refused = 0

        def publish(self, article):
            if not self.refused:
                self.refused += 1
                raise ConnectionError("broker went away")
            super().publish(article)

    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:2])))
    clock = Clock()
    state = FeedState(tmp_path).open()
    sink = FlakySink()
    poller = FeedPoller(FeedsConfig((server.url("/rss.xml"),), interval=INTERVAL), state,
                        HttpClient(HttpConfig(allow_private_addresses=True)), sink, clock=clock)
    try:
        poller.poll_pass()
        # The rest of the feed is left for the next poll rather than failing entry by entry.
        assert sink.articles == [] and poller.counts.errors == {"publish:ConnectionError": 1}
        clock.advance(INTERVAL)
        poller.poll_pass()
    finally:
        state.close()
    assert server.not_modified["/rss.xml"] == 0  # the new ETag was not stored while an entry was missing
    assert len({a.id for a in sink.articles}) == 2 and poller.counts.published == 2


def test_robots_txt_is_respected_for_pages(server, records, tmp_path):
    server.set("/robots.txt", "User-agent: *\nDisallow: /members/\n", content_type="text/plain")
    server.set("/members/1.html", article_html(records[0]))
    links = [(records[0], server.url("/members/1.html"))] + serve_pages(server, records[1:2])
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links))
    state = FeedState(tmp_path).open()
    http = HttpClient(HttpConfig(allow_private_addresses=True))
    poller = FeedPoller(FeedsConfig((server.url("/rss.xml"),)), state, http, JsonLinesSink(), robots=RobotsPolicy(http))
    try:
        poller.poll_pass()
    finally:
        state.close()
    sources = {a.url: (a.extra["text_source"], a.extra.get("page_error")) for a in poller.sink.articles}
    assert sources == {links[0][1]: ("summary", "robots_disallowed"), links[1][1]: ("page", None)}
    assert server.hits["/members/1.html"] == 0 and server.hits["/robots.txt"] == 1  # fetched once, cached
    # A missing robots.txt (404) allows everything.
    server.routes.pop("/robots.txt")
    assert RobotsPolicy(http).allowed(server.url("/members/1.html")) is True
    # An unreachable one (5xx) allows nothing until it is tried again.
    server.set("/robots.txt", "down", status=503, content_type="text/plain")
    assert RobotsPolicy(http).allowed(server.url("/news/x.html")) is False



def test_robots_txt_is_not_blamed_for_our_address_policy(server):
    # robots.txt on a refused address is not the site's answer; the page itself is refused and counted as such.
    server.set("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    robots = RobotsPolicy(HttpClient(HttpConfig()))
    assert robots.allowed(server.url("/news/1.html")) is True
    assert server.hits["/robots.txt"] == 0

def test_clean_url_drops_tracking_parameters():
    assert clean_url("https://x.example/a?id=3&utm_source=rss&at_medium=RSS#top") == "https://x.example/a?id=3"


# --- address policy ---------------------------------------------------------------------------------

@pytest.mark.parametrize("address, allowed", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.10", False), ("172.16.5.4", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False),
    ("::ffff:127.0.0.1", False), ("fd00::1", False), ("fe80::1%eth0", False), ("224.0.0.1", False),
    ("93.184.216.34", True), ("2606:4700::6810:84e5", True),
])
def test_address_policy(address, allowed):
    assert address_allowed(address) is allowed


def test_private_addresses_are_refused_without_the_flag(server, records, tmp_path):
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))
    port = server.httpd.server_address[1]
    for url in (server.url("/rss.xml"), f"http://localhost:{port}/rss.xml"):
        with pytest.raises(FetchError) as err:
            HttpClient(HttpConfig()).get(url)
        assert err.value.reason == "private_address"
    with poller_for(tmp_path, [server.url("/rss.xml")], allow_private=False) as (poller, sink):
        poller.poll_pass()
    assert poller.counts.errors == {"feed:private_address": 1} and sink.articles == []
    assert server.hits["/rss.xml"] == 0  # refused before connecting
    with pytest.raises(FetchError) as err:
        HttpClient(HttpConfig()).get(f"https://127.0.0.1:{port}/rss.xml")
    assert err.value.reason == "private_address"


def test_redirect_to_another_scheme_is_refused(server):
    server.set("/to-file", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FetchError) as err:
        HttpClient(HttpConfig(allow_private_addresses=True)).get(server.url("/to-file"))
    assert err.value.reason == "bad_url"


# --- OPML and the command ---------------------------------------------------------------------------

def test_read_opml_nested_outlines(tmp_path):
    opml = tmp_path / "feeds.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
                    '<outline text="News"><outline type="rss" text="A" xmlUrl="http://a.example/rss"/>'
                    '<outline type="rss" text="B" xmlUrl="https://b.example/atom.xml"/></outline>'
                    '<outline text="no feed"/></body></opml>', encoding="utf-8")
    assert read_opml(opml) == ["http://a.example/rss", "https://b.example/atom.xml"]


def test_cli_once_dry_run_then_restart(server, records, tmp_path, capsys):
    links = serve_pages(server, records[:2])
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links[:1]))
    opml = tmp_path / "feeds.opml"
    opml.write_text(f'<opml version="1.0"><body><outline xmlUrl="{server.url("/rss.xml")}"/></body></opml>')
    args = ["--opml", str(opml), "--once", "--dry-run", "--allow-private-addresses", "--host-delay", "0",
            "--state-dir", str(tmp_path / "s")]
    assert main(args) == 0
    first = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["url"] for a in first] == [links[0][1]]
    assert main(args) == 0
    assert capsys.readouterr().out == ""


def test_cli_usage_errors(tmp_path, capsys):
    assert main(["--state-dir", str(tmp_path), "--dry-run"]) == 2
    assert "no feed URLs" in capsys.readouterr().err
    assert main(["ftp://x.example/feed", "--state-dir", str(tmp_path), "--dry-run"]) == 2
    assert "not an http(s) feed URL" in capsys.readouterr().err
    assert main(["--opml", str(tmp_path / "missing.opml"), "--state-dir", str(tmp_path), "--dry-run"]) == 2
    assert "cannot read" in capsys.readouterr().err



def newsflow_feeds(*args: str) -> subprocess.CompletedProcess:
    """The real command, as a user runs it, with stdout and stderr on pipes."""
    return subprocess.run([sys.executable, "-m", "pipelines", "feeds", *args, "--host-delay", "0"],
                          capture_output=True, text=True, timeout=120, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


NEWSFLOW_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR) newsflow\.feeds: |^newsflow feeds: ")


def test_cli_refusal_by_the_address_policy_stores_no_backoff(server, records, tmp_path):
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))
    feed, state_dir = server.url("/rss.xml"), str(tmp_path / "state")
    refused = newsflow_feeds(feed, "--once", "--dry-run", "--state-dir", state_dir)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.splitlines()[-1] == "newsflow feeds: no feed could be read (feed:private_address=1)"
    assert "--allow-private-addresses" in refused.stderr and server.hits["/rss.xml"] == 0
    with FeedState(state_dir) as state:
        assert state.feed(feed).failures == 0 and state.feed(feed).next_due == 0
    # The configuration fixed, the very next run polls and publishes.
    allowed = newsflow_feeds(feed, "--once", "--dry-run", "--allow-private-addresses", "--state-dir", state_dir)
    assert allowed.returncode == 0, allowed.stderr
    assert [json.loads(line)["url"] for line in allowed.stdout.splitlines()] == [serve_pages(server, records[:1])[0][1]]


def test_cli_reset_backoff_polls_a_backed_off_feed_now(server, records, tmp_path):
    server.set("/rss.xml", "oops", status=500, content_type="text/plain")
    feed = server.url("/rss.xml")
    common = ["--once", "--dry-run", "--allow-private-addresses", "--state-dir", str(tmp_path)]
    failed = newsflow_feeds(feed, *common)
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[-1] == "newsflow feeds: no feed could be read (feed:http_500=1)"
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))  # the server is back
    started = time.time()
    skipped = newsflow_feeds(feed, *common)
    assert skipped.returncode == 1 and skipped.stdout == "" and server.hits["/rss.xml"] == 1
    assert skipped.stderr.splitlines()[-1] == \
        "newsflow feeds: no feed could be read (1 backing off, see --reset-backoff)"
    (line,) = [line for line in skipped.stderr.splitlines() if "skipped" in line]
    until = re.search(r"backing off until (\S+ \S+) UTC after 1 failure\(s\) in a row \(last: http_500\)", line)
    due = datetime.strptime(until.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    assert started + 540 < due < started + 610  # 2 x the default 300 s interval after the failure
    reset = newsflow_feeds(feed, *common, "--reset-backoff")
    assert reset.returncode == 0, reset.stderr
    assert len(reset.stdout.splitlines()) == 1 and server.hits["/rss.xml"] == 2
    assert f"back-off cleared for 1 feed(s): {feed}" in reset.stderr


def test_cli_exits_1_only_when_every_feed_failed(server, records, tmp_path):
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))
    common = ["--once", "--dry-run", "--allow-private-addresses"]
    one_good = newsflow_feeds(server.url("/gone.xml"), server.url("/rss.xml"), *common, "--state-dir", str(tmp_path / "a"))
    assert one_good.returncode == 0 and len(one_good.stdout.splitlines()) == 1
    all_bad = newsflow_feeds(server.url("/gone.xml"), server.url("/broken.xml"), *common, "--state-dir", str(tmp_path / "b"))
    assert all_bad.returncode == 1
    reasons = [line for line in all_bad.stderr.splitlines() if line.startswith("newsflow feeds:")]
    assert reasons == ["newsflow feeds: no feed could be read (feed:http_404=2)"]


def test_cli_on_a_pipe_prints_only_newsflow_lines(server, records, tmp_path):
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:2])))
    run = newsflow_feeds(server.url("/rss.xml"), "--once", "--dry-run", "--allow-private-addresses",
                         "--state-dir", str(tmp_path))
    assert run.returncode == 0 and len(run.stdout.splitlines()) == 2
    assert "\r" not in run.stderr and "/s]" not in run.stderr  # no progress bar residue on a pipe
    assert [line for line in run.stderr.splitlines() if not NEWSFLOW_LINE.match(line)] == []
    assert "done: passes=1" in run.stderr


def test_cli_help_explains_every_flag():
    run = subprocess.run([sys.executable, "-m", "pipelines", "feeds", "--help"], capture_output=True, text=True,
                         timeout=60, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 0 and run.stdout.startswith("usage: newsflow feeds")
    flags = [action for action in build_parser()._actions if action.option_strings]
    assert {"--reset-backoff", "--allow-private-addresses", "--log-level"} <= {f for a in flags for f in a.option_strings}
    for action in flags:
        assert action.help and action.help.strip(), f"{action.option_strings} has no help text"
        assert all(option in run.stdout for option in action.option_strings)

def test_sigterm_stops_the_poller_cleanly(server, records, tmp_path):
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pipelines.io.feeds import main; sys.exit(main(sys.argv[1:]))",
         server.url("/rss.xml"), "--interval", "0.2", "--dry-run", "--allow-private-addresses", "--host-delay", "0",
         "--report-every", "0.3", "--state-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        first_line = proc.stdout.readline()  # the one article, printed as it is published
        deadline = time.monotonic() + 20
        while server.not_modified["/rss.xml"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # wait until the poller is in its loop, polling with 304s
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert json.loads(first_line)["url"] == server.url(f"/news/{records[0]['id']}.html") and out == ""
    assert "SIGTERM received" in err and "done: passes=" in err and "published=1" in err
    periodic = [line for line in err.splitlines() if " passes=" in line and "done:" not in line]
    assert periodic, err  # count lines while running, not only at the end


def test_duration_stops_the_poller(server, records, tmp_path, capsys):
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", serve_pages(server, records[:1])))
    started = time.monotonic()
    assert main([server.url("/rss.xml"), "--duration", "1", "--interval", "0.25", "--dry-run", "--host-delay", "0",
                 "--allow-private-addresses", "--state-dir", str(tmp_path)]) == 0
    assert 0.9 < time.monotonic() - started < 5
    assert 3 <= server.hits["/rss.xml"] <= 6 and server.not_modified["/rss.xml"] == server.hits["/rss.xml"] - 1
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_every_pass_polls_every_due_feed_even_when_a_pass_is_slow(server, records, tmp_path, capsys):
    server.set("/slow.html", article_html(records[0]), delay=0.4)
    server.set_feed("/a.xml", rss_feed("Feed A", [(records[0], server.url("/slow.html"))]))
    server.set_feed("/b.xml", rss_feed("Feed B", serve_pages(server, records[1:2])))
    assert main([server.url("/a.xml"), server.url("/b.xml"), "--max-polls", "2", "--interval", "0.2", "--dry-run",
                 "--host-delay", "0", "--allow-private-addresses", "--state-dir", str(tmp_path)]) == 0
    assert server.hits["/a.xml"] == 2 and server.hits["/b.xml"] == 2
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_requests_to_one_host_are_spaced(server):
    server.set("/a", "a", content_type="text/plain")
    client = HttpClient(HttpConfig(allow_private_addresses=True, host_delay=0.3))
    started = time.monotonic()
    for _ in range(3):
        client.get(server.url("/a"))
    assert time.monotonic() - started >= 0.6


# --- against a real Kafka broker ----------------------------------------------------------------------

def read_topic(bootstrap: str, topic: str) -> list:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, consumer_timeout_ms=4000)
    try:
        return list(consumer)
    finally:
        consumer.close()


@pytest.mark.integration
def test_feeds_publish_to_kafka_stop_restart_and_publish_nothing_twice(kafka_broker, topic_name, server,
                                                                        records, tmp_path):
    links = serve_pages(server, records[:4])
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", links[:2]))
    # The Atom feed repeats story 1 (with a tracking parameter) next to story 2.
    server.set_feed("/atom.xml", atom_feed("Fixture Atom", [(links[1][0], links[1][1] + "?utm_medium=atom"),
                                                            links[2]]), content_type="application/atom+xml")
    feeds = [server.url("/rss.xml"), server.url("/atom.xml")]
    common = ["--host-delay", "0", "--topic", topic_name, "--bootstrap-servers", kafka_broker, "--state-dir", str(tmp_path / "state"),
              "--allow-private-addresses"]
    # Run 1: a long-running poller, stopped by SIGTERM once it is idling on 304s.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "pipelines", "feeds", *feeds, "--interval", "0.3", *common],
                            stderr=subprocess.PIPE, env=env, text=True, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while server.not_modified["/atom.xml"] < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "published=3" in err and "duplicates=1" in err
    # Quiet on a pipe: newsflow's own lines only, nothing from kafka-python or a progress bar.
    assert [line for line in err.splitlines() if not NEWSFLOW_LINE.match(line)] == [], err
    # Run 2: restarted after both feeds changed (new ETags), one new story among the old ones.
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", [links[3]] + links[:2]), version="2")
    server.set_feed("/atom.xml", atom_feed("Fixture Atom", [links[3]] + links[1:3]), version="2",
                    content_type="application/atom+xml")
    assert main([*feeds, "--max-polls", "2", "--interval", "0.2", *common]) == 0
    # Run 3: once more, unchanged feeds.
    assert main([*feeds, "--once", *common]) == 0

    messages = read_topic(kafka_broker, topic_name)
    expected = {article_id(url=link) for _, link in links}
    assert len(messages) == 4 and {m.key.decode("utf-8") for m in messages} == expected
    for message in messages:
        article = article_from_json_bytes(message.value)
        assert article.id == message.key.decode("utf-8")
        assert article.extra["text_source"] == "page" and article.extra["feed_url"] in feeds


def test_no_broker_is_a_one_line_error(server, tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server.set_feed("/rss.xml", rss_feed("Fixture RSS", []))
    assert main([server.url("/rss.xml"), "--once", "--bootstrap-servers", f"127.0.0.1:{port}",
                 "--allow-private-addresses", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Kafka broker answers" in err[0]
    assert server.hits["/rss.xml"] == 0


# --- state store and text helpers -------------------------------------------------------------------

def test_one_poller_per_state_dir(tmp_path, capsys):
    with FeedState(tmp_path):
        with pytest.raises(StateLocked):
            FeedState(tmp_path).open()
        assert main(["http://feeds.example/rss", "--dry-run", "--state-dir", str(tmp_path)]) == 2
        assert "another newsflow feeds process" in capsys.readouterr().err
    FeedState(tmp_path).open().close()  # released on close


def test_seen_keys_are_forgotten_only_when_no_feed_lists_them(tmp_path):
    old, listed = seen_key("url", "http://a.example/1"), seen_key("url", "http://a.example/2")
    with FeedState(tmp_path) as state:
        state.mark_seen([old, listed], "id", "http://a.example/rss", now=1000.0)
        assert state.any_seen([listed], now=5000.0)  # still in the feed: refreshed
        assert state.prune(older_than=2000.0) == 1
        assert not state.any_seen([old], now=5000.0) and state.any_seen([listed], now=5000.0)
    with FeedState(tmp_path) as state:
        assert state.seen_count() == 1


def test_summary_html_becomes_plain_text():
    assert html_to_text("<p>Profits <b>rose</b> 5% &amp; more.</p><p>Second</p><script>x()</script>") == \
        "Profits rose 5% & more.\n\nSecond"
    assert html_to_text("A &lt;b&gt; literal") == "A <b> literal"
    assert html_to_text(None) == ""
