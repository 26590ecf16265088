"""Near-duplicate detection between training and evaluation items, by word shingles.

Exact-text filtering misses the archive's re-posted stories and paraphrased rewrites ("Kenya and
Tanzania sign trade pact" over the same lead). An item's shingles are its word 5-grams
(lower-cased, punctuation dropped, headline and text together; texts shorter than five words
are one shingle). Two items are near-duplicates when the **containment** of the smaller
shingle set in the larger one is at least ``THRESHOLD`` (0.5): half of the shorter item's
5-word runs recur verbatim in the other. Containment rather than Jaccard, so that a headline
+ lead repeated inside a whole article still counts. The threshold was set by reading pairs:
independently written items on the same event share well under 0.2 of their 5-grams; rewrites
of one text share most of them.
"""
from __future__ import annotations

import re
from collections import defaultdict

N = 5
THRESHOLD = 0.5
_WORD = re.compile(r"[a-z0-9]+")


def item_text(item: dict) -> str:
    """Headline and text of a gold or training item."""
    return f"{item.get('title') or ''} {item.get('text') or ''}"


def shingles(text: str, n: int = N) -> frozenset[str]:
    """The word n-grams of ``text`` (strings, so results never depend on hash seeds)."""
    words = _WORD.findall(text.lower())
    if not words:
        return frozenset()
    if len(words) < n:
        return frozenset({" ".join(words)})
    return frozenset(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))


def containment(a: frozenset, b: frozenset) -> float:
    """Share of the smaller set found in the larger one (0.0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


class ShingleIndex:
    """Shingle sets of reference texts, with an inverted index for fast near-duplicate queries."""

    def __init__(self, texts: list[str] = (), threshold: float = THRESHOLD):
        self.threshold = threshold
        self._sets: list[frozenset] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        for text in texts:
            self.add(text)

    def add(self, text: str) -> int:
        """Index one text; returns its position."""
        pos = len(self._sets)
        sh = shingles(text)
        self._sets.append(sh)
        for h in sh:
            self._postings[h].append(pos)
        return pos

    def matches(self, text: str) -> list[tuple[int, float]]:
        """(position, containment) of every indexed text that ``text`` near-duplicates."""
        sh = shingles(text)
        counts: dict[int, int] = defaultdict(int)
        for h in sh:
            for pos in self._postings.get(h, ()):
                counts[pos] += 1
        out = []
        for pos, shared in counts.items():
            score = shared / min(len(sh), len(self._sets[pos]))
            if score >= self.threshold:
                out.append((pos, score))
        return sorted(out, key=lambda x: -x[1])


def drop_near_duplicates(keep: list[dict], against: list[dict], threshold: float = THRESHOLD) -> list[dict]:
    """Items of ``keep`` that near-duplicate no item of ``against``."""
    index = ShingleIndex([item_text(i) for i in against], threshold)
    return [item for item in keep if not index.matches(item_text(item))]


def dedupe_across_groups(items: list[dict], group_of, threshold: float = THRESHOLD) -> list[dict]:
    """Items in order, leaving out any that near-duplicates an earlier kept item of another group.

    Grouped cross-validation tests one group (a writer) on a model trained on the others: a
    near-copy in another group would leak the test item into training.
    """
    index = ShingleIndex(threshold=threshold)
    groups: list = []
    kept = []
    for item in items:
        text = item_text(item)
        group = group_of(item)
        if any(groups[pos] != group for pos, _ in index.matches(text)):
            continue
        index.add(text)
        groups.append(group)
        kept.append(item)
    return kept
