"""A real single-node Apache Kafka broker (KRaft, combined broker+controller) on 127.0.0.1.

The jars come from Maven Central through ``deploy/kafka/pom.xml`` and are cached in the state
folder; storage is formatted on first start. ``down`` stops only the broker that ``up``
started, found by its pid file.

With ``BrokerConfig.security`` the broker is locked down the way company clusters are: one
SASL_SSL listener (TLS with a certificate of a local CA; SASL PLAIN and SCRAM-SHA-512), the
KRaft ``StandardAuthorizer`` with ACLs and no access without one, and a super user ``admin``
(PLAIN) that the broker itself and ``up`` use. SCRAM users and ACLs are added through the admin
API (``add_scram_user``, ``grant``), so no password is ever on a command line.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.config import DEFAULT_PORT
from pipelines.io.errors import BrokerError, BrokerUnavailable
from pipelines.io.kafka_security import ClientSecurity, KafkaSecurity

KAFKA_VERSION = "4.4.0"
ADMIN_USER = "admin"


@dataclass(frozen=True)
class BrokerSecurity:
    """The files of a secure broker, all in ``folder``: ``ca.pem`` (the CA clients must trust),
    ``broker.pem`` (its key and certificate), ``users/plain/NAME.password`` (mode 0600; the PLAIN
    users, ``admin`` among them: a file added there is a user from the next start on),
    ``users/scram/NAME.password`` (the SCRAM users ``add_client_user`` made)."""

    folder: Path
    plain_users: tuple[str, ...] = (ADMIN_USER,)

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def keystore_file(self) -> Path:
        return self.folder / "broker.pem"

    def password_file(self, user: str) -> Path:
        return self.folder / "users" / "plain" / f"{user}.password"

    def password(self, user: str) -> str:
        return self.password_file(user).read_text().strip()

    def client(self, user: str = ADMIN_USER, mechanism: str = "PLAIN") -> ClientSecurity:
        """Client settings of ``user`` for this broker (the password read from its file)."""
        return ClientSecurity(KafkaSecurity(protocol="SASL_SSL", mechanism=mechanism, username=user,
                                            password_file=self.password_file(user), ca_file=self.ca_file),
                              self.password(user))


def write_password(path: Path, password: str | None = None) -> str:
    """Write ``password`` (default: a new random one) to ``path`` with mode 0600."""
    from pipelines.io.tls import write_private

    password = password or secrets.token_urlsafe(18)
    write_private(path, (password + "\n").encode())
    return password


def make_security(folder: Path, plain_users: dict[str, str | None] | None = None) -> BrokerSecurity:
    """A CA, the broker's certificate for 127.0.0.1/localhost and the PLAIN users' password files
    (``None``: a random password) in ``folder``; what exists already is kept."""
    from pipelines.io import tls

    security = BrokerSecurity(folder)
    if not security.ca_file.exists():
        authority = tls.make_authority(folder)
        cert, key = tls.issue(authority, folder, "broker-cert")
        # Kafka's PEM key store: the key, then the certificate chain.
        tls.write_private(security.keystore_file,
                          key.read_bytes() + cert.read_bytes() + authority.cert_file.read_bytes())
        key.unlink()
    for user, password in {ADMIN_USER: None, **(plain_users or {})}.items():
        if password is not None or not security.password_file(user).exists():
            write_password(security.password_file(user), password)
    users = sorted(path.name[:-len(".password")] for path in security.password_file(ADMIN_USER).parent.glob("*.password"))
    return replace(security, plain_users=tuple(users))


@dataclass(frozen=True)
class BrokerConfig:
    """Where the local broker lives and listens."""

    state_dir: Path
    port: int = DEFAULT_PORT
    controller_port: int | None = None
    heap: str = "512m"
    start_timeout_s: float = 90.0
    security: BrokerSecurity | None = None

    @property
    def home(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def libs(self) -> Path:
        return self.home / f"libs-{KAFKA_VERSION}"

    @property
    def data_dir(self) -> Path:
        # KRaft records the controller endpoint at format time: one data folder per port (and
        # per kind of listener: a secure broker's users and ACLs live in its metadata).
        return self.home / (f"data-{self.port}-secure" if self.security else f"data-{self.port}")

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

    @property
    def admin(self) -> ClientSecurity | None:
        """How newsflow's own checks talk to this broker: as its super user when it is secure."""
        return self.security.client() if self.security else None


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


def _listener_lines(cfg: BrokerConfig) -> list[str]:
    if cfg.security is None:
        return [f"listeners=PLAINTEXT://127.0.0.1:{cfg.port},CONTROLLER://127.0.0.1:{cfg.ctl_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{cfg.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT"]
    sec = cfg.security
    for user in sec.plain_users:
        if not re.fullmatch(r"[\w.-]+", user) or not re.fullmatch(r"[^\s\"\\]+", sec.password(user)):
            raise BrokerError(f"PLAIN user {user!r}: a name of letters, digits, '.', '-', '_' and a password "
                              f"without spaces, quotes or backslashes (the broker's JAAS line holds them)")
    users = " ".join(f'user_{user}="{sec.password(user)}"' for user in sec.plain_users)
    plain = (f'org.apache.kafka.common.security.plain.PlainLoginModule required '
             f'username="{ADMIN_USER}" password="{sec.password(ADMIN_USER)}" {users};')
    # The controller listener is secured too: the broker half reaches the controller half as admin.
    return [f"listeners=SASL_SSL://127.0.0.1:{cfg.port},CONTROLLER://127.0.0.1:{cfg.ctl_port}",
            f"advertised.listeners=SASL_SSL://127.0.0.1:{cfg.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL",
            "inter.broker.listener.name=SASL_SSL",
            "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol=PLAIN",
            "sasl.mechanism.controller.protocol=PLAIN",
            f"listener.name.sasl_ssl.plain.sasl.jaas.config={plain}",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
            f"listener.name.controller.plain.sasl.jaas.config={plain}",
            "ssl.keystore.type=PEM", f"ssl.keystore.location={sec.keystore_file}",
            "ssl.truststore.type=PEM", f"ssl.truststore.location={sec.ca_file}",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            f"super.users=User:{ADMIN_USER}",
            "allow.everyone.if.no.acl.found=false"]


def _write_config(cfg: BrokerConfig) -> None:
    from pipelines.io.tls import write_private

    cfg.home.mkdir(parents=True, exist_ok=True)
    # Readable by its owner only: a secure broker's file holds its PLAIN users' passwords.
    write_private(cfg.properties_file, "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.bootstrap.servers=127.0.0.1:{cfg.ctl_port}",
        *_listener_lines(cfg),
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
    ]).encode())
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
        folder = state.get("security_folder")
        return replace(cfg, port=int(state["port"]), controller_port=int(state["controller_port"]),
                       security=BrokerSecurity(Path(folder), tuple(state.get("plain_users") or (ADMIN_USER,)))
                       if folder else None)
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


def broker_answers(bootstrap: str, timeout_s: float = 5.0, security: ClientSecurity | None = None) -> bool:
    """True when a Kafka broker answers a metadata request at ``bootstrap``."""
    from pipelines.io.kafka_client import check_broker

    try:
        check_broker(bootstrap, timeout_s=timeout_s, security=security)
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
    state = {"pid": proc.pid, "port": cfg.port, "controller_port": cfg.ctl_port}
    if cfg.security:
        state.update(security_folder=str(cfg.security.folder), plain_users=list(cfg.security.plain_users))
    cfg.pid_file.write_text(json.dumps(state))
    deadline = started + cfg.start_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            cfg.pid_file.unlink(missing_ok=True)
            tail = cfg.log_file.read_text(errors="replace").strip().splitlines()[-3:]
            raise BrokerError(f"the broker exited with status {proc.returncode}: " + " | ".join(tail))
        if port_open(cfg.port) and broker_answers(cfg.bootstrap, timeout_s=2.0, security=cfg.admin):
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
    return {"running": bool(pid), "pid": pid, "bootstrap": cfg.bootstrap, "secure": cfg.security is not None,
            "answers": bool(pid) and broker_answers(cfg.bootstrap, timeout_s=3.0, security=cfg.admin),
            "state_dir": str(cfg.home), "log": str(cfg.log_file), "kafka_version": KAFKA_VERSION}


def main_status_line(info: dict) -> str:
    if info["running"]:
        state = "up" if info["answers"] else "starting or unresponsive"
        return f"kafka: {state} on {info['bootstrap']} (pid {info['pid']}, Kafka {info['kafka_version']}, state {info['state_dir']})"
    return f"kafka: not running (state {info['state_dir']})"


# ---------------------------------------------------------------- users and ACLs of a secure broker
def add_scram_user(cfg: BrokerConfig, user: str, password: str, mechanism: str = "SCRAM-SHA-512") -> None:
    """Create or update ``user``'s SCRAM credential (through the admin API: no password in argv)."""
    from kafka.admin import UserScramCredentialUpsertion

    from pipelines.io.kafka_client import make_admin

    admin = make_admin(cfg.bootstrap, security=cfg.admin)
    try:
        errors = admin.alter_user_scram_credentials([UserScramCredentialUpsertion(user, mechanism, password)])
    finally:
        admin.close()
    if errors.get(user):
        raise BrokerError(f"could not create the SCRAM user {user}: {errors[user]}")
    # The credential reaches the broker's cache through the metadata log: wait until it logs in.
    deadline = time.monotonic() + 15
    login = ClientSecurity(KafkaSecurity(protocol="SASL_SSL", mechanism=mechanism, username=user,
                                         ca_file=cfg.security.ca_file), password)
    while not broker_answers(cfg.bootstrap, timeout_s=3.0, security=login):
        if time.monotonic() > deadline:
            raise BrokerError(f"the SCRAM user {user} cannot log in after it was created")
        time.sleep(0.3)


def grant(cfg: BrokerConfig, user: str, topics=(), groups=(), transactional_ids=(), prefixed: bool = False) -> None:
    """Allow ``user`` every operation on these topics, consumer groups and transactional ids
    (names, or name prefixes with ``prefixed``; ``*`` for all)."""
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, \
        ResourceType

    from pipelines.io.kafka_client import make_admin

    pattern = ACLResourcePatternType.PREFIXED if prefixed else ACLResourcePatternType.LITERAL
    acls = [ACL(principal=f"User:{user}", host="*", operation=ACLOperation.ALL,
                permission_type=ACLPermissionType.ALLOW,
                resource_pattern=ResourcePattern(kind, name, pattern if name != "*" else ACLResourcePatternType.LITERAL))
            for kind, names in ((ResourceType.TOPIC, topics), (ResourceType.GROUP, groups),
                                (ResourceType.TRANSACTIONAL_ID, transactional_ids))
            for name in names]
    admin = make_admin(cfg.bootstrap, security=cfg.admin)
    try:
        result = admin.create_acls(acls)
    finally:
        admin.close()
    failed = result.get("failed") if isinstance(result, dict) else None
    if failed:
        raise BrokerError(f"could not create ACLs for {user}: {failed[0].__name__}")


def secure_config(cfg: BrokerConfig) -> BrokerConfig:
    """``cfg`` with a secure listener whose CA, certificate and admin password live in the state
    folder (made on first use); refused while a PLAINTEXT broker runs from the same folder."""
    running = running_config(cfg)
    if read_pid(cfg) and running.security is None:
        raise BrokerError(f"a PLAINTEXT broker from {cfg.home} runs on {running.bootstrap}; "
                          f"stop it with `newsflow kafka down` first")
    # TLS on both listeners makes the first start slower; on a busy machine much slower.
    return replace(cfg, security=make_security(cfg.home / "secure"), start_timeout_s=max(cfg.start_timeout_s, 240.0))


def add_client_user(cfg: BrokerConfig, user: str) -> Path:
    """Give ``user`` a SCRAM-SHA-512 login (its password in a 0600 file, made once) and every right
    on all topics, groups and transactional ids; return the client settings file for --kafka-config."""
    cfg = running_config(cfg)
    folder = cfg.security.folder
    password_file = folder / "users" / "scram" / f"{user}.password"
    password = password_file.read_text().strip() if password_file.exists() else write_password(password_file)
    add_scram_user(cfg, user, password)
    grant(cfg, user, topics=["*"], groups=["*"], transactional_ids=["*"])
    client_file = folder / f"{user}.properties"
    client_file.write_text("\n".join([
        "# newsflow client settings for the local secure broker (`newsflow kafka up --secure`)",
        "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512", f"sasl.username={user}",
        f"sasl.password.file={password_file.relative_to(folder)}", f"ssl.ca.location={cfg.security.ca_file.name}", ""]))
    return client_file
