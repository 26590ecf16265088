"""Properties of the commit ledger: for any order, duplication or loss of delivered ranges, the
mark is the first undelivered offset: it never passes a hole, never moves back, and reaches
the end once everything is delivered."""
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.io.offsets import CommitLedger

TOPIC = "articles.raw"


@st.composite
def partitions(draw):
    """Per partition: the committed base, the end, and the delivered ranges of two readings of it
    (a first read and a restart's re-read cut into bundles differently), some ranges lost,
    some repeated, reaching below the base too."""
    plans = {}
    for partition in range(draw(st.integers(1, 3))):
        base = draw(st.integers(0, 40))
        end = base + draw(st.integers(0, 60))
        ranges = []
        for _ in range(2):
            start = max(0, base - draw(st.integers(0, 5)))
            inner = draw(st.sets(st.integers(start + 1, max(start + 1, end - 1)), max_size=15))
            cuts = sorted({c for c in inner if c < end} | {start, end})
            ranges += [(first, nxt - 1) for first, nxt in zip(cuts, cuts[1:]) if nxt > first]
        plans[partition] = (base, end, ranges)
    deliveries = [(p, r) for p, (_, _, ranges) in plans.items() for r in ranges]
    kept = draw(st.lists(st.sampled_from(deliveries), max_size=3 * len(deliveries))) if deliveries else []
    lost_everything_else = draw(st.booleans())
    if not lost_everything_else:
        kept += draw(st.permutations(deliveries))
    return plans, kept


@settings(max_examples=300)
@given(partitions())
def test_mark_is_the_first_undelivered_offset_in_any_order(plan):
    plans, deliveries = plan
    ledger = CommitLedger()
    for p, (base, _, _) in plans.items():
        ledger.start((TOPIC, p), base)
    delivered = {p: set(range(0, base)) for p, (base, _, _) in plans.items()}  # below the base: committed
    marks = {p: base for p, (base, _, _) in plans.items()}
    for p, (first, last) in deliveries:
        ledger.delivered([(TOPIC, p, first, last)])
        delivered[p].update(range(first, last + 1))
        due = ledger.due()
        for q in plans:
            mark = due.get((TOPIC, q), marks[q])
            assert mark >= marks[q], "the mark moved back"
            hole = next(o for o in range(len(delivered[q]) + 1) if o not in delivered[q])
            assert mark == hole, f"partition {q}: mark {mark}, first undelivered {hole}"
            marks[q] = mark
        ledger.confirm(due)
        assert ledger.due() == {}
    for p, (base, end, _) in plans.items():
        if set(range(base, end)) <= delivered[p]:
            assert marks[p] == end
