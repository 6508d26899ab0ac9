"""Checking a signed membership certificate with pyHanko's validator (blocking: run it in a thread).

What a user relies on, from pyHanko's ``PdfSignatureStatus``: *intact* is the digest and the CMS
signature both correct, the signature covering its whole revision, and anything appended later
being no more than signature maintenance (DSS, document timestamps) allowed by the certification's
DocMDP policy; *trusted* is a chain to a configured root with a signing key usage. A timestamp that
is present but fails validation also makes the certificate invalid, as in pyHanko's bottom line.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from accounts_service.domain.certificate import CertificateCheck

log = logging.getLogger(__name__)
SIGNING_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
HARMLESS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
CHANGES = {
    ModificationLevel.FORM_FILLING: "form fields were filled in or signatures added",
    ModificationLevel.ANNOTATIONS: "annotations were added",
    ModificationLevel.OTHER: "its content or structure was changed",
}
COVERED = (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION)


def check(pdf: bytes, context: Callable[[], ValidationContext], keys: tuple[str, str]) -> CertificateCheck:
    try:
        return _check(pdf, context, keys)
    except (PdfError, SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        return CertificateCheck.refused(f"the file is not a readable signed PDF: {exc}")
    except Exception:  # a verifier answers, whatever the input
        log.exception("certificate check failed unexpectedly")
        return CertificateCheck.refused("the file could not be checked")


def _check(pdf: bytes, context: Callable[[], ValidationContext], keys: tuple[str, str]) -> CertificateCheck:
    reader = PdfFileReader(io.BytesIO(pdf))
    signatures = reader.embedded_regular_signatures
    if not signatures:
        return CertificateCheck.refused("the PDF carries no signature")
    embedded = signatures[0]  # the certification signature DINAMIS applied when issuing
    status = validate_pdf_signature(embedded, context(), key_usage_settings=SIGNING_USAGE)
    problems: list[str] = []
    if not (status.intact and status.valid):
        problems.append("the signed content was modified: the signature does not match it")
    level = status.modification_level
    if status.coverage not in COVERED or level not in HARMLESS or status.docmdp_ok is False:
        problems.append(f"the document was changed after signing: {CHANGES.get(level, 'unexplained changes')}")
    serial, entity_id = _facts(reader.get_historical_resolver(embedded.signed_revision).trailer_view, keys)
    if _facts(reader.trailer_view, keys) != (serial, entity_id):
        problems.append("the certificate's serial or entity was changed after signing")
    intact = not problems
    if not status.trusted:
        problems.append("the signer's certificate does not chain to a trusted DINAMIS root")
    stamp = status.timestamp_validity
    stamp_ok = stamp is None or (stamp.intact and stamp.valid and stamp.trusted)
    if not stamp_ok:
        problems.append("the signature timestamp could not be validated")
    if not serial or not entity_id:
        problems.append("this is not a DINAMIS certificate: no serial or entity in the signed document")
    return CertificateCheck(
        valid=not problems, intact=intact, trusted=status.trusted,
        signer=status.signing_cert.subject.human_friendly,
        signed_at=stamp.timestamp if stamp is not None and stamp_ok else status.signer_reported_dt,
        serial=serial, entity_id=entity_id, problems=tuple(problems),
    )


def _facts(trailer, keys: tuple[str, str]) -> tuple[str | None, str | None]:
    """The serial and entity id in the document information of one revision (given its trailer)."""
    info = trailer["/Info"] if "/Info" in trailer else {}  # pyHanko dictionaries dereference on []
    serial, entity_id = (str(info[k]).strip() if k in info else "" for k in keys)
    return serial or None, entity_id or None
