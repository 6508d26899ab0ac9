"""Signed PDF membership certificates: issue (render + PAdES signature) and verify.

PAdES (ETSI EN 319 142) is done with pyHanko, a maintained implementation that also validates:
byte ranges, CMS, chain building, incremental-update analysis and timestamps are exactly where
hand-written signature code goes wrong. The certificate is a *certification* signature that allows
no change (DocMDP P=1): any later edit other than signature maintenance (DSS, document timestamps)
makes it not intact. ``serial`` and ``entity_id`` go into the document information dictionary
(``/DinamisSerial``, ``/DinamisEntity``) written in the signed revision, and are read back from that
revision only, so an update appended later cannot change them.

CPU work and pyHanko's own event loops run in a worker thread; the caller's loop never blocks.
Verification is offline: trust is the configured roots (default: the signer's own certificate and
chain); revocation is not checked. With a ``timestamp_url`` (RFC 3161, PAdES B-T) the TSA's root must
be among the trust roots, or the certificate is reported with an untrusted timestamp.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext

from accounts_service.adapters import certificate_check
from accounts_service.adapters.certificate_layout import TITLE, render
from accounts_service.domain.certificate import CertificateCheck, CertificateFacts

SERIAL_KEY, ENTITY_KEY = "/DinamisSerial", "/DinamisEntity"
MAX_BYTES = 5 * 1024 * 1024


class PadesCertificates:
    def __init__(self, key_file: Path, cert_file: Path, chain_files: Sequence[Path] = (),
                 trust_root_files: Sequence[Path] = (), timestamp_url: str | None = None, *,
                 key_passphrase: bytes | None = None, location: str = "France") -> None:
        signer = signers.SimpleSigner.load(str(key_file), str(cert_file), ca_chain_files=[str(f) for f in chain_files],
                                           key_passphrase=key_passphrase)
        if signer is None:  # pyHanko logs the cause and returns None
            raise ValueError(f"cannot load the signing key {key_file} and certificate {cert_file}")
        if _public_der(signer) != signer.signing_cert.public_key.dump():
            raise ValueError(f"the signing key {key_file} does not belong to the certificate {cert_file}")
        self._signer = signer
        self._chain = list(load_certs_from_pemder([str(f) for f in chain_files]))
        roots = trust_root_files or (cert_file, *chain_files)
        self._roots = list(load_certs_from_pemder([str(f) for f in roots]))
        self._timestamper = HTTPTimeStamper(timestamp_url, timeout=10) if timestamp_url else None
        self._location = location

    async def issue(self, facts: CertificateFacts) -> bytes:
        return await asyncio.to_thread(self._issue, facts)

    async def verify(self, pdf: bytes) -> CertificateCheck:
        if len(pdf) > MAX_BYTES:
            return CertificateCheck.refused(f"the file is over {MAX_BYTES // 2**20} MiB: not a certificate")
        if not pdf.strip():
            return CertificateCheck.refused("the file is empty: not a PDF")
        if b"%PDF-" not in pdf[:1024]:
            return CertificateCheck.refused("the file is not a PDF")
        return await asyncio.to_thread(certificate_check.check, pdf, self._context, (SERIAL_KEY, ENTITY_KEY))

    def _context(self) -> ValidationContext:
        # a fresh context per check: it caches paths and revocation state; no network fetches (offline)
        return ValidationContext(trust_roots=self._roots, other_certs=self._chain, allow_fetching=False)

    def _issue(self, facts: CertificateFacts) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(render(facts)))
        writer.set_info(generic.DictionaryObject({
            pdf_name("/Title"): generic.TextStringObject(f"{TITLE} — {facts.serial}"),
            pdf_name("/Author"): generic.TextStringObject("DINAMIS"),
            pdf_name("/Subject"): generic.TextStringObject(facts.entity_name),
            pdf_name("/Creator"): generic.TextStringObject("DINAMIS accounts service"),
            pdf_name("/CreationDate"): generic.pdf_date(facts.approved_at),
            pdf_name(SERIAL_KEY): generic.TextStringObject(facts.serial),
            pdf_name(ENTITY_KEY): generic.TextStringObject(facts.entity_id),
        }))
        meta = signers.PdfSignatureMetadata(
            field_name="DinamisCertificate", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
            reason=TITLE, location=self._location, certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        )
        signer = signers.PdfSigner(meta, signer=self._signer, timestamper=self._timestamper)
        return signer.sign_pdf(writer).getvalue()


def _public_der(signer: signers.SimpleSigner) -> bytes:
    key = serialization.load_der_private_key(signer.signing_key.dump(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
