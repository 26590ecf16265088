"""Defaults and flags every command shares, and the only reader of the environment.

``NEWSFLOW_BOOTSTRAP_SERVERS``, ``NEWSFLOW_HOME`` and ``NEWSFLOW_BROKER_TIMEOUT_SECONDS`` are read here, when a command builds its
flags; everything below the launchers receives explicit configuration.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_BOOTSTRAP = "localhost:9092"
DEFAULT_MAX_ARTICLE_BYTES = 1_000_000
# Seconds of annotation one article may take (pipelines.pipeline.enrich.RecordBudget).
DEFAULT_RECORD_TIMEOUT_SECONDS = 10.0
# Seconds a running command waits for a broker that went away before it gives up (pipelines.io.retry).
DEFAULT_BROKER_TIMEOUT_SECONDS = 300.0
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


def positive_seconds(text: str) -> float:
    """argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a number of seconds, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def add_broker_timeout_flag(parser) -> None:
    """How long run, publish and feeds wait for a broker that went away while they work."""
    # A string default goes through ``type`` too: a bad $NEWSFLOW_BROKER_TIMEOUT_SECONDS is a usage error.
    parser.add_argument("--broker-timeout-seconds", type=positive_seconds, metavar="S",
                        default=os.environ.get("NEWSFLOW_BROKER_TIMEOUT_SECONDS") or str(DEFAULT_BROKER_TIMEOUT_SECONDS),
                        help="a broker that goes away while the command works is waited for (retries with "
                             "back-off, one line when it goes and one when it is back); after S seconds "
                             f"the command ends with exit 69 (default: $NEWSFLOW_BROKER_TIMEOUT_SECONDS or "
                             f"{DEFAULT_BROKER_TIMEOUT_SECONDS:g})")


def add_state_dir_flag(parser) -> None:
    parser.add_argument("--state-dir", type=Path, default=default_state_dir(), metavar="DIR",
                        help="folder for the local broker's jars, data, pid and log "
                             "(default: $NEWSFLOW_HOME or ~/.newsflow)")


def add_log_flags(parser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="show Beam's and Kafka's own log lines (INFO)")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), default=None,
                        help="log level of Beam, Kafka and newsflow's libraries (default: only newsflow's own lines)")
