"""A development PKI for the signed membership certificates of the accounts service: a root CA
("DINAMIS development root CA") and a document-signing certificate it issues ("DINAMIS membership
certificates (development)"), as PEM files in a state directory.

Development and tests only: production signs with a real certificate given by settings, and
no key made here is ever committed. Created once; later calls reuse the files (a missing or
unreadable signing pair is re-issued from the existing root). Private keys are written 0600.
Built with ``cryptography`` rather than by shelling out to openssl, so it works wherever the
workspace does.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT_NAME = "DINAMIS development root CA"
SIGNER_NAME = "DINAMIS membership certificates (development)"
ROOT_YEARS, SIGNER_YEARS = 10, 3


@dataclass(frozen=True)
class SigningFiles:
    key: Path  # the signer's private key (PEM, unencrypted, 0600)
    cert: Path  # the signer's certificate (PEM)
    root: Path  # the root CA certificate (PEM): the trust root verifiers configure


def ensure_signing_pki(directory: Path) -> SigningFiles:
    directory.mkdir(parents=True, exist_ok=True)
    root_key_file, root_file = directory / "root-ca.key", directory / "root-ca.pem"
    files = SigningFiles(key=directory / "signing.key", cert=directory / "signing.pem", root=root_file)
    root = _load(root_key_file, root_file)
    if root is None:
        root = _issue_root()
        _write_key(root_key_file, root[0])
        _write_cert(root_file, root[1])
    elif _load(files.key, files.cert, issuer=root[1]) is not None:
        return files
    key = ec.generate_private_key(ec.SECP256R1())
    _write_key(files.key, key)
    _write_cert(files.cert, _issue_signer(key, *root))
    return files


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DINAMIS (development)"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _usage(**granted: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: granted.get(n, False) for n in names})


def _builder(subject: str, issuer: x509.Name, public_key, years: int) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject)).issuer_name(issuer).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _issue_root() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(ROOT_NAME, _name(ROOT_NAME), key.public_key(), ROOT_YEARS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issue_signer(key: ec.EllipticCurvePrivateKey, root_key, root: x509.Certificate) -> x509.Certificate:
    return (
        _builder(SIGNER_NAME, root.subject, key.public_key(), SIGNER_YEARS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )


def _load(key_file: Path, cert_file: Path, issuer: x509.Certificate | None = None):
    """The (key, certificate) pair if both files exist, match, are valid for 30 more days and,
    when ``issuer`` is given, were issued by it; otherwise None."""
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except (OSError, ValueError, TypeError):
        return None
    if key.public_key() != cert.public_key():
        return None
    if cert.not_valid_after_utc < dt.datetime.now(dt.UTC) + dt.timedelta(days=30):
        return None
    if issuer is not None:
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            return None
    return key, cert


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, path)
