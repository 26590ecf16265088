"""The commit ledger: only the contiguous low-water mark of delivered source ranges is committed."""
from pipelines.io.offsets import CommitLedger, PartitionLedger


def test_mark_advances_only_over_contiguous_ranges():
    ledger = PartitionLedger(base=10)
    assert ledger.delivered(12, 14) == 10   # 10..11 undelivered: nothing past the hole
    assert ledger.waiting == 1
    assert ledger.delivered(10, 11) == 15   # the hole is filled: both ranges count
    assert ledger.waiting == 0


def test_bundles_finishing_out_of_order_commit_nothing_past_the_first():
    ledger = PartitionLedger(base=0)
    # Three bundles of one partition: [0..4], [5..9], [10..14]; the last two finish first.
    assert ledger.delivered(10, 14) == 0
    assert ledger.delivered(5, 9) == 0
    assert ledger.delivered(0, 4) == 15


def test_offsets_kafka_skipped_are_settled_by_the_next_record():
    # Records at 3 and 7 (4..6 were transaction markers or compacted away): the record at 7
    # answers for [4, 7], so the mark passes the skipped offsets once it is delivered.
    ledger = PartitionLedger(base=3)
    ledger.delivered(3, 3)
    assert ledger.delivered(4, 7) == 8


def test_a_failed_bundle_whose_dead_letters_went_out_leaves_a_hole():
    # The bundle read [0..3]; the dead letters of 2 and 3 were sent, the enriched 0 and 1 never.
    ledger = PartitionLedger(base=0)
    ledger.delivered(2, 2)
    assert ledger.delivered(3, 3) == 0
    # The retry (or the restart) delivers 0 and 1 again: now everything is committable.
    ledger.delivered(0, 0)
    assert ledger.delivered(1, 1) == 4


def test_redelivered_and_overlapping_ranges_never_move_the_mark_back():
    ledger = PartitionLedger(base=5)
    assert ledger.delivered(0, 3) == 5      # below the committed base: already done
    assert ledger.delivered(3, 6) == 7      # straddles the mark
    assert ledger.delivered(5, 6) == 7      # a duplicate
    assert ledger.delivered(8, 9) == 7
    assert ledger.delivered(6, 8) == 10     # overlaps the waiting range


def test_commit_ledger_reports_each_advance_once_and_retries_unconfirmed_commits():
    ledger = CommitLedger()
    ledger.start(("t", 0), 0)
    ledger.start(("t", 1), 100)
    ledger.start(("t", 0), 50)  # a second start never resets a tracked partition
    ledger.delivered([("t", 0, 0, 2), ("t", 1, 101, 101)])
    assert ledger.due() == {("t", 0): 3}
    assert ledger.due() == {("t", 0): 3}   # the commit failed (no confirm): still due
    ledger.confirm({("t", 0): 3})
    assert ledger.due() == {}
    ledger.delivered([("t", 1, 100, 100)])
    assert ledger.due() == {("t", 1): 102}
