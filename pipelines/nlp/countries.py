"""Mapping entity text to the ISO 3166-1 alpha-3 code of the country it is or belongs to.

The table (``resources/entities/countries.json``, built by ``scripts/build_entity_resources.py``)
holds country names, nationality words, capitals, large cities and metonyms ("the Kremlin").
It is read once, on first use.
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache

from pipelines.resources import resource_path

# Labels that never denote a country even when their text contains a country word
# ("Georgia Brown" the person, "June 4" the date).
NON_PLACE_LABELS = frozenset({"PERSON", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL",
                              "CARDINAL", "WORK_OF_ART", "LANGUAGE"})

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u2010": "-", "\u2011": "-",
                         "\u2013": "-", "\u2014": "-"})
_POSSESSIVE = re.compile(r"(?<=\w)'s\b|(?<=s)'(?=\s|$)")


def normalize_name(text: str) -> str:
    """Lookup key for a name: accents folded, lowercased, dots, possessive and 'the' dropped."""
    text = text.translate(_QUOTES).strip()
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _POSSESSIVE.sub("", text).strip("'")
    text = text.replace(".", "").replace("-", " ").lower()
    text = " ".join(text.split())
    if text.startswith("the "):
        text = text[4:]
    return text


@lru_cache(maxsize=1)
def country_table() -> dict[str, str]:
    """The shipped name -> ISO-3 table."""
    path = resource_path("entities/countries.json")
    return json.loads(path.read_text(encoding="utf-8"))


def country_for(text: str, label: str | None = None) -> str | None:
    """ISO-3 code of the country ``text`` names or belongs to, or None.

    ``label`` is the spaCy label when known: PERSON and numeric labels give None; ORG, FAC and
    similar fall back to a country word inside the name ("Ukraine's Security Service" -> UKR).
    """
    if not text or (label and label in NON_PLACE_LABELS):
        return None
    stripped = text.strip()
    if stripped == "us" or (stripped == "US" and label not in ("GPE", "LOC", None)):
        return None  # the pronoun, or "US" inside some other kind of name
    table = country_table()
    key = normalize_name(stripped)
    code = table.get(key)
    if code:
        return code
    # "Russian Security Council", "North Korean leader's": the longest known word run inside.
    return _contained(key, table, max_words=4)


def _contained(key: str, table: dict[str, str], max_words: int) -> str | None:
    """Code of the longest, leftmost word n-gram of ``key`` found in the table."""
    words = key.split()
    for size in range(min(max_words, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            gram = " ".join(words[start:start + size])
            if gram in table and not (size == 1 and gram in _AMBIGUOUS_SINGLE):
                return table[gram]
    return None


# Single words that are in the table but too ambiguous inside a longer name
# ("Victoria Beckham" aside, "Jersey Boys", "Georgia Tech", "Republican National Committee").
_AMBIGUOUS_SINGLE = frozenset({"us", "victoria", "jersey", "georgia", "washington", "york",
                               "new", "national", "republic", "central", "south", "north",
                               "west", "east", "union", "kingdom", "states", "united", "guinea",
                               "congo", "dominica", "chad", "niger", "jordan", "lincoln", "america", "korea",
                               "columbia", "english"})
