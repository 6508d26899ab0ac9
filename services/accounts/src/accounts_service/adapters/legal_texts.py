"""The Charter and User Licences shipped with the service (``accounts_service/legal/*.txt``): a
small header (id, version, title, published) then the text. Published at start-up when a
version is not in the database yet, so a release carrying a new version asks the entities to
accept it, like a publication through the API."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from accounts_service.domain.documents import LegalDocument


def shipped() -> list[LegalDocument]:
    out = []
    for item in sorted(resources.files("accounts_service.legal").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".txt"):
            head, _, text = item.read_text(encoding="utf-8").partition("\n---\n")
            fields = dict(line.split(": ", 1) for line in head.splitlines())
            out.append(LegalDocument(fields["id"], fields["version"], fields["title"], text,
                                     datetime.fromisoformat(fields["published"])))
    return out
