"""Main text, title, canonical URL and publish time of an article page (trafilatura + htmldate).

Pure functions over bytes already fetched: no network here, so the same code is tested on
pages built in memory.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from pipelines.article import InvalidArticle, parse_published_at

# Full timestamps when the page has them; a date-only page still yields midnight UTC.
_DATE_PARAMS = {"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
_MIN_TEXT_CHARS = 80


@dataclass(frozen=True)
class PageText:
    """What an article page gives: main text and, where the page says, title, canonical URL, time, language."""

    text: str
    title: str | None = None
    canonical_url: str | None = None
    published_at: datetime | None = None
    language: str | None = None


def _page_date(value: str | None) -> datetime | None:
    """The page's own date, parsed as an article's ``published_at``; None where it is not a date."""
    try:
        return parse_published_at(value)
    except InvalidArticle:
        return None


class _HeadScanner(HTMLParser):
    """Collects <html lang> and <link rel=canonical> without building a tree."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.canonical: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {k.lower(): (v or "") for k, v in attrs}
        if tag == "html" and self.lang is None and attributes.get("lang"):
            self.lang = attributes["lang"]
        elif tag == "link" and self.canonical is None and "canonical" in attributes.get("rel", "").lower().split():
            self.canonical = attributes.get("href") or None


def language_code(tag: str | None) -> str | None:
    """"en-GB" / "en_us" / "EN" -> "en" (ISO 639-1), anything else -> None."""
    if not tag:
        return None
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    return primary if re.fullmatch(r"[a-z]{2}", primary) else None


def _canonical_link(page: str, base_url: str) -> tuple[str | None, str | None]:
    scanner = _HeadScanner()
    # Only the head matters; scanning a bounded prefix keeps this cheap on big pages.
    scanner.feed(page[:200_000])
    canonical = None
    if scanner.canonical:
        candidate = urljoin(base_url, scanner.canonical.strip())
        if urlsplit(candidate).scheme in ("http", "https"):
            canonical = candidate
    return canonical, language_code(scanner.lang)


def extract_page(content: bytes | str, url: str) -> PageText | None:
    """Main text of an HTML article page, or None when it has too little text to be an article."""
    import trafilatura  # heavy import (lxml, htmldate), paid only when a page is extracted

    page = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    document = trafilatura.bare_extraction(
        content, url=url, with_metadata=True, include_comments=False, include_tables=False,
        date_extraction_params=dict(_DATE_PARAMS))
    if document is None:
        return None
    text = (document.text or "").strip()
    if len(text) < _MIN_TEXT_CHARS:
        return None
    canonical, lang = _canonical_link(page, url)
    return PageText(text=text, title=(document.title or None), canonical_url=canonical,
                    published_at=_page_date(document.date),
                    language=language_code(getattr(document, "language", None)) or lang)


class _TextCollector(HTMLParser):
    _BLOCKS = {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}
    _SKIP = {"script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(fragment: str | None) -> str:
    """Plain text of a feed summary, which may be HTML or escaped HTML; paragraphs kept."""
    if not fragment:
        return ""
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    text = "".join(collector.parts)
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _comparable(line: str) -> str:
    return " ".join(line.split()).casefold()


def drop_repeated_title(text: str, *titles: str | None) -> str:
    """``text`` without its first line when that line is one of ``titles`` (whitespace and case ignored).

    The text is left whole when the title is all there is, so a body never becomes empty.
    """
    first, _, rest = text.lstrip().partition("\n")
    wanted = {_comparable(title) for title in titles if title}
    if rest.strip() and _comparable(first) in wanted:
        return rest.strip()
    return text
