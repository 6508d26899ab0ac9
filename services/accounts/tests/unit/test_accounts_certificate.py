"""The signed membership certificate: what it shows, that it verifies, and that any tampering, a foreign
signer or a file that is no certificate is reported rather than accepted."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from accounts_service.adapters.certificate import PadesCertificates
from accounts_service.adapters.certificate_layout import render
from accounts_service.domain.certificate import AcceptedDocumentFact, CertificateFacts
from cryptography.hazmat.primitives import serialization
from dinamis_cli.stack.pki import ensure_signing_pki
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
CHARTER_SHA = "3f0c2a7d9b1e4c5a8f6d2e1b0a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c"
LICENCE_SHA = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
FACTS = CertificateFacts(
    serial="DIN-2026-0001f3a9", entity_id="ent-7c1e", entity_name="Centre d'études spatiales de la biosphère (CESBIO)",
    identifier="SIRET 130 026 123 00015", category_label="University, research or teaching", kind="scientific",
    country="FR", legal_representative="Jeanne Dupont, directrice",
    acceptances=(
        AcceptedDocumentFact("dinamis-charter", "Charte DINAMIS", "2024-06", CHARTER_SHA, T0 - timedelta(days=2),
                             "Jeanne Dupont", "203.0.113.7 (Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0)"),
        AcceptedDocumentFact("licence-pleiades", "Licence Pléiades", "2025-01", LICENCE_SHA,
                             T0 - timedelta(days=2, minutes=-3), "Jeanne Dupont", "203.0.113.7 (Mozilla/5.0)"),
    ),
    eligible_missions=("pleiades", "spot-6-7"), approved_at=T0, approved_by="Marc Admin (DINAMIS)",
)


@pytest.fixture
def pki(tmp_path):
    return ensure_signing_pki(tmp_path / "pki")


@pytest.fixture
def certificates(pki):
    return PadesCertificates(pki.key, pki.cert, trust_root_files=[pki.root])


def visible_text(pdf: bytes) -> str:
    """The text drawn on the pages (reportlab's standard-font strings), whitespace removed."""
    reader = PdfFileReader(io.BytesIO(pdf))
    pages = reader.root["/Pages"]["/Kids"]
    streams = [page.get_object()["/Contents"] for page in pages]
    data = b"".join(s.data for c in streams for s in (c if isinstance(c, list) else [c]))
    unescape = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"(": b"(", b")": b")", b"\\": b"\\"}
    strings = [re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit()
                      else unescape.get(m[1], m[1]), raw) for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\)", data)]
    return re.sub(r"\s+", "", b"".join(strings).decode("cp1252", errors="replace"))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def appended(pdf: bytes, change) -> bytes:
    """The certificate with an incremental update made by ``change(writer)`` appended after its signature."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_an_issued_certificate_is_valid_and_says_which_entity_it_certifies(certificates):
    check = await certificates.verify(await certificates.issue(FACTS))
    assert (check.valid, check.intact, check.trusted, check.problems) == (True, True, True, ())
    assert (check.serial, check.entity_id) == ("DIN-2026-0001f3a9", "ent-7c1e")
    assert "DINAMIS membership certificates (development)" in check.signer
    assert abs(check.signed_at - datetime.now(UTC)) < timedelta(minutes=2)


async def test_the_certificate_shows_the_entity_every_accepted_version_and_its_hash(certificates):
    text = visible_text(await certificates.issue(FACTS))
    for expected in ("Certificat d'adhésion DINAMIS / DINAMIS membership certificate", FACTS.serial,
                     FACTS.entity_name, FACTS.identifier, "2024-06", CHARTER_SHA, "2025-01", LICENCE_SHA,
                     "2026-02-28T09:15:00Z", "203.0.113.7 (Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0)",
                     "Pléiades, SPOT 6/7", "2026-03-02T09:15:00Z", "Marc Admin (DINAMIS)"):
        assert squeeze(expected) in text, expected


async def test_the_same_facts_give_the_same_visible_certificate(certificates):
    assert visible_text(await certificates.issue(FACTS)) == visible_text(await certificates.issue(FACTS))


async def test_a_byte_changed_in_the_signed_content_is_detected(certificates):
    pdf = await certificates.issue(FACTS)
    at = pdf.index(b"/DinamisEntity (")  # claim the certificate for another entity, in place
    forged = pdf[:at] + pdf[at:].replace(b"7c1e)", b"0bad)", 1)
    assert forged != pdf
    check = await certificates.verify(forged)
    assert (check.valid, check.intact) == (False, False)
    assert any("modified" in p for p in check.problems)


async def test_a_certificate_signed_under_another_ca_is_not_trusted(tmp_path, certificates):
    elsewhere = ensure_signing_pki(tmp_path / "elsewhere")
    foreign = PadesCertificates(elsewhere.key, elsewhere.cert, trust_root_files=[elsewhere.root])
    check = await certificates.verify(await foreign.issue(FACTS))
    assert (check.valid, check.intact, check.trusted) == (False, True, False)
    assert any("trusted" in p for p in check.problems)


@pytest.mark.parametrize("data", [b"", b"GIF89a\x01\x00\x01\x00", b"%PDF-1.4\nnot really a pdf", b"\x00" * 4096])
async def test_something_that_is_no_signed_pdf_is_refused_with_a_reason(certificates, data):
    check = await certificates.verify(data)
    assert not check.valid and check.problems and check.serial is None


async def test_a_truncated_certificate_or_an_unsigned_pdf_is_refused(certificates):
    pdf = await certificates.issue(FACTS)
    assert not (await certificates.verify(pdf[: len(pdf) // 2])).valid
    unsigned = await certificates.verify(render(FACTS))
    assert not unsigned.valid and unsigned.problems == ("the PDF carries no signature",)


async def test_an_oversized_upload_is_refused_before_parsing(certificates):
    check = await certificates.verify(b"%PDF-1.7\n" + b" " * (5 * 1024 * 1024))
    assert not check.valid and "5 MiB" in check.problems[0]


async def test_a_pdf_signed_by_dinamis_but_without_serial_is_not_a_certificate(pki, certificates):
    signer = signers.SimpleSigner.load(str(pki.key), str(pki.cert))
    meta = signers.PdfSignatureMetadata(field_name="Other", subfilter=fields.SigSeedSubFilter.PADES)
    writer = IncrementalPdfFileWriter(io.BytesIO(render(FACTS)))
    pdf = (await signers.PdfSigner(meta, signer).async_sign_pdf(writer)).getvalue()
    check = await certificates.verify(pdf)
    assert (check.valid, check.intact, check.trusted) == (False, True, True)
    assert any("not a DINAMIS certificate" in p for p in check.problems)


async def test_an_annotation_appended_after_signing_makes_it_not_intact(certificates):
    def annotate(writer):
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        note = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/FreeText"),
            pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in (60, 60, 400, 100)]),
            pdf_name("/Contents"): generic.TextStringObject("Also valid for ACME SAS"),
            pdf_name("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g")})
        page["/Annots"] = generic.ArrayObject([writer.add_object(note)])
        writer.update_container(page)

    check = await certificates.verify(appended(await certificates.issue(FACTS), annotate))
    assert (check.valid, check.intact, check.trusted) == (False, False, True)
    assert any("changed after signing" in p for p in check.problems)


async def test_rewriting_the_serial_after_signing_is_reported_and_the_signed_one_read_back(certificates):
    def reinfo(writer):
        writer.set_info(generic.DictionaryObject({
            pdf_name("/DinamisSerial"): generic.TextStringObject("DIN-2026-ffffffff"),
            pdf_name("/DinamisEntity"): generic.TextStringObject("ent-0bad")}))

    check = await certificates.verify(appended(await certificates.issue(FACTS), reinfo))
    assert (check.valid, check.intact) == (False, False)
    assert (check.serial, check.entity_id) == ("DIN-2026-0001f3a9", "ent-7c1e")
    assert any("changed after signing" in p for p in check.problems)


def test_facts_with_a_naive_time_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        CertificateFacts(**{**FACTS.__dict__, "approved_at": datetime(2026, 3, 2, 9, 15)})


async def test_an_encrypted_key_is_used_with_its_passphrase_and_a_mismatched_key_is_refused(tmp_path, pki):
    key = serialization.load_pem_private_key(pki.key.read_bytes(), password=None)
    locked = tmp_path / "locked.key"
    locked.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"s3cret")))
    certificates = PadesCertificates(locked, pki.cert, trust_root_files=[pki.root], key_passphrase=b"s3cret")
    assert (await certificates.verify(await certificates.issue(FACTS))).valid
    with pytest.raises(ValueError, match="does not belong"):
        PadesCertificates(ensure_signing_pki(tmp_path / "other").key, pki.cert)
