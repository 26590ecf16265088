"""A real single-node Apache Kafka broker (KRaft, combined broker+controller) on 127.0.0.1.

The jars come from Maven Central through ``deploy/kafka/pom.xml`` and are cached in the state
folder; storage is formatted on first start. ``down`` stops only the broker that ``up``
started, found by its pid file.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.io.errors import BrokerError, BrokerUnavailable

KAFKA_VERSION = "4.4.0"
DEFAULT_PORT = 9092


@dataclass(frozen=True)
class BrokerConfig:
    """Where the local broker lives and listens."""

    state_dir: Path
    port: int = DEFAULT_PORT
    controller_port: int | None = None
    heap: str = "512m"
    start_timeout_s: float = 90.0

    @property
    def home(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def libs(self) -> Path:
        return self.home / f"libs-{KAFKA_VERSION}"

    @property
    def data_dir(self) -> Path:
        # KRaft records the controller endpoint at format time: one data folder per port.
        return self.home / f"data-{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "broker.log"

    @property
    def properties_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ctl_port(self) -> int:
        return self.controller_port or self.port + 1


def _pom_path() -> Path:
    from pipelines.resources import resource_path

    try:
        return resource_path("deploy/kafka/pom.xml")
    except FileNotFoundError as exc:
        raise BrokerError(str(exc)) from exc


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise BrokerError(f"{tool} not found on PATH: {hint}")
    return path


def resolve_jars(cfg: BrokerConfig, log=print) -> Path:
    """Fetch the broker jars with Maven once; later calls use the cache."""
    marker = cfg.libs / ".complete"
    if marker.exists():
        return cfg.libs
    mvn = _require("mvn", "install Maven (e.g. apt-get install maven) to fetch the Kafka jars")
    log(f"resolving Apache Kafka {KAFKA_VERSION} jars from Maven Central (first run only) ...")
    cfg.libs.mkdir(parents=True, exist_ok=True)
    cmd = [mvn, "-q", "-B", "-f", str(_pom_path()), "dependency:copy-dependencies",
           f"-DoutputDirectory={cfg.libs}", "-DincludeScope=runtime", f"-Dkafka.version={KAFKA_VERSION}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise BrokerError("Maven could not resolve the Kafka jars: " + " | ".join(tail))
    marker.write_text(KAFKA_VERSION)
    return cfg.libs


def _write_config(cfg: BrokerConfig) -> None:
    cfg.home.mkdir(parents=True, exist_ok=True)
    cfg.properties_file.write_text("\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.bootstrap.servers=127.0.0.1:{cfg.ctl_port}",
        f"listeners=PLAINTEXT://127.0.0.1:{cfg.port},CONTROLLER://127.0.0.1:{cfg.ctl_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{cfg.port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={cfg.data_dir}",
        "num.partitions=1",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "",
    ]))
    (cfg.home / "log4j2.properties").write_text("\n".join([
        "rootLogger.level=WARN", "rootLogger.appenderRef.stdout.ref=STDOUT",
        "appender.stdout.type=Console", "appender.stdout.name=STDOUT",
        "appender.stdout.layout.type=PatternLayout",
        "appender.stdout.layout.pattern=[%d] %p %m (%c)%n",
        "logger.kafka.name=kafka.server.KafkaRaftServer", "logger.kafka.level=INFO", ""]))


def _java_cmd(cfg: BrokerConfig, main_class: str, *args: str) -> list[str]:
    java = _require("java", "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)")
    return [java, f"-Xmx{cfg.heap}", "-Xms128m", "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={cfg.home / 'log4j2.properties'}",
            "-cp", str(cfg.libs / "*"), main_class, *args]


def _format_storage(cfg: BrokerConfig) -> None:
    if (cfg.data_dir / "meta.properties").exists():
        return
    cluster_id = uuid.uuid4().hex[:22]
    result = subprocess.run(
        _java_cmd(cfg, "kafka.tools.StorageTool", "format", "-t", cluster_id,
                  "-c", str(cfg.properties_file), "--standalone"),
        capture_output=True, text=True)
    if result.returncode != 0:
        raise BrokerError("formatting Kafka storage failed: " + result.stderr.strip().splitlines()[-1:][0]
                          if result.stderr.strip() else "formatting Kafka storage failed")


def _read_state(cfg: BrokerConfig) -> dict:
    try:
        return json.loads(cfg.pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def running_config(cfg: BrokerConfig) -> BrokerConfig:
    """The config of the broker that runs from this state folder (its real ports), else ``cfg``."""
    state = _read_state(cfg)
    if state.get("port") and read_pid(cfg):
        return replace(cfg, port=int(state["port"]), controller_port=int(state["controller_port"]))
    return cfg


def read_pid(cfg: BrokerConfig) -> int | None:
    """The pid of the broker we started, if it still runs."""
    try:
        pid = int(_read_state(cfg)["pid"])
    except (KeyError, ValueError, TypeError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except FileNotFoundError:
        return None
    # The pid may have been reused by another process: only our broker counts.
    if b"kafka.Kafka" not in cmdline or str(cfg.properties_file).encode() not in cmdline:
        return None
    return pid


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def broker_answers(bootstrap: str, timeout_s: float = 5.0) -> bool:
    """True when a Kafka broker answers a metadata request at ``bootstrap``."""
    from pipelines.io.kafka_client import check_broker

    try:
        check_broker(bootstrap, timeout_s=timeout_s)
        return True
    except BrokerUnavailable:
        return False


def up(cfg: BrokerConfig, log=print) -> str:
    """Start the broker unless ours already runs; return its bootstrap address."""
    pid = read_pid(cfg)
    if pid:
        cfg = running_config(cfg)
        log(f"kafka: already running (pid {pid}) on {cfg.bootstrap}")
        return cfg.bootstrap
    for port in (cfg.port, cfg.ctl_port):
        if port_open(port):
            raise BrokerError(f"port {port} on 127.0.0.1 is already taken by another process; "
                              f"stop it or choose another port with --port")
    _require("java", "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)")
    resolve_jars(cfg, log)
    _write_config(cfg)
    _format_storage(cfg)
    started = time.monotonic()
    with open(cfg.log_file, "ab") as out:
        proc = subprocess.Popen(_java_cmd(cfg, "kafka.Kafka", str(cfg.properties_file)),
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    cfg.pid_file.write_text(json.dumps({"pid": proc.pid, "port": cfg.port, "controller_port": cfg.ctl_port}))
    deadline = started + cfg.start_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            cfg.pid_file.unlink(missing_ok=True)
            tail = cfg.log_file.read_text(errors="replace").strip().splitlines()[-3:]
            raise BrokerError(f"the broker exited with status {proc.returncode}: " + " | ".join(tail))
        if port_open(cfg.port) and broker_answers(cfg.bootstrap, timeout_s=2.0):
            log(f"kafka: up on {cfg.bootstrap} (pid {proc.pid}, {time.monotonic() - started:.1f}s; "
                f"log {cfg.log_file})")
            return cfg.bootstrap
        time.sleep(0.3)
    down(cfg, log=lambda *_: None)
    raise BrokerError(f"the broker did not answer within {cfg.start_timeout_s:.0f}s; see {cfg.log_file}")


def down(cfg: BrokerConfig, log=print, timeout_s: float = 30.0) -> bool:
    """Stop the broker we started; True when one was stopped."""
    pid = read_pid(cfg)
    if not pid:
        cfg.pid_file.unlink(missing_ok=True)
        log("kafka: not running (nothing started by newsflow in " + str(cfg.home) + ")")
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and read_pid(cfg):
        time.sleep(0.2)
    if read_pid(cfg):
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    _reap(pid)
    cfg.pid_file.unlink(missing_ok=True)
    log(f"kafka: stopped (pid {pid})")
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def status(cfg: BrokerConfig) -> dict:
    """What runs where: our broker's pid and address, and whether it answers."""
    pid = read_pid(cfg)
    cfg = running_config(cfg)
    return {"running": bool(pid), "pid": pid, "bootstrap": cfg.bootstrap,
            "answers": bool(pid) and broker_answers(cfg.bootstrap, timeout_s=3.0),
            "state_dir": str(cfg.home), "log": str(cfg.log_file), "kafka_version": KAFKA_VERSION}


def main_status_line(info: dict) -> str:
    if info["running"]:
        state = "up" if info["answers"] else "starting or unresponsive"
        return f"kafka: {state} on {info['bootstrap']} (pid {info['pid']}, Kafka {info['kafka_version']}, state {info['state_dir']})"
    return f"kafka: not running (state {info['state_dir']})"
