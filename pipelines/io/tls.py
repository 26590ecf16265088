"""A small certificate authority for a local TLS broker: a CA and certificates it signs, as PEM files.

``newsflow kafka up --secure`` and the security tests use it; a real cluster's certificates
come from its operators. Keys are unencrypted PKCS#8 PEM (what Kafka's PEM key stores and
Python's ``ssl`` read) and written with mode 0600.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 825


@dataclass(frozen=True)
class Authority:
    """A CA's certificate and key files."""

    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "newsflow local"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (mode 0600, also when it existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _write_key(key, path: Path) -> None:
    write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(
        now + datetime.timedelta(days=VALID_DAYS))


def make_authority(folder: Path, name: str = "newsflow local CA") -> Authority:
    """A self-signed CA in ``folder`` (``ca.pem``, ``ca.key``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = _validity(x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
                        .public_key(key.public_key()).serial_number(x509.random_serial_number()))
    cert = (builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    authority = Authority(cert_file=folder / "ca.pem", key_file=folder / "ca.key")
    _write_key(key, authority.key_file)
    authority.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return authority


def issue(authority: Authority, folder: Path, stem: str, hosts=("127.0.0.1", "localhost")) -> tuple[Path, Path]:
    """A server certificate for ``hosts`` signed by ``authority``: (``STEM.pem``, ``STEM.key``)."""
    ca_cert = x509.load_pem_x509_certificate(authority.cert_file.read_bytes())
    ca_key = serialization.load_pem_private_key(authority.key_file.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (_validity(x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca_cert.subject)
                      .public_key(key.public_key()).serial_number(x509.random_serial_number()))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                                  x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = folder / f"{stem}.pem", folder / f"{stem}.key"
    _write_key(key, key_file)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_file, key_file
