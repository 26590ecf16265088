"""A locked-down cluster: a real broker with a SASL_SSL listener (a CA made here), SCRAM-SHA-512
and PLAIN users and ACLs, started once for the module with `newsflow kafka up --secure`.

publish, run and consume work with the right credentials and are refused with one line naming
the cause (authentication failed / not authorised on topic X / certificate not trusted) for a
wrong password, a user without an ACL and an untrusted CA. No password ever shows in an output
or a log. The settings' parsing is tested without a broker at the end.
"""
import json
import logging
import re
import secrets
import stat
import uuid
from pathlib import Path

import pytest

from pipelines.config import apply_kafka_security
from pipelines.io import broker, kafka_client, tls
from pipelines.io.kafka_security import ClientSecurity, KafkaSecurity, SecurityConfigError, from_flags, \
    read_config_file, resolve
from tests.cli.helpers import REPO, newsflow, one_line_error
from tests.conftest import free_port_pair

# Random per run: a fixed password could be found in an output by accident of the code under test.
ALICE = "alice-" + secrets.token_hex(8)     # SCRAM-SHA-512, every right on topics sec.* and groups sec-*
CAROL = "carol-" + secrets.token_hex(8)     # PLAIN, every right on topics sec.*
BOB = "bob-" + secrets.token_hex(8)         # PLAIN, no ACL at all
WRONG = "wrong-" + secrets.token_hex(8)
PASSWORDS = (ALICE, CAROL, BOB, WRONG)
SEEDS = REPO / "seeds" / "articles.jsonl"
SEED_COUNT = len(SEEDS.read_text().splitlines())


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    """The module's secure broker: its config (with ``security``) and what `kafka up --secure` printed."""
    state = tmp_path_factory.mktemp("secure-state")
    port = free_port_pair()
    # PLAIN users are the broker's JAAS entries: their files must be there when it starts.
    broker.make_security(state / "kafka" / "secure", {"bob": BOB, "carol": CAROL})
    up = newsflow("kafka", "up", "--secure", "--state-dir", state, "--port", port, timeout=600)
    cfg = broker.running_config(broker.BrokerConfig(state_dir=state, port=port))
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert cfg.security is not None
        broker.add_scram_user(cfg, "alice", ALICE)
        broker.grant(cfg, "alice", topics=["sec."], groups=["sec-"], prefixed=True)
        broker.grant(cfg, "carol", topics=["sec."], prefixed=True)
        yield cfg, up
    finally:
        broker.down(cfg, log=lambda *_: None)


def alice_config(folder: Path, ca_file: Path) -> Path:
    """A client settings file for alice, as a user writes one (the password comes from the env)."""
    path = folder / f"alice-{uuid.uuid4().hex[:6]}.properties"
    path.write_text("# alice on the test cluster\n"
                    "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=alice\n"
                    f"ssl.ca.location={ca_file}\n")
    return path


def assert_no_password(*outputs: str) -> None:
    for text in outputs:
        for password in PASSWORDS:
            assert password not in text


def topic() -> str:
    return f"sec.{uuid.uuid4().hex[:10]}"


def run_args(cfg, source: str, group: str) -> list:
    return ["run", "--bootstrap-servers", cfg.bootstrap, "--input-topic", source, "--output-topic", f"{source}.out",
            "--dlq-topic", f"{source}.dlq", "--stories-topic", f"{source}.stories", "--group-id", group,
            "--no-avro", "--until-end"]


def test_kafka_up_secure_prints_how_to_connect_and_that_works(secure, tmp_path):
    cfg, up = secure
    match = re.search(r"--kafka-config (\S+) --bootstrap-servers (\S+)", up.stdout)
    assert match and match.group(2) == cfg.bootstrap, up.stdout
    client_file = Path(match.group(1))
    settings = read_config_file(client_file)
    assert (settings.protocol, settings.mechanism, settings.username) == ("SASL_SSL", "SCRAM-SHA-512", "newsflow")
    # Secrets and keys are readable by their owner only.
    for secret in (settings.password_file, cfg.security.password_file("admin"), cfg.security.keystore_file,
                   cfg.properties_file):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    password = settings.password_file.read_text().strip()
    assert password not in up.stdout + up.stderr
    published = newsflow("publish", SEEDS, "--kafka-config", client_file, "--bootstrap-servers", cfg.bootstrap, "-q")
    assert published.returncode == 0, published.stderr
    assert published.stdout.startswith(f"published {SEED_COUNT}, rejected 0")
    status = newsflow("kafka", "status", "--json", "--state-dir", cfg.state_dir)
    assert json.loads(status.stdout)["secure"] is True and json.loads(status.stdout)["answers"] is True
    # The broker holds the PLAIN passwords in its config file, never in its log.
    assert_no_password(cfg.log_file.read_text(errors="replace"), password)
    assert password not in cfg.log_file.read_text(errors="replace")


def test_publish_run_consume_with_plain_and_scram_users(secure, tmp_path):
    cfg, _ = secure
    source = topic()
    carol_file = tmp_path / "carol.password"
    carol_file.write_text(CAROL + "\n")
    # carol (PLAIN) by flags alone, with Kafka's own DEBUG logs on: they print client configurations.
    published = newsflow("-v", "publish", SEEDS, "--topic", source, "--bootstrap-servers", cfg.bootstrap,
                         "--security-protocol", "SASL_SSL", "--sasl-mechanism", "PLAIN", "--sasl-username", "carol",
                         "--sasl-password-file", carol_file, "--ssl-ca-file", cfg.security.ca_file, "-q")
    assert published.returncode == 0, published.stderr[-3000:]
    assert published.stdout.startswith(f"published {SEED_COUNT}, rejected 0")
    assert "sasl_plain_password" in published.stderr  # the DEBUG line is there, the password is not
    # alice (SCRAM-SHA-512) by a settings file and the password in $NEWSFLOW_KAFKA_PASSWORD; two
    # worker processes, which get the settings file's path and the variable's name, never the secret.
    config = alice_config(tmp_path, cfg.security.ca_file)
    env = {"NEWSFLOW_KAFKA_PASSWORD": ALICE, "TMPDIR": str(tmp_path)}
    ran = newsflow(*run_args(cfg, source, "sec-run"), "--processes", "2", "--kafka-config", config,
                   cwd=tmp_path, env=env, timeout=900)
    assert ran.returncode == 0, ran.stderr[-3000:]
    account = re.search(r"newsflow run: read (\d+) = enriched (\d+) \+ dead-lettered (\d+)", ran.stderr)
    assert account and int(account.group(1)) == SEED_COUNT, ran.stderr[-3000:]
    enriched = int(account.group(2))
    assert enriched > 0
    consumed = newsflow("consume", "--topic", f"{source}.out", "--from-beginning", "--max", enriched,
                        "--timeout", "30", "--group", "sec-read", "--bootstrap-servers", cfg.bootstrap,
                        "--kafka-config", config, env=env)
    assert consumed.returncode == 0, consumed.stderr
    records = [json.loads(line) for line in consumed.stdout.splitlines()]
    assert len(records) == enriched and all(r["provenance"]["pipeline_version"] for r in records)
    assert_no_password(published.stdout, published.stderr, ran.stdout, ran.stderr, consumed.stdout, consumed.stderr,
                       cfg.log_file.read_text(errors="replace"))


def refusals(cfg, tmp_path, flags: list, env: dict, source: str) -> dict:
    """The one-line errors of publish, run and consume with these connection flags."""
    common = ["--bootstrap-servers", cfg.bootstrap, *flags]
    results = {
        "publish": newsflow("publish", SEEDS, "--topic", source, *common, "-q", env=env),
        "run": newsflow(*run_args(cfg, source, "sec-refused"), "--processes", "1", *flags, cwd=tmp_path, env=env),
        "consume": newsflow("consume", "--topic", source, "--from-beginning", "--timeout", "3", *common, env=env),
    }
    lines = {}
    for command, result in results.items():
        assert_no_password(result.stdout, result.stderr)
        lines[command] = one_line_error(result)
        assert lines[command].startswith(f"newsflow {command}: "), lines[command]
    return lines


def test_a_wrong_password_is_refused_as_failed_authentication(secure, tmp_path):
    cfg, _ = secure
    config = alice_config(tmp_path, cfg.security.ca_file)
    lines = refusals(cfg, tmp_path, ["--kafka-config", config], {"NEWSFLOW_KAFKA_PASSWORD": WRONG}, topic())
    for line in lines.values():
        assert "authentication failed for user alice (SCRAM-SHA-512)" in line, line
    # PLAIN, the password from a variable the flags name.
    plain = newsflow("consume", "--bootstrap-servers", cfg.bootstrap, "--sasl-username", "carol",
                     "--sasl-mechanism", "PLAIN", "--sasl-password-env", "CAROL_PW", "--ssl-ca-file",
                     cfg.security.ca_file, "--topic", topic(), env={"CAROL_PW": BOB})
    assert "authentication failed for user carol (PLAIN)" in one_line_error(plain)
    assert_no_password(plain.stderr)


def test_a_user_without_an_acl_is_refused_naming_the_topic(secure, tmp_path):
    cfg, _ = secure
    source = topic()
    flags = ["--sasl-username", "bob", "--sasl-mechanism", "PLAIN", "--ssl-ca-file", cfg.security.ca_file]
    lines = refusals(cfg, tmp_path, flags, {"NEWSFLOW_KAFKA_PASSWORD": BOB}, source)
    for line in lines.values():
        assert "user bob is not authorised on topic" in line and source in line, line
    # alice may use sec.* only: another topic is refused by name, with her right password.
    other = f"other.{uuid.uuid4().hex[:8]}"
    config = alice_config(tmp_path, cfg.security.ca_file)
    refused = newsflow("consume", "--topic", other, "--bootstrap-servers", cfg.bootstrap, "--kafka-config", config,
                       env={"NEWSFLOW_KAFKA_PASSWORD": ALICE})
    assert f"user alice is not authorised on topic {other}" in one_line_error(refused)


def test_an_untrusted_broker_certificate_is_refused(secure, tmp_path):
    cfg, _ = secure
    stranger = tls.make_authority(tmp_path / "other-ca", name="someone else's CA")
    config = alice_config(tmp_path, stranger.cert_file)
    lines = refusals(cfg, tmp_path, ["--kafka-config", config], {"NEWSFLOW_KAFKA_PASSWORD": ALICE}, topic())
    for line in lines.values():
        assert f"TLS certificate of the broker at {cfg.bootstrap} not trusted" in line, line


def test_a_password_on_the_command_line_is_refused_without_echoing_it(tmp_path):
    for command in (["publish", SEEDS], ["consume"], ["run"]):
        result = newsflow(*command, "--sasl-username", "alice", f"--sasl-password={WRONG}")
        assert result.returncode == 2
        assert "never taken on the command line" in result.stderr and WRONG not in result.stderr + result.stdout


# ---------------------------------------------------------------- settings, without a broker
def test_config_file_paths_are_relative_to_it_and_flags_override_it(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "pw").write_text("from-file\n")
    path = tmp_path / "client.properties"
    path.write_text("# comment\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=ann\n"
                    "sasl.password.file=pw\nssl.ca.location=ca.pem\nssl.endpoint.identification.algorithm=none\n")
    settings = from_flags(kafka_config=path, mechanism="SCRAM-SHA-512")
    assert settings.ca_file == tmp_path / "ca.pem" and settings.password_file == tmp_path / "pw"
    assert (settings.mechanism, settings.username, settings.check_hostname) == ("SCRAM-SHA-512", "ann", False)
    assert resolve(settings, {}).password == "from-file"
    # A user name alone means the usual company cluster: SASL_SSL.
    assert from_flags(username="ann", mechanism="PLAIN").protocol == "SASL_SSL"


def test_the_password_comes_from_the_named_variable_and_is_never_shown(tmp_path):
    settings = from_flags(username="ann", mechanism="SCRAM-SHA-512", password_env="MY_PW")
    resolved = resolve(settings, {"MY_PW": "s3cret-value", "NEWSFLOW_KAFKA_PASSWORD": "other"})
    assert resolved.client_options()["sasl_plain_password"] == "s3cret-value"
    assert "s3cret-value" not in repr(resolved) + repr(settings)
    assert resolve(from_flags(username="ann", mechanism="PLAIN"), {"NEWSFLOW_KAFKA_PASSWORD": "d"}).password == "d"
    with pytest.raises(SecurityConfigError, match=r"needs a password: set \$MY_PW"):
        resolve(settings, {})


@pytest.mark.parametrize("text, message", [
    ("sasl.jaas.config=x\n", "unknown key 'sasl.jaas.config'"),
    ("security.protocol=SASL_SSL\nsasl.username=ann\n", "needs a SASL mechanism"),
    ("security.protocol=TLS\n", "is not one of PLAINTEXT"),
    ("ssl.ca.location=missing.pem\n", "ca-file .*missing.pem: no such file"),
    ("just words\n", "expected key=value"),
])
def test_a_bad_config_file_is_refused_with_its_reason(tmp_path, text, message):
    path = tmp_path / "bad.properties"
    path.write_text(text)
    with pytest.raises(SecurityConfigError, match=message):
        from_flags(kafka_config=path)


def test_a_bad_config_file_is_one_line_from_the_command(tmp_path):
    path = tmp_path / "bad.properties"
    path.write_text("security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\nsasl.username=ann\n")
    line = one_line_error(newsflow("consume", "--kafka-config", path, "--topic", "t"))
    assert "SASL mechanism 'GSSAPI' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512" in line


def test_kafka_python_log_lines_never_carry_the_password(caplog):
    previous = kafka_client.current_security()
    try:
        kafka_client.use_security(ClientSecurity(KafkaSecurity(protocol="SASL_SSL", mechanism="PLAIN",
                                                               username="ann"), "p4ss-" + "w0rd"))
        with caplog.at_level(logging.DEBUG, logger="kafka.admin.client"):
            logging.getLogger("kafka.admin.client").debug("configuration: %s", {"sasl_plain_password": "p4ss-w0rd"})
        assert "[redacted]" in caplog.text and "p4ss-w0rd" not in caplog.text
    finally:
        kafka_client.use_security(previous)


def test_apply_reads_the_password_from_the_environment_for_every_client(monkeypatch):
    previous = kafka_client.current_security()
    monkeypatch.setenv("NEWSFLOW_KAFKA_PASSWORD", "env-pw")

    class Args:
        kafka_config = security_protocol = sasl_password_file = sasl_password_env = None
        ssl_ca_file = ssl_cert_file = ssl_key_file = None
        sasl_mechanism, sasl_username, ssl_no_check_hostname = "PLAIN", "ann", False

    try:
        applied = apply_kafka_security(Args())
        assert kafka_client.current_security() is applied and applied.password == "env-pw"
        assert applied.client_options()["security_protocol"] == "SASL_SSL"
    finally:
        kafka_client.use_security(previous)


def test_a_password_flag_overrides_where_the_config_file_says_the_password_is(tmp_path):
    (tmp_path / "pw").write_text("from-file\n")
    path = tmp_path / "client.properties"
    path.write_text("sasl.mechanism=PLAIN\nsasl.username=ann\nsasl.password.file=pw\n")
    assert resolve(from_flags(kafka_config=path, password_env="PW"), {"PW": "from-env"}).password == "from-env"
    with pytest.raises(SecurityConfigError, match=r"set \$PW"):
        resolve(from_flags(kafka_config=path, password_env="PW"), {})
