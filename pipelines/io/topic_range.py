"""The range flags shared by `replay --from-topic`, `report --topic` and `export --from-topic`:
``--start-offsets/--end-offsets`` (``PARTITION:OFFSET[,...]``) and ``--start-time/--end-time`` (ISO-8601)."""
from __future__ import annotations

from pipelines.article import parse_published_at, to_epoch_ms


def parse_offsets(spec: str | None) -> tuple:
    """'0:5,1:7' -> ((0, 5), (1, 7)); no spec -> (). A malformed part raises ValueError."""
    pairs = []
    for part in spec.split(",") if spec else ():
        partition, sep, offset = part.partition(":")
        if not sep or not partition.strip().isdigit() or not offset.strip().isdigit():
            raise ValueError(f"bad offset spec {part!r}: use PARTITION:OFFSET[,...]")
        pairs.append((int(partition), int(offset)))
    return tuple(pairs)


def time_ms(value: str | None) -> int | None:
    """An ISO-8601 time flag as epoch milliseconds (None when not given)."""
    return to_epoch_ms(parse_published_at(value)) if value else None
