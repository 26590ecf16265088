"""``newsflow feeds``: poll RSS 2.0 / Atom / RDF feeds and publish new articles to ``articles.raw``.

One pass over the feeds that are due: a conditional GET of each feed (ETag / Last-Modified),
feedparser on the bytes, and for every entry not in the seen-set a fetch of the article page,
main-text extraction (trafilatura, else the entry's summary, said in ``extra.text_source``),
one raw article JSON published with key = id = ``article_id(url=canonical URL)``, and the
entry's GUID and URL hashes recorded in the local state store so a restart publishes nothing
twice. A failing feed is backed off exponentially; every failure is logged with a reason and
counted, and the poller keeps going.

All HTTP goes through ``HttpClient``: our own redirects (loops detected), a size cap, a
timeout per request, a polite User-Agent, and a refusal to connect to loopback, private,
link-local or otherwise non-global addresses unless ``--allow-private-addresses`` is given.
The check is made on the address actually connected to, so redirects, article pages and DNS
answers that change between polls are covered too.
"""
from __future__ import annotations

import argparse
import calendar
import collections
import http.client
import io
import ipaddress
import json
import logging
import os
import signal
import socket
import sqlite3
import ssl
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence, TextIO
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser
from xml.etree import ElementTree

from pipelines import __version__
from pipelines.article import Article, InvalidArticle, article_from_mapping, article_id, canonical_url
from pipelines.io.extract import PageText, extract_page, html_to_text, language_code
from pipelines.io.feed_state import FeedHttpState, FeedState, StateLocked, seen_key

log = logging.getLogger("newsflow.feeds")

DEFAULT_TOPIC = "articles.raw"
DEFAULT_BOOTSTRAP = "localhost:9092"
USER_AGENT = f"newsflow/{__version__} (news feed poller; polls at most once per interval)"
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_CODES = (301, 302, 303, 307, 308)
# Analytics parameters feeds append to links; one story must keep one URL (and one id).
TRACKING_PARAMS = ("utm_", "at_medium", "at_campaign", "fbclid", "gclid", "ocid", "cmpid", "mc_cid", "mc_eid")


# --- HTTP ------------------------------------------------------------------------------------

class FetchError(Exception):
    """A request that gave no usable response; ``reason`` is a short stable label for counting."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class HttpConfig:
    """Limits for every request the poller makes."""

    timeout: float = 20.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private_addresses: bool = False
    user_agent: str = USER_AGENT
    host_delay: float = 0.0  # least seconds between two requests to one host


@dataclass(frozen=True)
class FetchResult:
    """A 2xx or 304 response, body decoded from gzip/deflate and within the size cap."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def address_allowed(address: str) -> bool:
    """True for globally routable unicast addresses; False for loopback, private, link-local, ..."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _open_socket(host: str, port: int, timeout: float, allow_private: bool) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError("dns_error", f"cannot resolve {host}: {exc}") from exc
    if not allow_private:
        # Refuse when any answer is non-global: a name that mixes public and private
        # addresses is exactly what a rebinding attack looks like.
        for *_, sockaddr in infos:
            if not address_allowed(sockaddr[0]):
                raise FetchError("private_address", f"{host} resolves to {sockaddr[0]}, a loopback or private "
                                 "address (pass --allow-private-addresses to allow it)")
    last_error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    raise last_error or OSError(f"no address to connect to for {host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    """Connects only to the addresses the policy allows (checked on the resolved address)."""

    allow_private = False

    def connect(self):
        self.sock = _open_socket(self.host, self.port, self.timeout, self.allow_private)


class _GuardedHTTPSConnection(http.client.HTTPSConnection, _GuardedHTTPConnection):
    """HTTPS whose TCP connect is ``_GuardedHTTPConnection.connect`` (by the MRO), then TLS."""


def clean_url(url: str) -> str:
    """Drop analytics parameters and the fragment from a link."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(TRACKING_PARAMS)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class HttpClient:
    """GET with manual redirects, a size cap, a total timeout and the address policy."""

    def __init__(self, config: HttpConfig = HttpConfig()):
        self.config = config
        self._tls = ssl.create_default_context()
        self._last_request: dict[str, float] = {}

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> FetchResult:
        """Fetch ``url``, following up to ``max_redirects`` redirects; raise ``FetchError``."""
        self._be_polite(urlsplit(url).hostname or "")
        deadline = time.monotonic() + self.config.timeout
        visited = {url}
        current = url
        for _ in range(self.config.max_redirects + 1):
            status, response_headers, body = self._request(current, headers or {}, deadline)
            if status not in REDIRECT_CODES:
                return FetchResult(current, status, response_headers, body)
            location = response_headers.get("location")
            if not location:
                raise FetchError("bad_redirect", f"{current} answered {status} without a Location")
            current = urljoin(current, location.strip())
            if current in visited:
                raise FetchError("redirect_loop", f"redirect loop at {current}")
            visited.add(current)
        raise FetchError("too_many_redirects", f"more than {self.config.max_redirects} redirects from {url}")

    def _request(self, url: str, headers: Mapping[str, str], deadline: float):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("bad_url", f"not an http(s) URL: {url!r}")
        try:
            host = parts.hostname.encode("idna").decode("ascii")
            port = parts.port
        except (UnicodeError, ValueError) as exc:
            raise FetchError("bad_url", f"bad host in {url!r}: {exc}") from exc
        target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        if parts.query:
            target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timeout", f"{url}: timed out")
        if parts.scheme == "https":
            conn = _GuardedHTTPSConnection(host, port, timeout=remaining, context=self._tls)
        else:
            conn = _GuardedHTTPConnection(host, port, timeout=remaining)
        conn.allow_private = self.config.allow_private_addresses
        request_headers = {"User-Agent": self.config.user_agent, "Accept-Encoding": "gzip, deflate",
                           "Connection": "close", **headers}
        try:
            conn.request("GET", target, headers=request_headers)
            response = conn.getresponse()
            response_headers = {k.lower(): v for k, v in response.getheaders()}
            status = response.status
            if status in REDIRECT_CODES or status == 304:
                return status, response_headers, b""
            if status >= 400:
                raise FetchError(f"http_{status}", f"{url} answered HTTP {status} {response.reason}",
                                 _retry_after(response_headers.get("retry-after")))
            body = self._read_capped(response, url, deadline)
            return status, response_headers, self._decode(body, response_headers, url)
        except (TimeoutError, socket.timeout) as exc:
            raise FetchError("timeout", f"{url}: timed out") from exc
        except ssl.SSLError as exc:
            raise FetchError("tls_error", f"{url}: {exc}") from exc
        except ConnectionRefusedError as exc:
            raise FetchError("connection_refused", f"{url}: connection refused") from exc
        except http.client.HTTPException as exc:
            raise FetchError("bad_http", f"{url}: {type(exc).__name__}: {exc}") from exc
        except OSError as exc:
            raise FetchError("connection_error", f"{url}: {exc}") from exc
        finally:
            conn.close()

    def _be_polite(self, host: str) -> None:
        if self.config.host_delay > 0:
            wait = self._last_request.get(host, float("-inf")) + self.config.host_delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_request[host] = time.monotonic()

    def _read_capped(self, response: http.client.HTTPResponse, url: str, deadline: float) -> bytes:
        cap = self.config.max_bytes
        declared = response.getheader("content-length")
        if declared and declared.strip().isdigit() and int(declared) > cap:
            raise FetchError("too_large", f"{url} is {declared} bytes, over the cap of {cap}")
        chunks, size = [], 0
        while True:
            # The socket timeout bounds each read; the deadline bounds a server that trickles.
            if time.monotonic() > deadline:
                raise FetchError("timeout", f"{url}: body not received within {self.config.timeout}s")
            chunk = response.read(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > cap:
                raise FetchError("too_large", f"{url} is over the cap of {cap} bytes")
            chunks.append(chunk)

    def _decode(self, body: bytes, headers: Mapping[str, str], url: str) -> bytes:
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding in ("", "identity"):
            return body
        if encoding not in ("gzip", "x-gzip", "deflate"):
            raise FetchError("bad_encoding", f"{url}: unsupported Content-Encoding {encoding!r}")
        wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        decompressor = zlib.decompressobj(wbits)
        try:
            # max_length keeps a small compressed bomb from inflating past the cap.
            out = decompressor.decompress(body, self.config.max_bytes + 1)
        except zlib.error as exc:
            raise FetchError("bad_encoding", f"{url}: cannot decompress: {exc}") from exc
        if len(out) > self.config.max_bytes or decompressor.unconsumed_tail:
            raise FetchError("too_large", f"{url} inflates past the cap of {self.config.max_bytes} bytes")
        return out


class RobotsPolicy:
    """robots.txt rules for article pages (feeds were subscribed to, pages are crawled), cached per site."""

    def __init__(self, http: HttpClient, agent: str = "newsflow", ttl: float = 24 * 3600.0,
                 retry_after_failure: float = 600.0, clock: Callable[[], float] = time.time):
        self.http, self.agent, self.ttl, self.retry_after_failure, self.clock = \
            http, agent, ttl, retry_after_failure, clock
        self._rules: dict[str, tuple[RobotFileParser | bool, float]] = {}

    def allowed(self, url: str) -> bool:
        """May ``url`` be fetched? Rules per RFC 9309: a 4xx robots.txt allows all, an unreachable one none."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        rules, expires = self._rules.get(site, (True, float("-inf")))
        if expires < self.clock():
            rules, expires = self._fetch(site)
            self._rules[site] = (rules, expires)
        return rules if isinstance(rules, bool) else rules.can_fetch(self.agent, url)

    def _fetch(self, site: str) -> tuple[RobotFileParser | bool, float]:
        now = self.clock()
        try:
            result = self.http.get(site + "/robots.txt", {"Accept": "text/plain"})
        except FetchError as err:
            if err.reason.startswith("http_4"):
                return True, now + self.ttl
            log.warning("robots.txt of %s unreachable (%s): no pages from there for now", site, err.reason)
            return False, now + self.retry_after_failure
        parser = RobotFileParser()
        parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
        return parser, now + self.ttl


# --- publishing ------------------------------------------------------------------------------

class ArticleSink(Protocol):
    """Where new articles go: Kafka in production, JSON lines for --dry-run."""

    def publish(self, article: Article) -> None: ...

    def close(self) -> None: ...


def article_json_bytes(article: Article) -> bytes:
    """The contract's raw article JSON, UTF-8."""
    return json.dumps(article.to_json_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8")


def publish_article(producer, topic: str, article: Article, timeout: float = 30.0) -> None:
    """Send one article (key = id) with a kafka-python-style producer and wait for the ack."""
    future = producer.send(topic, key=article.id.encode("utf-8"), value=article_json_bytes(article))
    # Waiting per article makes "published" mean "acknowledged" before the seen-set is written.
    future.get(timeout=timeout)


class KafkaSink:
    """Publishes to a Kafka topic through a kafka-python ``KafkaProducer``."""

    def __init__(self, producer, topic: str = DEFAULT_TOPIC, timeout: float = 30.0):
        self.producer, self.topic, self.timeout = producer, topic, timeout

    def publish(self, article: Article) -> None:
        publish_article(self.producer, self.topic, article, self.timeout)

    def close(self) -> None:
        self.producer.flush(timeout=self.timeout)
        self.producer.close(timeout=self.timeout)


class JsonLinesSink:
    """Writes each article as one JSON line (``--dry-run``); keeps them in ``articles`` too."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self.articles: list[Article] = []

    def publish(self, article: Article) -> None:
        self.articles.append(article)
        if self.stream is not None:
            self.stream.write(article_json_bytes(article).decode("utf-8") + "\n")
            self.stream.flush()

    def close(self) -> None:
        pass


# --- the poller ------------------------------------------------------------------------------

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
        self._due: dict[str, float] = {}

    # --- scheduling -------------------------------------------------------------------------

    def due_time(self, url: str) -> float:
        """When ``url`` is next due (0 = now); persisted backoff survives restarts."""
        if url not in self._due:
            self._due[url] = self.state.feed(url).next_due
        return self._due[url]

    def poll_pass(self) -> int:
        """Poll every feed that is due now; return how many were polled."""
        polled = 0
        # One time for the whole pass keeps the feeds' due times aligned, so the next pass
        # polls them all again instead of one pass per feed.
        now = self.clock()
        for url in self.config.feed_urls:
            if self.stop.is_set():
                break
            if self.due_time(url) > now:
                self.counts.backed_off += 1
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

    def _feed_ok(self, feed: FeedHttpState, now: float, status: str) -> None:
        feed.failures = 0
        feed.next_due = 0.0
        feed.last_status = status
        self.state.save_feed(feed)
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
        language = (language_code(entry.get("language")) or (page.language if page else None)
                    or language_code(parsed.feed.get("language")))
        source = html_to_text(parsed.feed.get("title")) or urlsplit(feed_url).hostname
        return {"id": article_id(url=story_url) if story_url else None, "url": story_url, "source": source,
                "title": title, "body": body, "published_at": published.isoformat() if published else None,
                "language": language, "extra": extra}


# --- OPML and the command ----------------------------------------------------------------------

def read_opml(path: str | os.PathLike) -> list[str]:
    """Feed URLs (``xmlUrl`` of every outline, nested or not) from an OPML file."""
    try:
        tree = ElementTree.parse(path)
    except ElementTree.ParseError as exc:
        raise ValueError(f"{path} is not valid OPML: {exc}") from exc
    urls = []
    for outline in tree.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url:
            urls.append(url)
    return urls


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The ``newsflow feeds`` flags."""
    parser = argparse.ArgumentParser(
        prog="newsflow feeds",
        description="Poll RSS/Atom/RDF feeds and publish each new article once to Kafka as raw article JSON.")
    parser.add_argument("urls", nargs="*", metavar="URL", help="feed URLs (http or https)")
    parser.add_argument("--opml", action="append", default=[], metavar="FILE",
                        help="read feed URLs from an OPML file (repeatable)")
    parser.add_argument("--interval", type=_positive(float), default=300.0, metavar="S",
                        help="seconds between polls of one feed (default 300)")
    parser.add_argument("--once", action="store_true", help="one pass over the feeds, then exit")
    parser.add_argument("--max-polls", type=_positive(int), metavar="N", help="stop after N passes")
    parser.add_argument("--duration", type=_positive(float), metavar="S", help="stop after S seconds")
    parser.add_argument("--topic", default=DEFAULT_TOPIC, help=f"topic to publish to (default {DEFAULT_TOPIC})")
    parser.add_argument("--bootstrap-servers", metavar="HOST:PORT",
                        help="Kafka bootstrap servers (default $NEWSFLOW_BOOTSTRAP_SERVERS or localhost:9092)")
    parser.add_argument("--state-dir", metavar="DIR",
                        help="seen-set and feed state (default $NEWSFLOW_HOME/feeds or ~/.newsflow/feeds)")
    parser.add_argument("--allow-private-addresses", action="store_true",
                        help="allow feeds and pages on loopback or private addresses")
    parser.add_argument("--timeout", type=_positive(float), default=20.0, metavar="S",
                        help="timeout of one request, body included (default 20)")
    parser.add_argument("--max-bytes", type=_positive(int), default=5_000_000, metavar="N",
                        help="size cap of a feed or page (default 5000000)")
    parser.add_argument("--host-delay", type=float, default=1.0, metavar="S",
                        help="least seconds between two requests to one host (default 1)")
    parser.add_argument("--ignore-robots", action="store_true",
                        help="fetch article pages even where robots.txt disallows it")
    parser.add_argument("--max-backoff", type=_positive(float), default=6 * 3600.0, metavar="S",
                        help="longest wait before retrying a failing feed (default 21600)")
    parser.add_argument("--report-every", type=_positive(float), default=60.0, metavar="S",
                        help="seconds between count lines on stderr (default 60)")
    parser.add_argument("--forget-after", type=_positive(float), default=90.0, metavar="DAYS",
                        help="forget seen entries absent from every feed this long (default 90)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print articles as JSON lines on stdout instead of publishing")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def _feed_urls(args) -> tuple[str, ...]:
    urls = list(args.urls)
    for path in args.opml:
        try:
            urls.extend(read_opml(path))
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) feed URL: {url!r}")
    if not urls:
        raise ValueError("no feed URLs: give URL... or --opml FILE")
    return tuple(dict.fromkeys(urls))


class _StopOnSignals:
    """SIGINT/SIGTERM set ``stop``: the entry being published is finished, then the poller exits."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self._previous: dict[int, object] = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.stop.is_set():
            raise KeyboardInterrupt  # a second signal: stop now, without finishing the entry
        log.info("%s received, stopping", signal.Signals(signum).name)
        self.stop.set()

    def __exit__(self, *exc_info):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """``newsflow feeds``: returns 0 after a clean stop, 2 on bad usage or a missing prerequisite."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # The root stays at WARNING (kafka-python is chatty at INFO); our own logger says what we do.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(args.log_level)
    try:
        urls = _feed_urls(args)
    except ValueError as exc:
        print(f"newsflow feeds: {exc}", file=sys.stderr)
        return 2
    from pipelines.config import default_bootstrap, default_state_dir

    bootstrap = args.bootstrap_servers or default_bootstrap(DEFAULT_BOOTSTRAP)
    state_dir = Path(args.state_dir or default_state_dir() / "feeds")
    config = FeedsConfig(feed_urls=urls, interval=args.interval, max_backoff=args.max_backoff,
                         max_polls=1 if args.once else args.max_polls, duration=args.duration,
                         report_every=args.report_every, forget_after_days=args.forget_after)
    http = HttpClient(HttpConfig(timeout=args.timeout, max_bytes=args.max_bytes,
                                 allow_private_addresses=args.allow_private_addresses,
                                 host_delay=max(0.0, args.host_delay)))
    state = FeedState(state_dir)
    try:
        state.open()
    except (StateLocked, OSError, sqlite3.Error) as exc:
        print(f"newsflow feeds: cannot open the state store in {state_dir}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.dry_run:
            sink: ArticleSink = JsonLinesSink(sys.stdout)
        else:
            from pipelines.io.broker import BrokerError
            from pipelines.io.kafka_client import make_producer
            from pipelines.io.topics import ensure_topics
            try:
                ensure_topics(bootstrap, [args.topic])
                # A short max_block_ms: a broker that goes away must not stall the poller for minutes.
                sink = KafkaSink(make_producer(bootstrap, max_block_ms=10_000), args.topic, timeout=10.0)
            except BrokerError as exc:
                print(f"newsflow feeds: {exc}", file=sys.stderr)
                return 2
        stop = threading.Event()
        robots = None if args.ignore_robots else RobotsPolicy(http)
        poller = FeedPoller(config, state, http, sink, stop=stop, robots=robots)
        log.info("polling %d feed(s) every %.0fs, state in %s, publishing to %s", len(urls),
                 config.interval, state_dir, "stdout" if args.dry_run else f"{args.topic} at {bootstrap}")
        try:
            with _StopOnSignals(stop):
                counts = poller.run()
        finally:
            sink.close()
        log.info("done: %s", counts.line())
        return 0
    finally:
        state.close()


if __name__ == "__main__":
    sys.exit(main())
