"""Which source offsets may be committed: the contiguous low-water mark of delivered read ranges.

The rule: offset ``c`` of a partition is committed only when every offset below ``c`` that the
group has not already committed was delivered (enriched topic + Avro file, or dead-letter topic).
It must hold on any runner, so it may not rest on fusion, on bundle order, or on one
``Delivery`` per process seeing whole bundles:

* The reader says what each record answers for. A record read at ``offset`` covers
  ``[read_from, offset]``: ``read_from`` is where this read of the partition resumed (the
  restriction's start) for the first record of a poll, else the previous record's offset + 1.
  Offsets Kafka skips (transaction markers, compacted records) thus fall inside the range of
  the next record and are settled when it is delivered; consecutive ranges tile the partition
  with no gap and no overlap, whichever worker delivers them and in whatever order.
* The tracker starts each partition at the group's committed offset, read from Kafka when it
  first meets the partition (the reader commits its start when the group had none, so this is
  exactly where reading began). A committed offset is by induction a true low-water mark, so a
  tracker that starts there, in any process, never commits past an undelivered record.
* A range counts only once its outputs are durable: ``Delivery`` hands ranges over after its
  producer flush and Avro rename, so a failed bundle's undelivered records (even if its dead
  letters went out first), a bundle still running while a later one finishes, or a process
  killed between output and commit all leave a hole the mark cannot pass; a restart re-reads
  from the hole (at-least-once; records above it may be delivered twice, with the same id).

Bundle finalization (commit from the reader when the runner says a bundle is done) was the
other option; it was not taken because the runner's "done" means "persisted by the runner",
not "delivered to Kafka and the Avro folder", and a local runner's state dies with its process.
"""
from __future__ import annotations

import heapq
from typing import Iterable


class PartitionLedger:
    """Delivered offset ranges of one partition above a committed base; ``mark`` is the next offset to commit."""

    def __init__(self, base: int):
        self.mark = base
        self._pending: list[tuple[int, int]] = []  # (first, last + 1) delivered above the mark

    def delivered(self, first: int, last: int) -> int:
        """Record ``[first, last]`` as delivered; return the (possibly advanced) mark."""
        if last + 1 > self.mark:
            heapq.heappush(self._pending, (first, last + 1))
        # Ranges that start at or below the mark extend it; others wait for the hole below them.
        while self._pending and self._pending[0][0] <= self.mark:
            _, end = heapq.heappop(self._pending)
            self.mark = max(self.mark, end)
        return self.mark

    @property
    def waiting(self) -> int:
        """Ranges delivered above a hole (not yet committable)."""
        return len(self._pending)


class CommitLedger:
    """Per-partition ledgers; ``due()`` gives the marks that advanced past the last ``confirm``-ed commit."""

    def __init__(self):
        self._partitions: dict[tuple[str, int], PartitionLedger] = {}
        self._committed: dict[tuple[str, int], int] = {}

    def knows(self, tp: tuple[str, int]) -> bool:
        return tp in self._partitions

    def start(self, tp: tuple[str, int], base: int) -> None:
        """Begin tracking ``tp`` at ``base``, the group's committed offset (everything below is done)."""
        if tp not in self._partitions:
            self._partitions[tp] = PartitionLedger(base)
            self._committed[tp] = base

    def delivered(self, ranges: Iterable[tuple[str, int, int, int]]) -> None:
        """``(topic, partition, first, last)`` ranges whose outputs are durable."""
        for topic, partition, first, last in ranges:
            self._partitions[(topic, partition)].delivered(first, last)

    def due(self) -> dict[tuple[str, int], int]:
        """Offsets to commit now: partitions whose mark moved past what was last committed."""
        return {tp: ledger.mark for tp, ledger in self._partitions.items() if ledger.mark > self._committed[tp]}

    def confirm(self, committed: dict[tuple[str, int], int]) -> None:
        """The broker accepted these commits (a failed commit is simply due again next time)."""
        self._committed.update(committed)
