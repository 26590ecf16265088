"""Stories: one ``story_id`` per news event, shared by every article that reports it.

An article joins the story of an earlier article when either

* **its text is a near copy** (wire copy under forty mastheads, a lightly edited version): the
  Jaccard similarity of the two bodies' word shingles, estimated by MinHash, is at least
  ``StoryConfig.duplicate_jaccard``; candidates come from locality-sensitive hashing (LSH:
  ``BANDS`` bands of ``ROWS`` MinHash values, a shared band makes a candidate); or
* **it covers the same event** (not text, and not embeddings): both articles lie within
  ``window_hours`` of each other (articles without ``published_at`` are not held back by the
  window), they share at least ``min_shared_entities`` (2 or more: candidates are found by pairs) of the canonical entities named in their
  headline and lead (``entity_id``, else the canonical name), with a Jaccard overlap of those
  lead entities of at least ``entity_jaccard``; and they agree on the event: text that overlaps
  at least ``related_jaccard`` (a rewrite of one report), or, when both are dated, the same
  primary PLOVER type with a shared dyad (event type, source and target actor).

Among the earlier articles that match, the best one (near copies first, then the highest
similarity, then the earliest, then the smallest id) gives its story; a same-event match counts
only against a story's first article (no drift along a chain). An article that matches none
starts a story. Assignment is greedy and never merges two stories afterwards: an id, once
given, stays.

**Ids.** A new story's id is derived from its first article's content: ``s-`` + 16 hex digits
of the hash of its first LSH band (the lowest MinHash values of four permutations), unless a
known story already holds that id (then from the article id). So exact copies that two workers
see at the same moment still start the same story without having seen each other, and every
id is a pure function of the articles in the order they were assigned.

**Order is the whole state.** ``StoryIndex`` is deterministic: the same signatures assigned in
the same order give the same ids. ``newsflow replay`` assigns in one step after enrichment in
a fixed order (publication time, then id), whatever the bundles or processes; ``newsflow run``
assigns in arrival order against an index that every worker shares through a compacted Kafka
topic (``pipelines.pipeline.stories``).

**Memory.** Every worker holds the whole index, so ``StoryIndex`` keeps only what matching needs,
packed (``_Entry``; the keys it is found by in sorted numpy arrays, ``_Postings``), and forgets by time (``memory_hours``, at least the window) and by count
(``max_entries``); a story goes with its last article. An article read again after it was
forgotten is assigned afresh.
"""
from __future__ import annotations

import hashlib
import heapq
import json
import re
import sys
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

import numpy as np

NUM_PERM = 128
BANDS, ROWS = 32, 4          # 32 x 4 = 128: a pair with Jaccard 0.5 is a candidate with p = 0.87
SHINGLE_WORDS = 5
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)
# Fixed permutations, so signatures agree across processes, machines and releases.
_rng = np.random.RandomState(20261201)
_A = _rng.randint(1, (1 << 61) - 1, size=NUM_PERM, dtype=np.uint64)
_B = _rng.randint(0, (1 << 61) - 1, size=NUM_PERM, dtype=np.uint64)
del _rng
_WORD = re.compile(r"\w+", re.UNICODE)
# Labels whose entities say who and where a story is about (not NORP "British", not dates or sums).
ENTITY_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW"})
LEAD_CHARS = 600             # the lead: the headline and the body's first 600 characters
FUTURE_TOLERANCE_S = 24 * 3600   # with a clock, dates further ahead do not move the index's time horizon


@dataclass(frozen=True)
class StoryConfig:
    """When two articles are the same story (chosen on development data: docs/stories.md)."""

    duplicate_jaccard: float = 0.5
    window_hours: float = 72.0
    min_shared_entities: int = 2
    entity_jaccard: float = 0.3
    related_jaccard: float = 0.2
    max_entries: int = 100_000  # the index forgets its first-added articles beyond this (about 3 KB each)
    memory_hours: float = 168.0  # ... and those published this long before the newest one (at least the window)


@dataclass(frozen=True)
class Signature:
    """What story matching needs of one enriched article (about 1.4 KB as JSON in the shared index)."""

    article_id: str
    time: float | None                 # published_at, epoch seconds
    minhash: tuple[int, ...]
    entities: frozenset[str]           # canonical entities of headline and lead
    event_type: str | None             # primary PLOVER type
    dyads: frozenset[str]              # "TYPE|source|target" of the article's events

    def to_json(self) -> dict:
        return {"id": self.article_id, "time": self.time, "minhash": list(self.minhash),
                "entities": sorted(self.entities), "event_type": self.event_type, "dyads": sorted(self.dyads)}

    @classmethod
    def from_json(cls, data: dict) -> "Signature":
        return cls(data["id"], data.get("time"), tuple(data["minhash"]), frozenset(data.get("entities") or ()),
                   data.get("event_type"), frozenset(data.get("dyads") or ()))


def shingles(text: str, words: int = SHINGLE_WORDS) -> set[str]:
    tokens = _WORD.findall(text.lower())
    if len(tokens) < words:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + words]) for i in range(len(tokens) - words + 1)}


def minhash(items: Iterable[str]) -> tuple[int, ...]:
    """The MinHash signature of a set of strings (stable hashes: crc32, fixed permutations)."""
    hashes = np.fromiter((zlib.crc32(item.encode("utf-8")) for item in items), dtype=np.uint64)
    if hashes.size == 0:
        return (int(_MAX_HASH),) * NUM_PERM
    # uint64 arithmetic wraps on overflow: still a fixed, well-mixed function of the shingle.
    permuted = np.bitwise_and((np.outer(hashes, _A) + _B) % _MERSENNE, _MAX_HASH)
    return tuple(int(v) for v in permuted.min(axis=0))


def jaccard(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of the sets behind two MinHash signatures."""
    return float(np.count_nonzero(np.asarray(a) == np.asarray(b))) / NUM_PERM


def band_keys(signature: tuple[int, ...]) -> list[bytes]:
    out = []
    for band in range(BANDS):
        values = signature[band * ROWS:(band + 1) * ROWS]
        out.append(band.to_bytes(1, "big") + b"".join(v.to_bytes(4, "big") for v in values))
    return out


def _packed(values: tuple[int, ...]) -> bytes:
    """A MinHash signature as 4-byte words (every value is below 2**32): 512 bytes, not 5 KB of ints."""
    return np.asarray(values, dtype=np.uint32).tobytes()


def _packed_jaccard(a: bytes, b: bytes) -> float:
    return float(np.count_nonzero(np.frombuffer(a, np.uint32) == np.frombuffer(b, np.uint32))) / NUM_PERM


def _pair_key(pair: tuple[str, str]) -> int:
    """An entity pair as an int for the in-memory index (a stable hash: the same in every process)."""
    return int.from_bytes(hashlib.blake2b("\0".join(pair).encode("utf-8"), digest_size=8).digest(), "big")


def band_index_keys(signature: tuple[int, ...]) -> list[int]:
    """The LSH bands as ints, for the in-memory index (tuples of ints hash the same in every process)."""
    return [hash((band,) + tuple(signature[band * ROWS:(band + 1) * ROWS])) for band in range(BANDS)]


def _epoch_seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value) / 1000.0  # epoch ms, as in the pipeline's records


def _entity_key(entity: dict) -> str | None:
    if entity.get("label") not in ENTITY_LABELS:
        return None
    if entity.get("field") == "body" and entity.get("start_char", 0) >= LEAD_CHARS:
        return None
    if entity.get("entity_id"):
        return entity["entity_id"]
    name = entity.get("canonical") or entity.get("text") or ""
    return name.strip().lower() or None


def _actor_key(actor: dict | None) -> str:
    if not actor:
        return "-"
    return actor.get("entity_id") or actor.get("country") or (actor.get("text") or "-").strip().lower()


def signature(record: dict) -> Signature:
    """The ``Signature`` of an ``EnrichedArticle`` record."""
    entities = {key for key in map(_entity_key, record.get("entities") or ()) if key}
    dyads = {f"{e['event_type']}|{_actor_key(e.get('source_actor'))}|{_actor_key(e.get('target_actor'))}"
             for e in record.get("events") or ()}
    return Signature(record["id"], _epoch_seconds(record.get("published_at")),
                     minhash(shingles(record.get("body") or "")), frozenset(entities),
                     record.get("primary_event_type"), frozenset(dyads))


def entity_pairs(sig: Signature) -> list[tuple[str, str]]:
    """Pairs of lead entities: the same-event candidates share one (a single entity such as "UK" is too common)."""
    names = sorted(sig.entities)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]


def _index_keys(sig: Signature) -> list[int]:
    """The keys an article is posted under: its LSH bands and its lead entity pairs."""
    return band_index_keys(sig.minhash) + [_pair_key(pair) for pair in entity_pairs(sig)]


def new_story_id(sig: Signature, taken) -> str:
    """``s-`` + 16 hex digits of the first LSH band, or of the article id when a known story has that."""
    candidate = "s-" + hashlib.blake2b(band_keys(sig.minhash)[0], digest_size=8).hexdigest()
    if candidate in taken:
        candidate = "s-" + hashlib.blake2b(sig.article_id.encode("utf-8"), digest_size=8).hexdigest()
    return candidate


def match_score(a: Signature, b: Signature, cfg: StoryConfig) -> float | None:
    """How strongly two articles are the same story (> 1: near copies), or None when they are not."""
    return _score(jaccard(a.minhash, b.minhash), a, b, cfg)


def _score(text: float, a, b, cfg: StoryConfig) -> float | None:
    """``match_score`` given the two texts' estimated Jaccard (``b`` a ``Signature`` or an index entry)."""
    if text >= cfg.duplicate_jaccard:
        return 1.0 + text
    dated = a.time is not None and b.time is not None
    if dated and abs(a.time - b.time) > cfg.window_hours * 3600:
        return None
    shared = len(a.entities & b.entities)
    if shared < cfg.min_shared_entities:
        return None
    overlap = shared / len(a.entities | b.entities)
    if overlap < cfg.entity_jaccard:
        return None
    # The event alone (no shared text) only within a known time window: an undated archive cannot
    # tell one hearing, match or speech from the next between the same actors.
    same_event = dated and a.event_type is not None and a.event_type == b.event_type and bool(a.dyads & b.dyads)
    if same_event or text >= cfg.related_jaccard:
        return overlap
    return None


class _Entry:
    """A known article as the index holds it: what matching needs, packed (with its postings about 3 KB; it was 14, then 6)."""

    __slots__ = ("number", "article_id", "time", "minhash", "entities", "event_type", "dyads", "story")

    def __init__(self, number: int, sig: Signature, story: str):
        # Interned: the same entity, event type and story are held once however many articles name them.
        self.number = number
        self.article_id = sig.article_id
        self.time = sig.time
        self.minhash = _packed(sig.minhash)
        self.entities = frozenset(map(sys.intern, sig.entities))
        self.event_type = sys.intern(sig.event_type) if sig.event_type else sig.event_type
        self.dyads = frozenset(map(sys.intern, sig.dyads))
        self.story = sys.intern(story)


_KEY_MASK = (1 << 64) - 1


class _Postings:
    """Index keys (LSH bands, entity pairs: 64-bit ints) -> the numbers of the entries that hold them.

    Each article posts about fifty keys, so this is most of the index's memory. Postings are added
    to a small dict and merged every ``merge_at`` postings into two sorted numpy arrays (16 bytes a
    posting, where a dict entry with its int key takes about 100). Forgetting an entry touches no
    posting: lookups skip numbers no longer held (``live``), and the next merge drops them, so
    the dead postings kept are fewer than ``merge_at`` plus the forgotten articles' since the last
    merge.
    """

    def __init__(self, merge_at: int = 1 << 13):
        self.merge_at = merge_at
        self._keys = np.empty(0, np.uint64)
        self._numbers = np.empty(0, np.int64)
        self._recent: dict[int, int | list[int]] = {}
        self._recent_count = 0

    def add(self, keys: Iterable[int], number: int, live: Callable[[], Iterable[int]]) -> None:
        for key in keys:
            key &= _KEY_MASK
            held = self._recent.get(key)
            # Most keys hold one entry: the number itself, a list only from the second on.
            if held is None:
                self._recent[key] = number
            elif isinstance(held, int):
                self._recent[key] = [held, number]
            else:
                held.append(number)
            self._recent_count += 1
        if self._recent_count >= self.merge_at:
            self.merge(live())

    def get(self, keys: Iterable[int]) -> list[int]:
        """The numbers posted under any of ``keys`` (forgotten ones included: the caller skips them)."""
        wanted = [key & _KEY_MASK for key in keys]
        found: list[int] = []
        for key in wanted:
            held = self._recent.get(key)
            if held is not None:
                found.extend((held,) if isinstance(held, int) else held)
        if self._keys.size and wanted:
            query = np.asarray(wanted, np.uint64)
            lo = np.searchsorted(self._keys, query, "left")
            hi = np.searchsorted(self._keys, query, "right")
            for a, b in zip(lo.tolist(), hi.tolist()):
                if b > a:
                    found.extend(self._numbers[a:b].tolist())
        return found

    def merge(self, live: Iterable[int]) -> None:
        """Move the recent postings into the sorted arrays, dropping those of entries no longer held.

        Linear in the postings held (the arrays are sorted already; only the recent ones are sorted).
        """
        held = np.fromiter(live, np.int64)
        pairs = sorted((key, n) for key, posted in self._recent.items()
                       for n in ((posted,) if isinstance(posted, int) else posted))
        keys = np.fromiter((k for k, _ in pairs), np.uint64, len(pairs))
        numbers = np.fromiter((n for _, n in pairs), np.int64, len(pairs))
        old_keys, old_numbers = self._keys, self._numbers
        if held.size:
            # Numbers are given in order, so the ones held lie between the oldest held and the newest.
            first = int(held.min())
            alive = np.zeros(int(max(held.max(), numbers.max(initial=0), old_numbers.max(initial=0))) - first + 1, bool)
            alive[held - first] = True
            keep = (old_numbers >= first) & alive[np.maximum(old_numbers - first, 0)]
            old_keys, old_numbers = old_keys[keep], old_numbers[keep]
            keep = (numbers >= first) & alive[np.maximum(numbers - first, 0)]
            keys, numbers = keys[keep], numbers[keep]
        else:
            old_keys, old_numbers = old_keys[:0], old_numbers[:0]
            keys, numbers = keys[:0], numbers[:0]
        at = np.searchsorted(old_keys, keys, "right")
        self._keys, self._numbers = np.insert(old_keys, at, keys), np.insert(old_numbers, at, numbers)
        self._recent, self._recent_count = {}, 0

    def numbers(self) -> list[int]:
        """Every number posted (for checks)."""
        return self._numbers.tolist() + [n for held in self._recent.values()
                                         for n in ((held,) if isinstance(held, int) else held)]


class StoryIndex:
    """The articles seen so far and their stories; ``assign`` is deterministic given the order of calls.

    Bounded two ways (``StoryConfig``): by count, the first-added articles are forgotten beyond
    ``max_entries``; by time, articles published more than ``memory_hours`` (at least the window)
    before the newest one seen are forgotten. ``clock`` (epoch seconds; the stream passes the wall
    clock) keeps an article dated in the future from moving that horizon: only dates up to a day
    ahead of it count. Without a clock (the replay, which assigns in publication order) every date counts.
    """

    def __init__(self, cfg: StoryConfig = StoryConfig(), clock: Callable[[], float] | None = None):
        self.cfg = cfg
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()   # in the order added
        self._numbered: dict[int, _Entry] = {}                    # the same entries by their number
        self._next_number = 0
        # LSH bands and entity pairs (by a stable hash) -> entry numbers.
        self._postings = _Postings()
        self._stories: dict[str, int] = {}                # story -> its articles in the index
        self._founders: dict[str, str | None] = {}        # story -> its first article (None once forgotten)
        self._dated: list[tuple[float, str]] = []         # a heap: the oldest publication first
        self._newest: float | None = None
        self._memory_s = max(cfg.memory_hours, cfg.window_hours) * 3600

    def __len__(self) -> int:
        return len(self._entries)

    def story_of(self, article_id: str) -> str | None:
        entry = self._entries.get(article_id)
        return entry.story if entry else None

    def candidates(self, sig: Signature) -> set[str]:
        numbered = self._numbered
        found = {numbered[n].article_id for n in self._postings.get(_index_keys(sig)) if n in numbered}
        found.discard(sig.article_id)
        return found

    def best_match(self, sig: Signature) -> str | None:
        """The story of the best-matching known article, or None."""
        best, best_key = None, None
        packed = _packed(sig.minhash)
        for other_id in self.candidates(sig):
            other = self._entries[other_id]
            score = _score(_packed_jaccard(packed, other.minhash), sig, other, self.cfg)
            # Same-event matches count against a story's first article only, so that a story does
            # not drift from event to event along a chain of loosely related articles.
            if score is None or (score <= 1.0 and self._founders.get(other.story) != other_id):
                continue
            key = (-score, other.time if other.time is not None else float("inf"), other_id)
            if best_key is None or key < best_key:
                best, best_key = other.story, key
        return best

    def assign(self, sig: Signature) -> str:
        """The story of ``sig`` (the same again for an article id already known), remembered."""
        known = self.story_of(sig.article_id)
        if known is not None:
            return known
        story = self.best_match(sig) or new_story_id(sig, self._stories)
        self.add(sig, story)
        return story

    def add(self, sig: Signature, story: str) -> None:
        """Remember an assignment (made here or by another worker); a known article id is kept as it was."""
        if sig.article_id in self._entries:
            return
        entry = _Entry(self._next_number, sig, story)
        self._next_number += 1
        article_id = entry.article_id
        self._entries[article_id] = entry
        self._numbered[entry.number] = entry
        self._stories[entry.story] = self._stories.get(entry.story, 0) + 1
        self._founders.setdefault(entry.story, article_id)
        self._postings.add(_index_keys(sig), entry.number, self._numbered.keys)
        if sig.time is not None:
            heapq.heappush(self._dated, (sig.time, article_id))
            if self._clock is None or sig.time <= self._clock() + FUTURE_TOLERANCE_S:
                self._newest = sig.time if self._newest is None else max(self._newest, sig.time)
        self._forget_beyond_bounds()

    def _forget_beyond_bounds(self) -> None:
        while len(self._entries) > self.cfg.max_entries:
            self._forget(next(iter(self._entries)))
        if self._newest is not None:
            horizon = self._newest - self._memory_s
            while self._dated and self._dated[0][0] < horizon:
                _, article_id = heapq.heappop(self._dated)
                if article_id in self._entries:
                    self._forget(article_id)
        if len(self._dated) > 2 * len(self._entries) + 1024:
            # Articles forgotten by count are still in the heap: rebuild it from the ones kept.
            self._dated = [(e.time, i) for i, e in self._entries.items() if e.time is not None]
            heapq.heapify(self._dated)

    def _forget(self, article_id: str) -> None:
        entry = self._entries.pop(article_id)
        del self._numbered[entry.number]      # its postings are skipped from now on and dropped at the next merge
        left = self._stories[entry.story] - 1
        if left:
            self._stories[entry.story] = left
            # A forgotten founder takes no new same-event matches (near copies of the others still join).
            if self._founders.get(entry.story) == article_id:
                self._founders[entry.story] = None
        else:
            # Its last article gone, the story is forgotten too (the index stays bounded); its id
            # comes again only from an article with the founder's first band: in practice a copy of it.
            del self._stories[entry.story]
            del self._founders[entry.story]


def assignment_order(sig: Signature):
    """The replay's order: dated articles by publication time, then undated ones; ties by id."""
    return (sig.time is None, sig.time or 0.0, sig.article_id)


def assign_in_order(signatures: Iterable[Signature], cfg: StoryConfig = StoryConfig()) -> dict[str, str]:
    """article id -> story id, assigning in ``assignment_order`` (the same whatever order they come in)."""
    index = StoryIndex(cfg)
    return {sig.article_id: index.assign(sig) for sig in sorted(signatures, key=assignment_order)}


def encode_entry(sig: Signature, story: str) -> bytes:
    """One entry of the shared index topic (JSON, keyed by article id)."""
    return json.dumps({"story_id": story, "signature": sig.to_json()}, separators=(",", ":")).encode("utf-8")


def decode_entry(value: bytes) -> tuple[Signature, str]:
    data = json.loads(value)
    return Signature.from_json(data["signature"]), data["story_id"]
