"""Defaults and flags every command shares, and the only reader of the environment.

``NEWSFLOW_BOOTSTRAP_SERVERS`` and ``NEWSFLOW_HOME`` are read here, when a command builds its
flags; everything below the launchers receives explicit configuration.
"""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_BOOTSTRAP = "localhost:9092"
DEFAULT_MAX_ARTICLE_BYTES = 1_000_000
# Seconds of annotation one article may take (pipelines.pipeline.enrich.RecordBudget).
DEFAULT_RECORD_TIMEOUT_SECONDS = 10.0
# Beam metrics namespace of every newsflow counter.
METRICS_NAMESPACE = "newsflow"


def default_bootstrap(fallback: str = DEFAULT_BOOTSTRAP) -> str:
    """$NEWSFLOW_BOOTSTRAP_SERVERS, else ``fallback``."""
    return os.environ.get("NEWSFLOW_BOOTSTRAP_SERVERS") or fallback


def default_state_dir() -> Path:
    """$NEWSFLOW_HOME, else ~/.newsflow: the broker's jars and data, feed state."""
    return Path(os.environ.get("NEWSFLOW_HOME") or Path.home() / ".newsflow")


def add_bootstrap_flag(parser) -> None:
    parser.add_argument("--bootstrap-servers", default=default_bootstrap(), metavar="HOST:PORT[,...]",
                        help="Kafka bootstrap servers (default: $NEWSFLOW_BOOTSTRAP_SERVERS or localhost:9092)")


def add_state_dir_flag(parser) -> None:
    parser.add_argument("--state-dir", type=Path, default=default_state_dir(), metavar="DIR",
                        help="folder for the local broker's jars, data, pid and log "
                             "(default: $NEWSFLOW_HOME or ~/.newsflow)")


def add_log_flags(parser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="show Beam's and Kafka's own log lines (INFO)")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), default=None,
                        help="log level of Beam, Kafka and newsflow's libraries (default: only newsflow's own lines)")
