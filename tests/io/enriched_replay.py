"""Real enriched Avro output for the export and consumer-library tests: one `newsflow replay` of the
seed articles (13 articles, two bad lines for the dead-letter folder), run once per test session,
and the fixtures the tests that read it import (``replay_dir``, ``records``)."""
from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pipelines.io.consumer import AvroFolderReader

REPO = Path(__file__).resolve().parents[2]
PROCESSED_AT = "2026-01-01T00:00:00Z"


@functools.lru_cache(maxsize=None)
def enriched_replay() -> Path:
    """A replay folder (``dt=…/part-00000.avro`` and ``dlq/``) of the seeds plus two bad lines."""
    folder = Path(tempfile.mkdtemp(prefix="enriched-replay-"))  # pytest's own temp folder (tests/conftest.py)
    archive = folder / "archive.jsonl"
    archive.write_bytes((REPO / "seeds" / "articles.jsonl").read_bytes() + b'{not json\n{"title": "no body"}\n')
    out = folder / "avro"
    result = subprocess.run([sys.executable, "-m", "pipelines", "replay", "--input", str(archive),
                             "--avro-dir", str(out), "--processed-at", PROCESSED_AT, "--no-progress",
                             # no time budget: on a loaded machine an article could be dead-lettered as Timeout
                             "--record-timeout-seconds", "0"],
                            capture_output=True, text=True, timeout=900, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "read 15 = enriched 13 + dead-lettered 2" in result.stdout, result.stdout
    return out


@pytest.fixture(scope="module")
def replay_dir():
    return enriched_replay()


@pytest.fixture(scope="module")
def records(replay_dir):
    return list(AvroFolderReader(str(replay_dir)))
