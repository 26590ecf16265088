"""Defaults every command shares, and the only reader of the environment.

``NEWSFLOW_BOOTSTRAP_SERVERS`` and ``NEWSFLOW_HOME`` are read here, when a command builds its
flags; everything below the launchers receives explicit configuration.
"""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_BOOTSTRAP = "localhost:9092"
DEFAULT_MAX_ARTICLE_BYTES = 1_000_000


def default_bootstrap(fallback: str = DEFAULT_BOOTSTRAP) -> str:
    """$NEWSFLOW_BOOTSTRAP_SERVERS, else ``fallback``."""
    return os.environ.get("NEWSFLOW_BOOTSTRAP_SERVERS") or fallback


def default_state_dir() -> Path:
    """$NEWSFLOW_HOME, else ~/.newsflow: the broker's jars and data, feed state."""
    return Path(os.environ.get("NEWSFLOW_HOME") or Path.home() / ".newsflow")
