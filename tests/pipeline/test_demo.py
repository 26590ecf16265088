"""`newsflow demo` end to end: it starts its own broker when none answers, and stops it."""
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.io.broker import port_open
from tests.conftest import free_port_pair

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def test_demo_starts_a_broker_enriches_the_seeds_and_stops_it(tmp_path):
    port = free_port_pair()
    result = subprocess.run(
        [sys.executable, "-m", "pipelines", "demo", "--bootstrap-servers", f"127.0.0.1:{port}", "--port", str(port),
         "--state-dir", str(tmp_path / "state"), "--avro-dir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "starting a local one" in result.stderr and "kafka: stopped" in result.stderr
    assert not port_open(port)  # the broker it started is gone
    out = result.stdout
    assert "demo: 13 enriched, 0 dead-lettered" in out
    # The summary explains its notation before using it.
    assert out.lstrip().startswith("legend: ") and "p=confidence" in out and "[country sector]" in out
    assert "== Russian Security Council Secretary Shoigu Meets With Kim Jong-Un" in out
    assert "Sergei Shoigu" in out and "Kim Jong Un" in out and "Pyongyang (PRK)" in out
    assert "primary event: CONSULT" in out
    assert list((tmp_path / "out").glob("run-*/dt=2025-06-04/hour=*/*.avro"))
