"""The development signing PKI: made once, reused after, private keys readable by the owner only."""

from __future__ import annotations

import stat

from cryptography import x509
from dinamis_cli.stack.pki import ensure_signing_pki


def test_the_pki_is_made_once_and_reused(tmp_path):
    first = ensure_signing_pki(tmp_path)
    made = {p: p.read_bytes() for p in tmp_path.iterdir()}
    assert ensure_signing_pki(tmp_path) == first
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == made


def test_private_keys_are_owner_only_and_the_signer_is_issued_by_the_root(tmp_path):
    files = ensure_signing_pki(tmp_path)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in tmp_path.glob("*.key"))
    cert, root = (x509.load_pem_x509_certificate(p.read_bytes()) for p in (files.cert, files.root))
    cert.verify_directly_issued_by(root)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert "DINAMIS membership certificates (development)" in cert.subject.rfc4514_string()


def test_a_lost_signing_key_is_reissued_under_the_same_root(tmp_path):
    files = ensure_signing_pki(tmp_path)
    root, old_cert = files.root.read_bytes(), files.cert.read_bytes()
    files.key.unlink()
    ensure_signing_pki(tmp_path)
    assert files.root.read_bytes() == root and files.cert.read_bytes() != old_cert and files.key.exists()
