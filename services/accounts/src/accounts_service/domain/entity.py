"""An entity's subscription ("adhésion"), step by step (../shared/domain/BRIEF.md):

1. the future correspondent gives an e-mail and validates it (one-time link);
2. describes the entity, its category and its legal representative;
3. the legal representative receives the Charter and the User Licences (a link, by e-mail);
4. accepts them electronically: time, versions, hashes and origin are recorded, never changed;
5. DINAMIS reviews (and CNES / Airbus for foreign entities, each its own decision); on approval
   the entity gets a signed membership certificate.

Eligibility per mission follows from the category, the reviews and the documents accepted;
a newer version of a document must be accepted again before the entity orders under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accounts_service.domain import documents as docs_rules
from accounts_service.domain.categories import EUROPE, REVIEWERS, Category, category, reviewer_for
from accounts_service.domain.errors import Conflict, InvalidInput
from accounts_service.domain.events import (
    AcceptanceRequested,
    EligibilityChanged,
    EmailVerificationRequested,
    EntityApproved,
    EntityRejected,
    EntitySubscribed,
    EntitySuspended,
    LicenceAccepted,
)
from accounts_service.domain.identifiers import Identifier, parse_identifier
from accounts_service.domain.links import Link, use_link

EMAIL_PENDING, DESCRIBING = "email-pending", "describing"
SUBSCRIBED, AWAITING_REVIEW, APPROVED, REJECTED, SUSPENDED = (
    "subscribed", "awaiting-review", "approved", "rejected", "suspended")
ABANDONED = "abandoned"  # described, but its legal representative let the acceptance link expire
VERIFY, EDIT, ACCEPT = "e-mail validation", "subscription", "licence acceptance"
Documents = dict[str, docs_rules.LegalDocument]


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    role: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class Description:
    name: str
    category: str
    country: str
    sector: str
    legal_representative: Person
    identifier_scheme: str = ""
    identifier: str = ""
    contract_reference: str = ""
    partner_entity_id: str = ""


@dataclass(frozen=True)
class Acceptance:
    document_id: str
    version: str
    sha256: str
    accepted_at: datetime
    accepted_by: str
    origin: str


@dataclass(frozen=True)
class Review:
    reviewer: str
    decision: str  # approve / reject
    by: str
    at: datetime
    reason: str



def mailbox(address: str) -> str:
    """The mailbox an address reaches, as far as the address tells: case-folded, without surrounding
    spaces or sub-addressing (``name+tag@domain`` reaches ``name@domain``)."""
    local, _, domain = address.strip().casefold().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"

@dataclass
class Entity:
    id: str
    correspondent: Person
    created_at: datetime
    status: str = EMAIL_PENDING
    name: str = ""
    category_id: str = ""
    country: str = ""
    sector: str = ""
    identifier: Identifier | None = None
    contract_reference: str = ""
    partner_entity_id: str = ""
    legal_representative: Person | None = None
    acceptances: list[Acceptance] = field(default_factory=list)
    reviews: dict[str, Review] = field(default_factory=dict)
    eligible_missions: list[str] = field(default_factory=list)
    certificate_serial: str = ""
    links: dict[str, Link] = field(default_factory=dict)
    version: int = 0
    seen_events: set[str] = field(default_factory=set)
    events: list[Any] = field(default_factory=list, repr=False)

    # --- 1. the correspondent's e-mail ---------------------------------------------------------

    @classmethod
    def start(cls, entity_id: str, correspondent: Person, now: datetime, ttl: timedelta) -> Entity:
        entity = cls(id=entity_id, correspondent=correspondent, created_at=now)
        link, token = Link.issue(VERIFY, now, ttl)
        entity.links[VERIFY] = link
        entity.events.append(EmailVerificationRequested(correspondent.email, correspondent.name, token))
        return entity

    def verify_email(self, token: str, now: datetime, ttl: timedelta) -> str:
        """Spends the validation link; returns a token to describe the entity with (``ttl``)."""
        use_link(self.links, VERIFY, token, now)
        if self.status != EMAIL_PENDING:
            raise Conflict("this e-mail address is already validated")
        self.status = DESCRIBING
        link, edit_token = Link.issue(EDIT, now, ttl, single_use=False)
        self.links[EDIT] = link
        return edit_token

    # --- 2. the entity --------------------------------------------------------------------------

    @property
    def category(self) -> Category:
        return category(self.category_id)

    @property
    def kind(self) -> str:
        return self.category.kind

    @property
    def identity_key(self) -> str:
        """Unique among live subscriptions: two subscriptions of one organisation collide on it."""
        if self.status in (EMAIL_PENDING, DESCRIBING, REJECTED, ABANDONED) or not self.category_id:
            return f"open:{self.id}"
        if self.identifier is not None:
            return self.identifier.key
        return f"foreign:{self.country}:{' '.join(self.name.lower().split())}"

    def abandon_if_stale(self, now: datetime) -> bool:
        """A subscription whose legal representative never accepted before the link expired no
        longer holds its organisation's identifier (another subscription of it may go on)."""
        link = self.links.get(ACCEPT)
        if self.status != SUBSCRIBED or link is None or link.expires_at > now:
            return False
        self.status = ABANDONED
        return True

    def duplicate(self) -> Conflict:
        """The error when another live subscription has this one's identity key."""
        what = self.identifier.display() if self.identifier else f"{self.name} ({self.country})"
        return Conflict(f"an entity with {what} is already subscribed or being subscribed")

    def describe(self, edit_token: str, d: Description, partner: Entity | None, docs: Documents,
                 now: datetime, ttl: timedelta) -> None:
        use_link(self.links, EDIT, edit_token, now)
        if self.status != DESCRIBING:
            raise Conflict(f"this subscription is {self.status}: it can no longer be changed")
        cat = category(d.category)
        country = d.country.upper()
        if cat.french and country != "FR":
            raise InvalidInput(f"a {cat.label.lower()} is French: country must be FR, not {country}")
        if not cat.french and country == "FR":
            raise InvalidInput(f"{cat.label}: the country is the organisation's own, not FR")
        if cat.id == "european-lab" and country not in EUROPE:
            raise InvalidInput(f"{country} is not a European Union or EEA country")
        identifier = None
        if cat.french:
            if not d.identifier:
                raise InvalidInput(f"a {' or '.join(s.upper() for s in cat.identifier_schemes)} is required")
            identifier = parse_identifier(d.identifier_scheme or cat.identifier_schemes[0], d.identifier,
                                          cat.identifier_schemes)
        if mailbox(d.legal_representative.email) == mailbox(self.correspondent.email):
            raise InvalidInput("the legal representative accepts with their own e-mail address, to which their "
                               "link is sent: give theirs, not the correspondent's (nor an alias of it)")
        if cat.needs_contract and not d.contract_reference.strip():
            raise InvalidInput("a private company working for a public actor gives the contract reference")
        if cat.needs_partner:
            if not d.partner_entity_id:
                raise InvalidInput("a foreign scientific organisation names its French partner entity")
            if partner is None or partner.status != APPROVED or not partner.category.french:
                raise InvalidInput(f"partner {d.partner_entity_id!r} is not an approved French DINAMIS entity")
        self.name, self.category_id, self.country, self.sector = d.name.strip(), cat.id, country, d.sector
        self.identifier, self.legal_representative = identifier, d.legal_representative
        self.contract_reference = d.contract_reference.strip() if cat.needs_contract else ""
        self.partner_entity_id = d.partner_entity_id if cat.needs_partner else ""
        self.status = SUBSCRIBED
        self.links[EDIT].used_at = now
        self.events.append(EntitySubscribed(now))
        self._invite_legal_representative(docs, now, ttl, renewal=False)

    # --- 3./4. the legal representative accepts the documents ---------------------------------------

    def required_documents(self, docs: Documents) -> list[docs_rules.LegalDocument]:
        return [docs[d] for d in docs_rules.required_for(self.category) if d in docs]

    def _invite_legal_representative(self, docs: Documents, now: datetime, ttl: timedelta, renewal: bool) -> None:
        assert self.legal_representative is not None
        link, token = Link.issue(ACCEPT, now, ttl)
        self.links[ACCEPT] = link
        self.events.append(AcceptanceRequested(self.legal_representative, token, self.name,
                                               [d.ref for d in self.required_documents(docs)], renewal))

    def check_acceptance_link(self, token: str, now: datetime) -> None:
        use_link(self.links, ACCEPT, token, now, spend=False)

    def accept(self, token: str, accepted: list[tuple[str, str, str]], signatory: str, origin: str,
               docs: Documents, now: datetime) -> None:
        """``accepted``: (document id, version, sha256) of each document, as the signatory saw them."""
        if self.status not in (SUBSCRIBED, AWAITING_REVIEW, APPROVED):
            raise Conflict(f"this subscription is {self.status}: nothing to accept")
        use_link(self.links, ACCEPT, token, now)
        assert self.legal_representative is not None
        if " ".join(signatory.lower().split()) != " ".join(self.legal_representative.name.lower().split()):
            raise InvalidInput(f"the documents are accepted by the legal representative, "
                               f"{self.legal_representative.name}, under their own name")
        seen = {doc_id: (version, sha) for doc_id, version, sha in accepted}
        for doc in self.required_documents(docs):
            if doc.document_id not in seen:
                raise InvalidInput(f"{doc.title} ({doc.document_id}) must be accepted")
            if seen[doc.document_id] != (doc.version, doc.sha256):
                raise Conflict(f"{doc.title} is now version {doc.version} (sha256 {doc.sha256}): "
                               "read and accept that version")
        new = [Acceptance(d.document_id, d.version, d.sha256, now, self.legal_representative.name, origin)
               for d in self.required_documents(docs)]
        self.acceptances.extend(new)
        if self.status == SUBSCRIBED:
            self.status = AWAITING_REVIEW
        self.eligible_missions = self.eligibility(docs)
        self.events.append(LicenceAccepted([(a.document_id, a.version, a.sha256) for a in new], now))

    def accepted_current(self, document: docs_rules.LegalDocument) -> bool:
        return any((a.document_id, a.version, a.sha256) == document.ref for a in self.acceptances)

    def document_published(self, document: docs_rules.LegalDocument, docs: Documents, now: datetime,
                           ttl: timedelta) -> None:
        """A new version of ``document`` is current: ask for a new acceptance where it applies."""
        if self.status not in (AWAITING_REVIEW, APPROVED) or document.document_id not in \
                docs_rules.required_for(self.category) or self.accepted_current(document):
            return
        self._invite_legal_representative(docs, now, ttl, renewal=True)
        self._refresh_eligibility(docs, now, f"{document.title} version {document.version} awaits acceptance")

    # --- 5. reviews -------------------------------------------------------------------------------

    def eligibility(self, docs: Documents) -> list[str]:
        if self.status != APPROVED:
            return []
        cat, out = self.category, []
        for mission in cat.missions:
            partner = reviewer_for(cat, mission)
            if partner and (partner not in self.reviews or self.reviews[partner].decision != "approve"):
                continue
            needed = [docs[d] for d in (docs_rules.CHARTER, docs_rules.LICENCES[mission]) if d in docs]
            if all(self.accepted_current(d) for d in needed):
                out.append(mission)
        return out

    def _refresh_eligibility(self, docs: Documents, now: datetime, reason: str) -> None:
        eligible = self.eligibility(docs)
        if eligible != self.eligible_missions:
            self.eligible_missions = eligible
            self.events.append(EligibilityChanged(now, reason))

    def check_approvable(self) -> None:
        if self.status != AWAITING_REVIEW:
            raise Conflict(self._why_not_reviewable())

    def _why_not_reviewable(self) -> str:
        if self.status in (EMAIL_PENDING, DESCRIBING, SUBSCRIBED):
            return "the legal representative has not accepted the documents yet"
        return f"this subscription is already {self.status}"

    def review(self, reviewer: str, decision: str, by: str, reason: str, docs: Documents, now: datetime,
               certificate_serial: str = "") -> None:
        if reviewer not in REVIEWERS:
            raise InvalidInput(f"reviewer must be one of {', '.join(REVIEWERS)}")
        if decision not in ("approve", "reject"):
            raise InvalidInput("decision must be 'approve' or 'reject'")
        if decision == "reject" and not reason.strip():
            raise InvalidInput("a rejection states its reason")
        if reviewer == "dinamis":
            self.check_approvable()
            self.reviews[reviewer] = Review(reviewer, decision, by, now, reason.strip())
            if decision == "approve":
                self.status, self.certificate_serial = APPROVED, certificate_serial
                self.eligible_missions = self.eligibility(docs)
                self.events.append(EntityApproved(by, now, certificate_serial))
            else:
                self.status, self.eligible_missions = REJECTED, []
                self.events.append(EntityRejected(by, now, reason.strip()))
            return
        if reviewer not in {who for _, who in self.category.reviews}:
            raise Conflict(f"a {self.category.label.lower()} needs no {reviewer.upper()} review")
        if reviewer in self.reviews:
            raise Conflict(f"{reviewer.upper()} already decided ({self.reviews[reviewer].decision})")
        if self.status not in (AWAITING_REVIEW, APPROVED):
            raise Conflict(self._why_not_reviewable())
        self.reviews[reviewer] = Review(reviewer, decision, by, now, reason.strip())
        self._refresh_eligibility(docs, now, f"{reviewer.upper()} review: {decision}")

    def suspend(self, by: str, reason: str, now: datetime) -> None:
        if self.status != APPROVED:
            raise Conflict(f"only an approved entity can be suspended; this one is {self.status}")
        if not reason.strip():
            raise InvalidInput("a suspension states its reason")
        self.status, self.eligible_missions = SUSPENDED, []
        self.events.append(EntitySuspended(by, now, reason.strip()))
