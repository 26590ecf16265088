"""Shared fixtures: a real Apache Kafka broker (KRaft) on 127.0.0.1, started once per session."""
from __future__ import annotations

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


def free_port_pair() -> int:
    """A port p with p and p+1 free on 127.0.0.1 (broker and controller)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and not broker.port_open(port + 1) and not broker.port_open(port):
            return port
    raise RuntimeError("no free port pair on 127.0.0.1")


@pytest.fixture(scope="session")
def broker_config(tmp_path_factory) -> broker.BrokerConfig:
    return broker.BrokerConfig(state_dir=tmp_path_factory.mktemp("newsflow-state"), port=free_port_pair())


@pytest.fixture(scope="session")
def kafka_broker(broker_config) -> str:
    """Bootstrap address of a real broker started for this test session."""
    bootstrap = broker.up(broker_config, log=lambda *_: None)
    yield bootstrap
    broker.down(broker_config, log=lambda *_: None)


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
