"""Resolving date expressions ("Wednesday", "last Tuesday", "March 21") against a publication time.

News text dates events relative to the day the article appeared, so a weekday name means the
most recent such day on or before publication and a month-day without a year means the latest
such day not after publication. The common shapes are handled by rules (fast, predictable);
anything else goes to ``dateparser`` with the publication time as its base.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

WEEKDAYS = {name: i for i, name in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
MONTHS = {name: i + 1 for i, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"))}
MONTHS.update({name[:3]: num for name, num in list(MONTHS.items())})
MONTHS["sept"] = 9
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
UNIT_DAYS = {"day": 1, "week": 7}

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(WEEKDAYS)
_LEADING = re.compile(r"^(?:on|by|since|from|until|till|at|in|of|the|this past|this|earlier|late|early)\s+",
                      re.I)
_TRAILING = re.compile(r"(?:'s|’s|[\s,.;:])+$")
_WEEKDAY = re.compile(rf"^(?:(last|past|next|this|previous)\s+)?({_WEEKDAY_RE})"
                      r"(?:\s+(morning|afternoon|evening|night))?$", re.I)
_MONTH_DAY = re.compile(rf"^({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?$", re.I)
_DAY_MONTH = re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?$", re.I)
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_AGO = re.compile(r"^(\d+|" + "|".join(NUMBER_WORDS) + r")\s+(day|week|month|year)s?\s+ago$", re.I)
_RELATIVE_WORDS = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1,
                   "the day before yesterday": -2, "the day after tomorrow": 2}
# Spans that are DATE entities but do not name a day: resolving them would invent precision.
_VAGUE = re.compile(r"\b(?:years?|decades?|centur(?:y|ies)|months|weeks|days|season|era|"
                    r"\d{4}s|recent|past|coming|next few|several|period)\b", re.I)


def _base_day(published_at: datetime | date | None) -> date | None:
    if published_at is None:
        return None
    return published_at.date() if isinstance(published_at, datetime) else published_at


def _shift_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for dom in (day.day, 30, 29, 28):
        try:
            return date(year, month, dom)
        except ValueError:
            continue
    raise ValueError("unreachable: every month has 28 days")


def _safe_date(year: int, month: int, dom: int) -> date | None:
    try:
        return date(year, month, dom)
    except ValueError:
        return None


def _month_day(month: int, dom: int, year: str | None, base: date | None) -> date | None:
    if year:
        return _safe_date(int(year), month, dom)
    if base is None:
        return None
    candidate = _safe_date(base.year, month, dom)
    # A yearless date more than a month after publication almost always means last year.
    if candidate and candidate > base + timedelta(days=31):
        candidate = _safe_date(base.year - 1, month, dom)
    return candidate


def _rules(text: str, base: date | None) -> date | None | bool:
    """Resolve by rule; False means "no rule applied" (try the fallback)."""
    lowered = text.lower()
    if lowered in _RELATIVE_WORDS:
        return base + timedelta(days=_RELATIVE_WORDS[lowered]) if base else None
    match = _WEEKDAY.match(text)
    if match:
        if base is None:
            return None
        modifier = (match.group(1) or "").lower()
        target = WEEKDAYS[match.group(2).lower()]
        if modifier == "next":
            return base + timedelta(days=(target - base.weekday() - 1) % 7 + 1)
        back = (base.weekday() - target) % 7
        if modifier in ("last", "past", "previous") and back == 0:
            back = 7
        return base - timedelta(days=back)
    match = _MONTH_DAY.match(text)
    if match:
        return _month_day(MONTHS[match.group(1).lower()], int(match.group(2)), match.group(3), base)
    match = _DAY_MONTH.match(text)
    if match:
        return _month_day(MONTHS[match.group(2).lower()], int(match.group(1)), match.group(3), base)
    match = _ISO.match(text)
    if match:
        return _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _AGO.match(text)
    if match:
        if base is None:
            return None
        raw = match.group(1).lower()
        count = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
        unit = match.group(2).lower()
        if unit in UNIT_DAYS:
            return base - timedelta(days=count * UNIT_DAYS[unit])
        return _shift_months(base, -count * (12 if unit == "year" else 1))
    match = re.match(r"^(last|next) (week|month|year)$", lowered)
    if match:
        return None  # names a period, not a day
    if re.fullmatch(r"\d{4}", text) or _VAGUE.search(text):
        return None
    return False


def _fallback(text: str, published_at: datetime | date | None) -> date | None:
    # dateparser costs milliseconds a call; without a month name or a number there is no
    # day it could find that the rules have not.
    if not (re.search(r"\d", text) or re.search(rf"\b(?:{_MONTH_RE})\b", text, re.I)):
        return None
    return _parse_with_dateparser(text, _base_day(published_at))


@lru_cache(maxsize=4096)
def _parse_with_dateparser(text: str, base: date | None) -> date | None:
    import dateparser  # slow to import; only needed for the rare shapes the rules miss

    settings = {"PREFER_DATES_FROM": "past", "REQUIRE_PARTS": ["day", "month"],
                "RETURN_AS_TIMEZONE_AWARE": False}
    if base is not None:
        settings["RELATIVE_BASE"] = datetime(base.year, base.month, base.day, 12)
    elif not re.search(r"\d{4}", text):
        return None  # a relative or yearless date cannot be placed without a base
    parsed = dateparser.parse(text, languages=["en"], settings=settings)
    return parsed.date() if parsed else None


def clear_cache() -> None:
    """Forget the memoised dateparser results (a benchmark's cold start)."""
    _parse_with_dateparser.cache_clear()


def resolve_date(text: str, published_at: datetime | date | None) -> str | None:
    """ISO date (YYYY-MM-DD) named by ``text`` relative to ``published_at``, or None.

    None when the text is not a date, names a period rather than a day ("the 1990s",
    "2024", "last year"), or is relative and there is no publication time.
    """
    if not text:
        return None
    cleaned = " ".join(text.replace("\u2019", "'").split())
    cleaned = _TRAILING.sub("", cleaned)
    previous = None
    while previous != cleaned:
        previous = cleaned
        cleaned = _LEADING.sub("", cleaned)
    if not cleaned or not re.search(r"[a-z0-9]", cleaned, re.I):
        return None
    base = _base_day(published_at)
    resolved = _rules(cleaned, base)
    if resolved is False:
        resolved = _fallback(cleaned, published_at)
    return resolved.isoformat() if resolved else None
