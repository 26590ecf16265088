"""`newsflow kafka up|down|status` against a real broker, and fast failures without one."""
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import free_port_pair

pytestmark = pytest.mark.integration


def newsflow(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "pipelines", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_up_status_down_are_idempotent(tmp_path):
    env = dict(os.environ, NEWSFLOW_HOME=str(tmp_path / "home"))
    port = str(free_port_pair())
    try:
        first = newsflow("kafka", "up", "--port", port, env=env)
        assert first.returncode == 0, first.stderr
        assert f"up on 127.0.0.1:{port}" in first.stdout
        assert "created topics articles.raw, articles.enriched, articles.dlq" in first.stdout
        second = newsflow("kafka", "up", "--port", port, env=env)
        assert second.returncode == 0 and "already running" in second.stdout
        status = newsflow("kafka", "status", env=env)
        assert status.returncode == 0 and f"up on 127.0.0.1:{port}" in status.stdout
    finally:
        down = newsflow("kafka", "down", env=env)
    assert down.returncode == 0 and "stopped" in down.stdout
    again = newsflow("kafka", "down", env=env)
    assert again.returncode == 0 and "not running" in again.stdout
    status = newsflow("kafka", "status", env=env)
    assert status.returncode == 3 and "not running" in status.stdout


def test_up_refuses_a_port_taken_by_someone_else(tmp_path, kafka_broker):
    env = dict(os.environ, NEWSFLOW_HOME=str(tmp_path / "other"))
    port = kafka_broker.rsplit(":", 1)[1]
    result = newsflow("kafka", "up", "--port", port, env=env)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already taken" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["consume"], ["publish", "seeds/articles.jsonl"]])
def test_no_broker_gives_a_clear_error_within_seconds(command):
    port = free_port_pair()
    started = time.monotonic()
    result = newsflow(*command, "--bootstrap-servers", f"127.0.0.1:{port}", timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert f"no Kafka broker answers at 127.0.0.1:{port}" in result.stderr
    assert elapsed < 20


def test_missing_java_or_maven_gives_a_one_line_error(tmp_path):
    import shutil

    only_java = tmp_path / "bin"
    only_java.mkdir()
    (only_java / "java").symlink_to(shutil.which("java"))
    port = str(free_port_pair())
    for path, expected in (("/nonexistent", "java not found on PATH"), (str(only_java), "mvn not found on PATH")):
        env = dict(os.environ, PATH=path, NEWSFLOW_HOME=str(tmp_path / "home"))
        result = newsflow("kafka", "up", "--port", port, env=env, timeout=60)
        assert result.returncode == 1
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
