"""How newsflow's Kafka clients authenticate: TLS and SASL (PLAIN, SCRAM-SHA-256/512).

Settings come from flags and a client config file (``--kafka-config FILE``, librdkafka-style
``key=value`` lines). A ``KafkaSecurity`` holds only where the secrets are (a file path, the
name of an environment variable), never their values: it may be printed, logged, put in Beam's
pipeline options and passed to worker processes on their command line. The password is read
by ``resolve`` in the launcher, into a ``ClientSecurity`` whose ``repr`` hides it.

Failures of a secure connection are named by ``explain``: authentication failed, not
authorised on a topic or group, TLS certificate not trusted.
"""
from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from pipelines.config import DEFAULT_PORT

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
DEFAULT_PASSWORD_ENV = "NEWSFLOW_KAFKA_PASSWORD"

# Config file keys (librdkafka's names, plus newsflow's .file/.env for the password) -> field.
FILE_KEYS = {
    "security.protocol": "protocol",
    "sasl.mechanism": "mechanism",
    "sasl.mechanisms": "mechanism",
    "sasl.username": "username",
    "sasl.password.file": "password_file",
    "sasl.password.env": "password_env",
    "ssl.ca.location": "ca_file",
    "ssl.certificate.location": "cert_file",
    "ssl.key.location": "key_file",
    "ssl.endpoint.identification.algorithm": "check_hostname",
}
PATH_FIELDS = ("password_file", "ca_file", "cert_file", "key_file")


class SecurityConfigError(ValueError):
    """Security settings that cannot work: a one-line reason (never the secret)."""


@dataclass(frozen=True)
class KafkaSecurity:
    """Where and how to authenticate; no secret values (see the module docstring)."""

    protocol: str = "PLAINTEXT"
    mechanism: str | None = None
    username: str | None = None
    password_file: Path | None = None
    password_env: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    check_hostname: bool = True
    # A password written in the config file itself (librdkafka's sasl.password); kept out of repr.
    file_password: str | None = field(default=None, repr=False, compare=False)

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")


def read_config_file(path: Path) -> KafkaSecurity:
    """A client config file: ``key=value`` lines, ``#`` comments; relative paths are relative to it."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SecurityConfigError(f"cannot read the Kafka config file {path}: {exc.strerror or exc}") from exc
    values: dict = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            raise SecurityConfigError(f"{path}:{number}: expected key=value")
        if key == "sasl.password":
            values["file_password"] = value
        elif key in FILE_KEYS:
            values[FILE_KEYS[key]] = value
        else:
            raise SecurityConfigError(f"{path}:{number}: unknown key {key!r} (known: sasl.password, "
                                      f"{', '.join(sorted(FILE_KEYS))})")
    folder = Path(path).parent
    for name in PATH_FIELDS:
        if values.get(name):
            values[name] = folder / Path(values[name]).expanduser()
    if "check_hostname" in values:
        algorithm = values["check_hostname"].lower()
        if algorithm not in ("https", "none", ""):
            raise SecurityConfigError(f"{path}: ssl.endpoint.identification.algorithm is https or none, "
                                      f"not {algorithm!r}")
        values["check_hostname"] = algorithm == "https"
    return KafkaSecurity(**values)


def from_flags(kafka_config=None, protocol=None, mechanism=None, username=None, password_file=None,
               password_env=None, ca_file=None, cert_file=None, key_file=None,
               no_check_hostname=False) -> KafkaSecurity:
    """The config file's settings with the flags given on top of them."""
    base = read_config_file(Path(kafka_config)) if kafka_config else KafkaSecurity()
    given = {"protocol": protocol, "mechanism": mechanism, "username": username,
             "password_file": Path(password_file) if password_file else None, "password_env": password_env,
             "ca_file": Path(ca_file) if ca_file else None, "cert_file": Path(cert_file) if cert_file else None,
             "key_file": Path(key_file) if key_file else None}
    if password_file or password_env:
        # Where the password is, as the flags say: the file's own answer no longer counts.
        base = replace(base, password_file=None, password_env=None, file_password=None)
    settings = replace(base, **{k: v for k, v in given.items() if v})
    if no_check_hostname:
        settings = replace(settings, check_hostname=False)
    if settings.protocol == "PLAINTEXT" and (settings.username or settings.mechanism):
        settings = replace(settings, protocol="SASL_SSL")  # a user name without a protocol: the usual cluster
    if settings.protocol == "PLAINTEXT" and settings.ca_file:
        settings = replace(settings, protocol="SSL")
    validate(settings)
    return settings


def validate(settings: KafkaSecurity) -> None:
    if settings.protocol not in PROTOCOLS:
        raise SecurityConfigError(f"security protocol {settings.protocol!r} is not one of {', '.join(PROTOCOLS)}")
    if settings.uses_sasl:
        if settings.mechanism is None:
            raise SecurityConfigError(f"{settings.protocol} needs a SASL mechanism ({', '.join(MECHANISMS)}): "
                                      f"--sasl-mechanism or sasl.mechanism in --kafka-config")
        if settings.mechanism not in MECHANISMS:
            raise SecurityConfigError(f"SASL mechanism {settings.mechanism!r} is not one of {', '.join(MECHANISMS)}")
        if not settings.username:
            raise SecurityConfigError(f"{settings.protocol} needs a user name: --sasl-username or sasl.username")
    if bool(settings.cert_file) != bool(settings.key_file):
        raise SecurityConfigError("a client certificate needs both --ssl-cert-file and --ssl-key-file")
    for name in PATH_FIELDS:
        path = getattr(settings, name)
        if path is not None and not Path(path).is_file():
            flag = name.replace("_", "-")
            raise SecurityConfigError(f"{flag} {path}: no such file")


@dataclass(frozen=True)
class ClientSecurity:
    """Resolved settings for kafka-python: the declaration plus the password it points to."""

    settings: KafkaSecurity = KafkaSecurity()
    password: str | None = field(default=None, repr=False)

    def client_options(self) -> dict:
        """kafka-python keyword arguments (PLAINTEXT: none, so the defaults stay as they were)."""
        s = self.settings
        if s.protocol == "PLAINTEXT":
            return {}
        options: dict = {"security_protocol": s.protocol}
        if s.uses_tls:
            options.update(ssl_check_hostname=s.check_hostname,
                           ssl_cafile=str(s.ca_file) if s.ca_file else None,
                           ssl_certfile=str(s.cert_file) if s.cert_file else None,
                           ssl_keyfile=str(s.key_file) if s.key_file else None)
        if s.uses_sasl:
            options.update(sasl_mechanism=s.mechanism, sasl_plain_username=s.username,
                           sasl_plain_password=self.password)
        return options


PLAINTEXT = ClientSecurity()


def resolve(settings: KafkaSecurity, environ: Mapping[str, str]) -> ClientSecurity:
    """Read the password: ``--sasl-password-file``, else the variable named by ``password_env``
    (default $NEWSFLOW_KAFKA_PASSWORD), else the config file's ``sasl.password``."""
    if not settings.uses_sasl:
        return ClientSecurity(settings)
    if settings.password_file:
        try:
            password = Path(settings.password_file).read_text().rstrip("\r\n")
        except OSError as exc:
            raise SecurityConfigError(f"cannot read the password file {settings.password_file}: "
                                      f"{exc.strerror or exc}") from exc
        if not password:
            raise SecurityConfigError(f"the password file {settings.password_file} is empty")
        return ClientSecurity(settings, password)
    variable = settings.password_env or DEFAULT_PASSWORD_ENV
    if environ.get(variable):
        return ClientSecurity(settings, environ[variable])
    if settings.file_password and not settings.password_env:
        return ClientSecurity(settings, settings.file_password)
    raise SecurityConfigError(f"{settings.mechanism} as {settings.username} needs a password: set ${variable} "
                              f"or pass --sasl-password-file FILE")


# ---------------------------------------------------------------- naming failures
def _first_host(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    return host.strip("[]") or "localhost", int(port or DEFAULT_PORT)


def connection_problem(bootstrap: str, security: ClientSecurity, timeout_s: float = 3.0) -> str | None:
    """Why the client could not bootstrap from a broker that listens at the first bootstrap
    server: its TLS certificate is not trusted, or (the connection fine) the SASL login was
    refused. None for PLAINTEXT, or when nobody listens (that is not a security problem)."""
    s = security.settings
    if s.protocol == "PLAINTEXT":
        return None
    host, port = _first_host(bootstrap)
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            if s.uses_tls:
                context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
                context.check_hostname = s.check_hostname
                if s.cert_file:
                    context.load_cert_chain(str(s.cert_file), str(s.key_file))
                context.wrap_socket(sock, server_hostname=host).close()
    except ssl.SSLCertVerificationError as exc:
        where = f"--ssl-ca-file {s.ca_file}" if s.ca_file else "the system's CA certificates"
        return (f"TLS certificate of the broker at {host}:{port} not trusted ({exc.verify_message}) "
                f"by {where}; pass the cluster's CA with --ssl-ca-file or ssl.ca.location")
    except ssl.SSLError as exc:
        return f"TLS handshake with {host}:{port} failed ({exc.reason or exc}); is it a {s.protocol} listener?"
    except OSError:
        return None
    if s.uses_sasl:
        # The broker answers a failed SASL login by closing the connection, which kafka-python
        # reports as a disconnect and then a bootstrap timeout.
        return (f"authentication failed for user {s.username} ({s.mechanism}) at {host}:{port}: the broker "
                f"closed the connection at login (wrong user name or password, or a mechanism it does not enable)")
    return None


def explain(exc: BaseException, bootstrap: str | None, security: ClientSecurity) -> str | None:
    """A one-line reason for an authentication or authorisation failure, or None for others."""
    from kafka import errors

    s = security.settings
    at = f" at {bootstrap}" if bootstrap else ""
    who = s.username or "ANONYMOUS"
    if isinstance(exc, errors.SaslAuthenticationFailedError):
        return (f"authentication failed for user {s.username} ({s.mechanism}){at}: "
                f"wrong user name or password, or a mechanism the broker does not enable")
    if isinstance(exc, errors.TopicAuthorizationFailedError):
        return f"user {who} is not authorised on topic {_names(exc)}{at} (ask the cluster's operators for an ACL)"
    if isinstance(exc, errors.GroupAuthorizationFailedError):
        return f"user {who} is not authorised on consumer group {_names(exc)}{at} (ask for an ACL)"
    if isinstance(exc, errors.TransactionalIdAuthorizationFailedError):
        return f"user {who} is not authorised on transactional id {_names(exc)}{at} (ask for an ACL)"
    if isinstance(exc, errors.ClusterAuthorizationFailedError):
        return f"user {who} is not authorised for this cluster operation{at} (ask for an ACL)"
    if isinstance(exc, errors.AuthorizationError):
        return f"user {who} is not authorised{at}: {_names(exc)}"
    return None


def _names(exc: BaseException) -> str:
    """The topic/group names a kafka-python error carries (a set, a name, or a message)."""
    arg = exc.args[0] if exc.args else None
    if isinstance(arg, (set, frozenset, list, tuple)):
        return ", ".join(sorted(str(name) for name in arg))
    return str(arg) if arg else type(exc).__name__
