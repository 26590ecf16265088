"""Run the real ``newsflow`` command in a subprocess, as a user would."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Nothing listens here: a command that talks to the broker before checking its own input fails on it.
DEAD_BROKER = "127.0.0.1:1"


def newsflow(*args, timeout=300, cwd=REPO, env=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "pipelines", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})}, stdin=stdin)


def one_line_error(result) -> str:
    """The command failed with exactly one line on stderr and no traceback; return that line."""
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    return lines[0]
