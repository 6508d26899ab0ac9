"""National identifiers of French entities, checked with python-stdnum (checksums included).

SIREN (9 digits, Luhn) identifies a legal unit, SIRET (14 digits, Luhn) one of its
establishments; RNA (``W`` + 9 characters) a non-profit association, which has no checksum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.exceptions import ValidationError
from stdnum.fr import siren, siret

from accounts_service.domain.errors import InvalidInput

_RNA = re.compile(r"^W[0-9][0-9AB][0-9]{7}$")


@dataclass(frozen=True)
class Identifier:
    scheme: str  # siret, siren, rna
    value: str  # normalised (no spaces)

    @property
    def key(self) -> str:
        """What makes two subscriptions the same entity."""
        return f"{self.scheme}:{self.value}"

    @property
    def siren(self) -> str | None:
        return self.value[:9] if self.scheme in ("siret", "siren") else None

    def display(self) -> str:
        shown = siret.format(self.value) if self.scheme == "siret" else (
            siren.format(self.value) if self.scheme == "siren" else self.value)
        return f"{self.scheme.upper()} {shown}"


def parse_identifier(scheme: str, value: str, accepted: tuple[str, ...]) -> Identifier:
    if scheme not in accepted:
        raise InvalidInput(f"identifier scheme {scheme!r} is not accepted for this category: use "
                           f"{' or '.join(accepted)}")
    compact = re.sub(r"[\s.\-]", "", value).upper()
    try:
        if scheme == "siret":
            return Identifier("siret", siret.validate(compact))
        if scheme == "siren":
            return Identifier("siren", siren.validate(compact))
    except ValidationError as exc:
        raise InvalidInput(f"{scheme.upper()} {value!r} is not valid: {exc}") from exc
    if not _RNA.match(compact):
        raise InvalidInput(f"RNA {value!r} is not valid: expected W followed by 9 characters, e.g. W751234567")
    return Identifier("rna", compact)
