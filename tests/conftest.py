"""Shared fixtures: a real Apache Kafka broker (KRaft) on 127.0.0.1, started once per session."""
from __future__ import annotations

import random
import socket
import tempfile
import uuid

import pytest
from hypothesis import settings

from pipelines.io import broker

# Property tests run the same examples on every machine and in CI: derandomized, no example
# database (nothing learned from one run changes the next), no deadline (2 shared cores are slow).
settings.register_profile("newsflow", derandomize=True, database=None, deadline=None, print_blob=False)
settings.load_profile("newsflow")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the broker's server socket does
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port_pair() -> int:
    """A port p with p and p+1 free on 127.0.0.1 (broker and controller).

    Drawn at random from below the kernel's ephemeral range: a port from ``bind(0)`` lies inside it,
    where any process's outgoing connection or ``bind(0)`` listener (Beam's gRPC servers, a test's
    HTTP server) may take it between the choice and the broker's start, which once failed CI.
    """
    low, _ = _ephemeral_range()
    top = min(low, 65000) - 2
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000 if top > 21000 else 1025, top)
        if _bindable(port) and _bindable(port + 1) and not broker.port_open(port) and not broker.port_open(port + 1):
            return port
    raise RuntimeError("no free port pair on 127.0.0.1")


def start_broker(make_config, tries: int = 3) -> broker.BrokerConfig:
    """Start a broker built by ``make_config(port)``; on a port taken meanwhile, draw another pair."""
    for attempt in range(tries):
        cfg = make_config(free_port_pair())
        try:
            broker.up(cfg, log=lambda *_: None)
            return cfg
        except broker.BrokerError as exc:
            if "already taken" not in str(exc) or attempt == tries - 1:
                raise


@pytest.fixture(scope="session")
def broker_config(tmp_path_factory) -> broker.BrokerConfig:
    """The session broker's config, started."""
    state = tmp_path_factory.mktemp("newsflow-state")
    cfg = start_broker(lambda port: broker.BrokerConfig(state_dir=state, port=port))
    yield cfg
    broker.down(cfg, log=lambda *_: None)


@pytest.fixture(scope="session")
def kafka_broker(broker_config) -> str:
    """Bootstrap address of a real broker started for this test session."""
    return broker_config.bootstrap


@pytest.fixture(scope="session")
def schema_registry(tmp_path_factory) -> str:
    """Confluent-compatible URL of a real schema registry (Apicurio, in memory) on 127.0.0.1, started
    once per session from the copy ``make setup`` fetched (``newsflow registry fetch``); needs Java 21+."""
    import os

    from pipelines.config import default_state_dir
    from pipelines.io import registry_server

    home = registry_server.RegistryHome(default_state_dir())
    registry_server.fetch(home)  # a no-op after `make setup`
    java = registry_server.find_java(os.environ.get("NEWSFLOW_REGISTRY_JAVA"))
    proc, url = registry_server.start(home, java, log_file=tmp_path_factory.mktemp("registry") / "registry.log")
    yield url
    registry_server.stop_process(proc)


@pytest.fixture
def topic_name() -> str:
    return f"test.{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session", autouse=True)
def private_tmpdir(tmp_path_factory):
    """Beam leaves empty beam-temp*/tmp* folders in $TMPDIR on every pipeline run (the CLI cleans up
    after itself; in-process test pipelines do not): keep them inside pytest's own temp folder."""
    folder = tmp_path_factory.mktemp("tmpdir")
    patch = pytest.MonkeyPatch()
    patch.setenv("TMPDIR", str(folder))
    patch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    patch.undo()
