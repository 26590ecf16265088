"""The feed poller: one pass over the feeds that are due, each new entry published once.

A conditional GET of each feed (ETag / Last-Modified), feedparser on the bytes, and for every
entry not in the seen-set a fetch of the article page, main-text extraction (trafilatura,
else the entry's summary, said in ``extra.text_source``), one raw article published with
key = id = ``article_id(url=canonical URL)``, and the entry's GUID and URL hashes recorded in
the local state store so a restart publishes nothing twice. A failing feed is backed off
exponentially; every failure is logged with a reason and counted, and the poller keeps going.
"""
from __future__ import annotations

import calendar
import collections
import io
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipelines.article import InvalidArticle, article_from_mapping, article_id, canonical_url
from pipelines.io.feeds.extract import PageText, drop_repeated_title, extract_page, html_to_text, language_code
from pipelines.io.feeds.http import POLICY_REFUSALS, FetchError, HttpClient
from pipelines.io.feeds.robots import RobotsPolicy
from pipelines.io.feeds.sinks import ArticleSink
from pipelines.io.feeds.state import FeedHttpState, FeedState, seen_key

log = logging.getLogger("newsflow.feeds")

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Analytics parameters feeds append to links; one story must keep one URL (and one id).
TRACKING_PARAMS = ("utm_", "at_medium", "at_campaign", "fbclid", "gclid", "ocid", "cmpid", "mc_cid", "mc_eid")


def clean_url(url: str) -> str:
    """Drop analytics parameters and the fragment from a link."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(TRACKING_PARAMS)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@dataclass(frozen=True)
class FeedsConfig:
    """Everything the poller needs besides its state store, HTTP client and sink."""

    feed_urls: tuple[str, ...]
    interval: float = 300.0
    max_backoff: float = 6 * 3600.0
    max_polls: int | None = None
    duration: float | None = None
    report_every: float = 60.0
    forget_after_days: float = 90.0


@dataclass
class FeedCounts:
    """What the poller did; ``errors`` is keyed by "feed:REASON", "page:REASON", ...."""

    passes: int = 0
    feeds_polled: int = 0
    not_modified: int = 0
    backed_off: int = 0
    entries_seen: int = 0
    published: int = 0
    duplicates: int = 0
    summary_fallbacks: int = 0
    errors: collections.Counter = field(default_factory=collections.Counter)

    def line(self) -> str:
        """One log line with every count."""
        errors = ", ".join(f"{k}={v}" for k, v in sorted(self.errors.items())) or "none"
        return (f"passes={self.passes} feeds_polled={self.feeds_polled} not_modified={self.not_modified} "
                f"backed_off={self.backed_off} entries_seen={self.entries_seen} published={self.published} "
                f"duplicates={self.duplicates} summary_fallbacks={self.summary_fallbacks} "
                f"errors={sum(self.errors.values())} ({errors})")


def _entry_time(entry: Mapping) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            # feedparser normalises to a UTC struct_time.
            return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    return None


def _entry_summary(entry: Mapping) -> str:
    for content in entry.get("content") or ():
        text = html_to_text(content.get("value"))
        if text:
            return text
    return html_to_text(entry.get("summary"))


class FeedPoller:
    """Polls feeds, publishes new entries once, backs off failing feeds; see the module docstring."""

    def __init__(self, config: FeedsConfig, state: FeedState, http: HttpClient, sink: ArticleSink,
                 clock: Callable[[], float] = time.time, stop: threading.Event | None = None,
                 robots: RobotsPolicy | None = None):
        self.config = config
        self.robots = robots
        self.state = state
        self.http = http
        self.sink = sink
        self.clock = clock
        self.stop = stop or threading.Event()
        self.counts = FeedCounts()
        self.feeds_read: set[str] = set()  # feeds fetched and parsed (or 304) in this run
        self.feeds_held_back: set[str] = set()  # feeds skipped in this run because they were backing off
        self._due: dict[str, float] = {}
        self._backing_off: dict[str, FeedHttpState] = {}
        self._announced: dict[str, float] = {}  # url -> the due time last told to the user

    # --- scheduling -------------------------------------------------------------------------

    def due_time(self, url: str) -> float:
        """When ``url`` is next due (0 = now); persisted backoff survives restarts."""
        if url not in self._due:
            feed = self.state.feed(url)
            if feed.last_status in POLICY_REFUSALS:
                # Older versions backed a feed off for our own refusal; that says nothing about the feed.
                self._due[url] = 0.0
            else:
                self._due[url] = feed.next_due
                if feed.failures:
                    self._backing_off[url] = feed
        return self._due[url]

    def _skip_backing_off(self, url: str, due: float) -> None:
        # Once per back-off: a feed skipped in silence looks like a feed with nothing new.
        feed = self._backing_off.get(url)
        if feed is None:
            return
        self.feeds_held_back.add(url)
        if self._announced.get(url) == due:
            return
        self._announced[url] = due
        until = datetime.fromtimestamp(due, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        log.warning("feed %s skipped: backing off until %s after %d failure(s) in a row (last: %s); "
                    "--reset-backoff polls it now", url, until, feed.failures, feed.last_status)

    def poll_pass(self) -> int:
        """Poll every feed that is due now; return how many were polled."""
        polled = 0
        # One time for the whole pass keeps the feeds' due times aligned, so the next pass
        # polls them all again instead of one pass per feed.
        now = self.clock()
        for url in self.config.feed_urls:
            if self.stop.is_set():
                break
            due = self.due_time(url)
            if due > now:
                self.counts.backed_off += 1
                self._skip_backing_off(url, due)
                continue
            self.poll_feed(url, now)
            polled += 1
        self.counts.passes += 1
        return polled

    def run(self, sleep: Callable[[float], object] | None = None) -> FeedCounts:
        """Poll until ``max_polls`` passes, ``duration`` seconds or ``stop``; return the counts."""
        wait = sleep or self.stop.wait
        start = self.clock()
        self.state.prune(start - self.config.forget_after_days * 86400)
        last_report = start
        while not self.stop.is_set():
            self.poll_pass()
            now = self.clock()
            if self.config.max_polls is not None and self.counts.passes >= self.config.max_polls:
                break
            if self.config.duration is not None and now - start >= self.config.duration:
                break
            if now - last_report >= self.config.report_every:
                log.info("%s", self.counts.line())
                last_report = now
            next_due = min((self.due_time(u) for u in self.config.feed_urls), default=now)
            delay = max(0.0, next_due - now)
            if self.config.duration is not None:
                delay = min(delay, start + self.config.duration - now)
            wait(max(delay, 0.01))
        return self.counts

    def _feed_failed(self, feed: FeedHttpState, reason: str, message: str, now: float,
                     retry_after: float | None = None) -> None:
        feed.failures += 1
        delay = min(self.config.interval * (2 ** min(feed.failures, 32)), self.config.max_backoff)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.max_backoff))
        feed.next_due = now + delay
        feed.last_status = reason
        self.state.save_feed(feed)
        self._due[feed.url] = feed.next_due
        self._backing_off[feed.url] = feed
        self._announced[feed.url] = feed.next_due  # the line below says until when
        self.counts.errors[f"feed:{reason}"] += 1
        log.warning("feed %s failed (%s, %d in a row), next try in %.0fs: %s",
                    feed.url, reason, feed.failures, delay, message)

    # --- one feed ---------------------------------------------------------------------------

    def poll_feed(self, url: str, now: float) -> None:
        """One conditional GET of ``url`` and the publication of its new entries."""
        import feedparser  # parsing only; it never touches the network here

        feed = self.state.feed(url)
        self.counts.feeds_polled += 1
        headers = {"Accept": FEED_ACCEPT}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        try:
            result = self.http.get(url, headers)
        except FetchError as err:
            if err.reason in POLICY_REFUSALS:
                self._feed_refused(feed, err, now)
            else:
                self._feed_failed(feed, err.reason, str(err), now, err.retry_after)
            return
        if result.status == 304:
            self.counts.not_modified += 1
            self._feed_ok(feed, now, "not_modified")
            return
        parsed = feedparser.parse(io.BytesIO(result.body), response_headers={
            "content-type": result.headers.get("content-type", "application/xml"),
            "content-location": result.url})
        if parsed.bozo and not parsed.entries:
            self._feed_failed(feed, "invalid_xml", f"{type(parsed.bozo_exception).__name__}: "
                              f"{parsed.bozo_exception}", now)
            return
        if not parsed.version and not parsed.entries:
            self._feed_failed(feed, "not_a_feed", f"{result.content_type or 'no content type'} "
                              "with no RSS/Atom/RDF content", now)
            return
        if parsed.bozo:
            # feedparser's loose parser recovered entries; publish them but say so.
            self.counts.errors["feed:recovered_xml"] += 1
            log.warning("feed %s is not well-formed (%s); using the %d entries recovered",
                        url, parsed.bozo_exception, len(parsed.entries))
        failures = 0
        # Feeds list newest first; publishing oldest first keeps the topic in story order.
        for entry in reversed(parsed.entries):
            if self.stop.is_set():
                failures += 1  # entries left unread: do not let a 304 hide them next time
                break
            if not self._process_entry(url, parsed, entry):
                # The sink is failing (broker down?): the rest would fail too; retry them all next poll.
                failures += 1
                break
        if failures == 0:
            feed.etag = result.headers.get("etag")
            feed.last_modified = result.headers.get("last-modified")
        self._feed_ok(feed, now, "ok")

    def _feed_refused(self, feed: FeedHttpState, err: FetchError, now: float) -> None:
        # Our own policy refused the feed: count and say it, but store nothing, so the run
        # after the configuration is fixed polls the feed at once.
        self.counts.errors[f"feed:{err.reason}"] += 1
        self._due[feed.url] = now + self.config.interval
        log.error("feed %s refused by our address policy, not polled: %s", feed.url, err)

    def _feed_ok(self, feed: FeedHttpState, now: float, status: str) -> None:
        feed.failures = 0
        feed.next_due = 0.0
        feed.last_status = status
        self.state.save_feed(feed)
        self.feeds_read.add(feed.url)
        self._backing_off.pop(feed.url, None)
        self._due[feed.url] = now + self.config.interval

    # --- one entry --------------------------------------------------------------------------

    def _process_entry(self, feed_url: str, parsed, entry) -> bool:
        """Publish ``entry`` unless seen; False when it must be retried (publishing failed)."""
        self.counts.entries_seen += 1
        now = self.clock()
        guid = (entry.get("id") or "").strip() or None
        link = (entry.get("link") or "").strip() or None
        if link and urlsplit(link).scheme not in ("http", "https"):
            link = None
        keys = []
        if guid:
            # GUIDs are only unique within their feed; URLs identify a story across feeds.
            keys.append(seen_key("guid", guid, scope=feed_url))
        url = clean_url(link) if link else None
        if url:
            keys.append(seen_key("url", canonical_url(url)))
        if not keys:
            self.counts.errors["entry:no_id_or_link"] += 1
            log.warning("feed %s: an entry has neither a GUID nor a link; skipped", feed_url)
            return True
        if self.state.any_seen(keys, now):
            self.counts.duplicates += 1
            return True

        page, page_url, page_error = None, url, None
        if url:
            page, page_url, page_error = self._fetch_page(url)
        story_url = page_url
        if page is not None and page.canonical_url:
            story_url = clean_url(page.canonical_url)
        for candidate in (page_url, story_url):
            if candidate:
                keys.append(seen_key("url", canonical_url(candidate)))
        if self.state.any_seen(keys, now):
            # Another feed's link to the same page (after redirects / rel=canonical) was published.
            self.counts.duplicates += 1
            self.state.mark_seen(keys, None, feed_url, now)
            return True

        record = self._record(feed_url, parsed, entry, guid, story_url, page, page_error)
        if record is None:
            self.state.mark_seen(keys, None, feed_url, now)
            return True
        try:
            article = article_from_mapping(record)
        except InvalidArticle as exc:
            self.counts.errors[f"article:{exc.error_class}"] += 1
            log.warning("feed %s: entry %s is not a valid article (%s): %s", feed_url, story_url or guid,
                        exc.error_class, exc)
            self.state.mark_seen(keys, None, feed_url, now)
            return True
        try:
            self.sink.publish(article)
        except Exception as exc:  # noqa: BLE001 - any producer failure: retry on the next poll
            self.counts.errors[f"publish:{type(exc).__name__}"] += 1
            log.error("could not publish %s (%s): %s; it will be retried", article.id, type(exc).__name__, exc)
            return False
        self.state.mark_seen(keys, article.id, feed_url, now)
        self.counts.published += 1
        return True

    def _fetch_page(self, url: str) -> tuple[PageText | None, str, str | None]:
        if self.robots is not None and not self.robots.allowed(url):
            self.counts.errors["page:robots_disallowed"] += 1
            log.info("page %s is disallowed by robots.txt; using the feed summary", url)
            return None, url, "robots_disallowed"
        try:
            result = self.http.get(url, {"Accept": PAGE_ACCEPT})
        except FetchError as err:
            self.counts.errors[f"page:{err.reason}"] += 1
            log.warning("page %s: %s (%s); using the feed summary", url, err.reason, err)
            return None, url, err.reason
        if result.content_type and result.content_type not in HTML_TYPES:
            self.counts.errors["page:non_html"] += 1
            log.warning("page %s is %s, not HTML; using the feed summary", url, result.content_type)
            return None, result.url, "non_html"
        try:
            page = extract_page(result.body, result.url)
        except (ValueError, TypeError) as exc:
            # trafilatura raises these on markup lxml cannot take (e.g. a document of only binary).
            self.counts.errors["page:extract_failed"] += 1
            log.warning("page %s: extraction failed (%s); using the feed summary", url, exc)
            return None, result.url, "extract_failed"
        if page is None:
            self.counts.errors["page:no_text"] += 1
            log.warning("page %s has no article text; using the feed summary", url)
            return None, result.url, "no_text"
        return page, result.url, None

    def _record(self, feed_url: str, parsed, entry, guid: str | None, story_url: str | None,
                page: PageText | None, page_error: str | None) -> dict | None:
        extra = {"feed_url": feed_url}
        if guid:
            extra["guid"] = guid
        if page is not None:
            body, extra["text_source"] = page.text, "page"
        else:
            body, extra["text_source"] = _entry_summary(entry), "summary"
            if page_error:
                extra["page_error"] = page_error
            if not body:
                self.counts.errors["entry:no_text"] += 1
                log.warning("feed %s: entry %s has no page text and no summary; skipped",
                            feed_url, story_url or guid)
                return None
            self.counts.summary_fallbacks += 1
        published = _entry_time(entry)
        if published is not None:
            extra["published_at_source"] = "entry"
        elif page is not None and page.published_at is not None:
            published, extra["published_at_source"] = page.published_at, "page"
        title = html_to_text(entry.get("title")) or (page.title if page else None)
        # Pages put the headline above the text; the record has it in ``title`` already.
        body = drop_repeated_title(body, title, page.title if page else None)
        language = (language_code(entry.get("language")) or (page.language if page else None)
                    or language_code(parsed.feed.get("language")))
        source = html_to_text(parsed.feed.get("title")) or urlsplit(feed_url).hostname
        return {"id": article_id(url=story_url) if story_url else None, "url": story_url, "source": source,
                "title": title, "body": body, "published_at": published.isoformat() if published else None,
                "language": language, "extra": extra}
