"""Defaults and flags every command shares, and the only reader of the environment.

``NEWSFLOW_BOOTSTRAP_SERVERS``, ``NEWSFLOW_HOME``, ``NEWSFLOW_KAFKA_CONFIG`` and
``NEWSFLOW_BROKER_TIMEOUT_SECONDS`` are read here, when a command builds its flags; the Kafka
password (``$NEWSFLOW_KAFKA_PASSWORD`` or the variable ``--sasl-password-env`` names) when a
launcher applies the security flags; ``NEWSFLOW_REGISTRY_JAVA`` when ``newsflow registry up``
looks for Java; ``NEWSFLOW_MEMTRACE*`` when a ``newsflow run`` worker starts (a debugging aid).
Everything below the launchers receives explicit configuration.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_PORT = 9092   # Kafka's, and that of the broker `newsflow kafka up` and the demo start
DEFAULT_BOOTSTRAP = f"localhost:{DEFAULT_PORT}"
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


def registry_java() -> str | None:
    """$NEWSFLOW_REGISTRY_JAVA (a Java binary or JDK folder for the schema registry), else None."""
    return os.environ.get("NEWSFLOW_REGISTRY_JAVA") or None


def memtrace_settings() -> tuple[str, float, int] | None:
    """The memory reports of a run worker (pipelines.pipeline.memtrace), off (None) unless
    $NEWSFLOW_MEMTRACE names the report path: (path, $NEWSFLOW_MEMTRACE_MINUTES or 5,
    $NEWSFLOW_MEMTRACE_FRAMES or 0)."""
    path = os.environ.get("NEWSFLOW_MEMTRACE")
    if not path:
        return None
    return path, float(os.environ.get("NEWSFLOW_MEMTRACE_MINUTES", "5")), int(os.environ.get("NEWSFLOW_MEMTRACE_FRAMES", "0"))


def default_state_dir() -> Path:
    """$NEWSFLOW_HOME, else ~/.newsflow: the broker's jars and data, feed state."""
    return Path(os.environ.get("NEWSFLOW_HOME") or Path.home() / ".newsflow")


def add_schema_registry_flag(parser, writes: bool) -> None:
    """``--schema-registry URL``: Confluent wire format on the topics (docs/export.md)."""
    parser.add_argument(
        "--schema-registry", default=None, metavar="URL",
        help=("write values in the Confluent wire format (00 + schema id + Avro), registering the schema "
              "under <topic>-value at this Confluent-compatible registry (default: Avro single-object)")
        if writes else
        ("schema registry to fetch the writer schemas of Confluent wire-format values from "
         "(single-object values are read either way)"))


def add_bootstrap_flag(parser) -> None:
    """``--bootstrap-servers`` and the TLS/SASL flags: every command that talks to Kafka has both."""
    parser.add_argument("--bootstrap-servers", default=default_bootstrap(), metavar="HOST:PORT[,...]",
                        help=f"Kafka bootstrap servers (default: $NEWSFLOW_BOOTSTRAP_SERVERS or {DEFAULT_BOOTSTRAP})")
    add_kafka_security_flags(parser)


class _RefusePassword(argparse.Action):
    """``--sasl-password``: refused without echoing the value (a command line is seen by ``ps``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error("the Kafka password is never taken on the command line (other users see it in `ps`); "
                     "set $NEWSFLOW_KAFKA_PASSWORD or pass --sasl-password-file FILE")


def add_kafka_security_flags(parser) -> None:
    """TLS and SASL for the Kafka connection (docs/CONTRACT.md, "Kafka security"). Only file paths
    and variable names: these flags may be shown, logged and passed to worker processes."""
    from pipelines.io.kafka_security import MECHANISMS, PROTOCOLS

    parser.add_argument("--kafka-config", default=os.environ.get("NEWSFLOW_KAFKA_CONFIG") or None, metavar="FILE",
                        help="Kafka client settings file: security.protocol, sasl.mechanism, sasl.username, "
                             "sasl.password.file|.env, ssl.ca.location, ... (default $NEWSFLOW_KAFKA_CONFIG); "
                             "the flags below override it")
    parser.add_argument("--security-protocol", choices=PROTOCOLS, default=None,
                        help="Kafka security protocol (default PLAINTEXT; SASL_SSL when a user is given)")
    parser.add_argument("--sasl-mechanism", choices=MECHANISMS, default=None, help="SASL mechanism")
    parser.add_argument("--sasl-username", default=None, metavar="USER", help="SASL user name")
    parser.add_argument("--sasl-password-file", default=None, metavar="FILE",
                        help="file holding the SASL password (else the variable of --sasl-password-env)")
    parser.add_argument("--sasl-password-env", default=None, metavar="VAR",
                        help="environment variable holding the SASL password (default NEWSFLOW_KAFKA_PASSWORD)")
    parser.add_argument("--sasl-password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    parser.add_argument("--ssl-ca-file", default=None, metavar="PEM",
                        help="CA certificate(s) that signed the brokers' certificates (default: the system's)")
    parser.add_argument("--ssl-cert-file", default=None, metavar="PEM", help="client certificate (mutual TLS)")
    parser.add_argument("--ssl-key-file", default=None, metavar="PEM", help="client certificate's private key")
    parser.add_argument("--ssl-no-check-hostname", action="store_true", default=False,
                        help="accept a broker certificate that does not name the host (not recommended)")


def apply_kafka_security(args):
    """Resolve the security flags of ``args`` (argparse namespace or Beam options view), read the
    password from its file or variable, and make every Kafka client of this process use them."""
    from pipelines.io import kafka_client, kafka_security

    settings = kafka_security.from_flags(
        kafka_config=args.kafka_config, protocol=args.security_protocol, mechanism=args.sasl_mechanism,
        username=args.sasl_username, password_file=args.sasl_password_file, password_env=args.sasl_password_env,
        ca_file=args.ssl_ca_file, cert_file=args.ssl_cert_file, key_file=args.ssl_key_file,
        no_check_hostname=args.ssl_no_check_hostname)
    security = kafka_security.resolve(settings, os.environ)
    kafka_client.use_security(security)
    return security


def positive_count(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def positive_number(text: str) -> float:
    """argparse type: a number > 0 (seconds, days, ...)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a number, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def add_broker_timeout_flag(parser) -> None:
    """How long run, publish and feeds wait for a broker that went away while they work."""
    # A string default goes through ``type`` too: a bad $NEWSFLOW_BROKER_TIMEOUT_SECONDS is a usage error.
    parser.add_argument("--broker-timeout-seconds", type=positive_number, metavar="S",
                        default=os.environ.get("NEWSFLOW_BROKER_TIMEOUT_SECONDS") or str(DEFAULT_BROKER_TIMEOUT_SECONDS),
                        help="a broker that goes away while the command works is waited for (retries with "
                             "back-off, one line when it goes and one when it is back); after S seconds "
                             f"the command ends with exit 69 (default: $NEWSFLOW_BROKER_TIMEOUT_SECONDS or "
                             f"{DEFAULT_BROKER_TIMEOUT_SECONDS:g})")


def add_state_dir_flag(parser, service: str = "broker") -> None:
    parser.add_argument("--state-dir", type=Path, default=default_state_dir(), metavar="DIR",
                        help=f"folder for the local {service}'s jars, data, pid and log "
                             "(default: $NEWSFLOW_HOME or ~/.newsflow)")


def add_log_flags(parser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="show Beam's and Kafka's own log lines (INFO)")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), default=None,
                        help="log level of Beam, Kafka and newsflow's libraries (default: only newsflow's own lines)")
