"""A certificate issued with a timestamp authority (PAdES B-T): the signing time is the TSA's, and a
timestamp from an authority nobody trusts is reported. The TSA is a fake served on loopback (pyHanko's
test timestamper behind a plain HTTP handler): no network."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from accounts_service.adapters.certificate import PadesCertificates
from accounts_service.domain.certificate import CertificateFacts
from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from dinamis_cli.stack.pki import ensure_signing_pki
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

STAMPED_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)


def tsa_identity(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test timestamp authority")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256()))
    pem = tmp_path / "tsa.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    stamper = DummyTimeStamper(asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
                               keys.PrivateKeyInfo.load(der_key), fixed_dt=STAMPED_AT)
    return stamper, pem


@pytest.fixture
def tsa(tmp_path):
    stamper, pem = tsa_identity(tmp_path)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", pem
    server.shutdown()
    server.server_close()


@pytest.fixture
def facts():
    at = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    return CertificateFacts("DIN-2026-00000042", "ent-42", "Laboratoire d'océanographie", "", "European laboratory",
                            "scientific", "DE", "Anna Schmidt, director", (), ("pleiades",), at, "Marc Admin")


async def test_a_timestamped_certificate_is_dated_by_the_timestamp_authority(tmp_path, tsa, facts):
    url, tsa_root = tsa
    pki = ensure_signing_pki(tmp_path / "pki")
    certificates = PadesCertificates(pki.key, pki.cert, trust_root_files=[pki.root, tsa_root], timestamp_url=url)
    check = await certificates.verify(await certificates.issue(facts))
    assert (check.valid, check.intact, check.trusted, check.problems) == (True, True, True, ())
    assert check.signed_at == STAMPED_AT
    assert check.serial == "DIN-2026-00000042"


async def test_a_timestamp_from_an_untrusted_authority_is_reported(tmp_path, tsa, facts):
    url, _ = tsa
    pki = ensure_signing_pki(tmp_path / "pki")
    certificates = PadesCertificates(pki.key, pki.cert, trust_root_files=[pki.root], timestamp_url=url)
    check = await certificates.verify(await certificates.issue(facts))
    assert (check.valid, check.intact, check.trusted) == (False, True, True)
    assert check.problems == ("the signature timestamp could not be validated",)
