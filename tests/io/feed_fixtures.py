"""Feeds and article pages built from the repository's seed articles, served by a real HTTP server on 127.0.0.1.

The server answers conditional GETs with 304 (and counts them), serves errors, redirect loops,
huge and non-HTML bodies on fixed paths, and records every request for the tests to inspect.
"""
from __future__ import annotations

import collections
import gzip
import hashlib
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "articles.jsonl"
BASE_TIME = datetime(2005, 1, 10, 9, 30, tzinfo=timezone.utc)
NAV = '<nav><a href="/">Home</a> | <a href="/news">News navigation menu</a></nav>'
FOOTER = "<footer>Copyright fixture broadcaster. Terms of use. Privacy policy.</footer>"


def load_records(n: int = 8) -> list[dict]:
    """The first ``n`` short sample articles of ``seeds/articles.jsonl``, an hour apart.

    Each sentence becomes a paragraph, so pages have several ``<p>`` and the feed summary
    (the first paragraph) is shorter than the page text.
    """
    records = []
    with open(SEEDS, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if not record["id"].startswith("sample-"):
                continue  # the long scraped seed article has captions and bylines, not plain paragraphs
            sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", record["body"].strip())
            record["body"] = "\n\n".join(sentences)
            record["published"] = BASE_TIME + timedelta(hours=len(records))
            records.append(record)
            if len(records) == n:
                break
    assert len(records) == n, f"{SEEDS} has fewer than {n} sample articles"
    return records


def article_html(record: dict, canonical: str | None = None, with_time: bool = True) -> str:
    """An article page with boilerplate around the body, as a news site would render it."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in record["body"].split("\n\n") if p.strip())
    head = f"<title>{html.escape(record['title'])} - Fixture News</title>"
    if canonical:
        head += f'<link rel="canonical" href="{html.escape(canonical)}">'
    if with_time:
        head += f'<meta property="article:published_time" content="{record["published"].isoformat()}">'
    return (f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">{head}</head><body>{NAV}'
            f'<main><article><h1>{html.escape(record["title"])}</h1>{paragraphs}</article></main>'
            f"{FOOTER}</body></html>")


def summary_of(record: dict) -> str:
    return record["body"].split("\n\n")[0][:300]


def rss_feed(title: str, items: list[tuple[dict, str]], with_dates: bool = True) -> str:
    """RSS 2.0; ``items`` are (record, link) pairs."""
    parts = []
    for record, link in items:
        date = f"<pubDate>{format_datetime(record['published'])}</pubDate>" if with_dates else ""
        parts.append(f"<item><title>{html.escape(record['title'])}</title><link>{html.escape(link)}</link>"
                     f"<guid isPermaLink=\"false\">{record['id']}</guid>{date}"
                     f"<description>{html.escape(summary_of(record))}</description></item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{html.escape(title)}</title>'
            f"<link>http://example.invalid/</link><description>fixture</description><language>en-gb</language>"
            f"{''.join(parts)}</channel></rss>")


def atom_feed(title: str, items: list[tuple[dict, str]]) -> str:
    """Atom 1.0 with ids, published times and HTML summaries."""
    parts = [f"<entry><title>{html.escape(record['title'])}</title><link rel=\"alternate\" href=\"{html.escape(link)}\"/>"
             f"<id>urn:fixture:{record['id']}</id><published>{record['published'].isoformat()}</published>"
             f"<updated>{record['published'].isoformat()}</updated>"
             f"<summary type=\"html\">{html.escape('<p>' + html.escape(summary_of(record)) + '</p>')}</summary></entry>"
             for record, link in items]
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{html.escape(title)}</title><id>urn:fixture:{hashlib.md5(title.encode()).hexdigest()}</id>"
            f"<updated>{BASE_TIME.isoformat()}</updated>{''.join(parts)}</feed>")


def rdf_feed(title: str, items: list[tuple[dict, str]], with_dates: bool = True) -> str:
    """RSS 1.0 (RDF) with dc:date."""
    parts = []
    for record, link in items:
        date = f"<dc:date>{record['published'].isoformat()}</dc:date>" if with_dates else ""
        parts.append(f'<item rdf:about="{html.escape(link)}"><title>{html.escape(record["title"])}</title>'
                     f"<link>{html.escape(link)}</link><description>{html.escape(summary_of(record))}</description>"
                     f"{date}</item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<channel rdf:about="http://example.invalid/rdf"><title>{html.escape(title)}</title>'
            f"<link>http://example.invalid/</link><description>fixture</description></channel>"
            f"{''.join(parts)}</rdf:RDF>")


@dataclass
class Route:
    """One path's answer; ``etag``/``last_modified`` make it answer conditional GETs with 304."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    gzip: bool = False
    send_length: bool = True


class FixtureServer:
    """A threaded HTTP server on 127.0.0.1 with an ephemeral port and per-path routes."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.hits: collections.Counter = collections.Counter()
        self.not_modified: collections.Counter = collections.Counter()
        self.conditional: collections.Counter = collections.Counter()
        self.user_agents: list[str] = []
        self.validators: list[tuple[str, str | None, str | None]] = []  # (path, If-None-Match, If-Modified-Since)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server._serve(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "FixtureServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def set(self, path: str, body: str | bytes = b"", **kwargs) -> Route:
        route = Route(body=body.encode("utf-8") if isinstance(body, str) else body, **kwargs)
        with self._lock:
            self.routes[path] = route
        return route

    def set_feed(self, path: str, xml: str, content_type: str = "application/rss+xml; charset=utf-8",
                 version: str = "1", **kwargs) -> Route:
        """A feed with an ETag and Last-Modified that change with ``version``."""
        modified = format_datetime(BASE_TIME + timedelta(days=int(version)), usegmt=True)
        kwargs.setdefault("etag", f'"{path}-v{version}"')
        kwargs.setdefault("last_modified", modified)
        return self.set(path, xml, content_type=content_type, **kwargs)

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path
        with self._lock:
            self.hits[path] += 1
            self.user_agents.append(request.headers.get("User-Agent", ""))
            route = self.routes.get(path)
        if route is None:
            request.send_error(404)
            return
        if route.delay:
            time.sleep(route.delay)
        if_none_match = request.headers.get("If-None-Match")
        if_modified_since = request.headers.get("If-Modified-Since")
        if if_none_match or if_modified_since:
            with self._lock:
                self.conditional[path] += 1
                self.validators.append((path, if_none_match, if_modified_since))
        fresh = ((route.etag and if_none_match == route.etag)
                 or (not if_none_match and route.last_modified and if_modified_since == route.last_modified))
        if fresh:
            with self._lock:
                self.not_modified[path] += 1
            request.send_response(304)
            request.end_headers()
            return
        body = route.body
        request.send_response(route.status)
        if route.status < 300 or route.status >= 400:
            request.send_header("Content-Type", route.content_type)
        if route.etag:
            request.send_header("ETag", route.etag)
        if route.last_modified:
            request.send_header("Last-Modified", route.last_modified)
        if route.gzip and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            request.send_header("Content-Encoding", "gzip")
        for name, value in route.headers.items():
            request.send_header(name, value)
        if route.send_length:
            request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        try:
            request.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (size cap), as it should
