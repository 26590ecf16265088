"""Write the export tables as hive-partitioned Parquet (and CSV) files, atomically and idempotently.

Layout: ``OUT/{events,entities,articles}/dt=YYYY-MM-DD/part-00000.parquet`` (``.csv`` beside it
on request). Every partition holds all three tables, an empty file where a day has no rows, so a
glob over a table always finds its schema. Each file is written under a temporary dot-name and
renamed over the old one (readers see the old file or the new, never half of one); files of
partitions the new export no longer has are removed after. The same input gives the same bytes.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.export.tables import SCHEMAS

FORMATS = ("parquet", "csv")
PART = "part-00000"


@dataclass
class WriteReport:
    files: int = 0
    removed: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def _write_atomically(path: str, table: pa.Table, fmt: str) -> None:
    folder, name = os.path.split(path)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if fmt == "parquet":
            pq.write_table(table, tmp, compression="zstd")
        else:
            pacsv.write_csv(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _ours(name: str) -> bool:
    """A file this writer made: a finished part, or the temporary name of an interrupted one."""
    return (name.startswith(PART) and name.endswith(tuple(f".{fmt}" for fmt in FORMATS))) or \
        (name.startswith(f".{PART}") and name.endswith(".tmp"))


def write_tables(out: str, partitions: dict[str, dict[str, pa.Table]], formats: tuple[str, ...] = ("parquet",),
                 progress=None) -> WriteReport:
    """Write ``{partition: {table: Table}}`` under ``out``; remove our files of partitions no longer there."""
    report = WriteReport(rows={name: 0 for name in SCHEMAS})
    written: set[str] = set()
    for partition, tables in partitions.items():
        for name, table in tables.items():
            for fmt in formats:
                path = os.path.join(out, name, partition, f"{PART}.{fmt}")
                _write_atomically(path, table, fmt)
                written.add(os.path.abspath(path))
                report.files += 1
            report.rows[name] += table.num_rows
        if progress is not None:
            progress.update(1)
    for name in SCHEMAS:
        root = os.path.join(out, name)
        for folder, _dirs, files in os.walk(root, topdown=False):
            for file_name in files:
                path = os.path.abspath(os.path.join(folder, file_name))
                if _ours(file_name) and path not in written:
                    os.remove(path)
                    report.removed += 1
            if folder != root and not os.listdir(folder):
                os.rmdir(folder)
    return report
