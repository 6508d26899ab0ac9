"""The e-mails the accounts service sends, composed from what just happened. They are written in
the same atomic write as the state change and sent by a relay (``adapters/mail.py``), so none is
lost if the process dies; links point at the portal (``PORTAL_URL``), which calls the API."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from accounts_service.domain import events as ev
from accounts_service.domain.entity import Entity
from accounts_service.domain.user import User
from accounts_service.service_layer.ports import Mail

SIGNATURE = "\n\n-- \nDINAMIS · mutualised access to very-high-resolution satellite imagery\n"


def _link(portal: str, path: str, **query: str) -> str:
    return f"{portal.rstrip('/')}{path}?{urlencode(query)}"


def for_entity(entity: Entity, portal: str, titles: dict[str, str]) -> list[Mail]:
    mails = []
    for e in entity.events:
        if isinstance(e, ev.EmailVerificationRequested):
            mails.append(_validation(e, "go on with your organisation's DINAMIS subscription",
                                     _link(portal, "/subscription/verify", entity=entity.id, token=e.token)))
        elif isinstance(e, ev.AcceptanceRequested):
            listed = "\n".join(
                f"  - {titles.get(d, d)}, version {v} (SHA-256 {sha})\n"
                f"    {portal.rstrip('/')}/api/accounts/documents/{d}/{v}" for d, v, sha in e.documents)
            intro = ("A new version of a document governing your entity's use of DINAMIS imagery is "
                     "published. Until you accept it, new requests and downloads under it are paused."
                     if e.renewal else
                     f"{entity.correspondent.name} subscribed {e.entity_name} to DINAMIS and named you its "
                     "legal representative.")
            mails.append(Mail(e.legal_representative.email, f"DINAMIS: documents to accept for {e.entity_name}", (
                f"Hello {e.legal_representative.name},\n\n{intro}\n\nPlease read:\n{listed}\n\nand accept them "
                f"electronically here:\n\n  {_link(portal, '/subscription/accept', entity=entity.id, token=e.token)}"
                "\n\nYour acceptance records the time, the versions and their SHA-256, and where it came from.")))
        elif isinstance(e, ev.EntityApproved):
            mails.append(Mail(entity.correspondent.email, f"DINAMIS: {entity.name} is a member", (
                f"Hello {entity.correspondent.name},\n\n{entity.name}'s subscription is approved. Its signed "
                f"membership certificate (serial {e.certificate_serial}) is at\n\n  "
                f"{portal.rstrip('/')}/api/accounts/entities/{entity.id}/certificate\n\nYou are its correspondent: "
                "you will receive a separate e-mail to set your password, then you activate your colleagues' "
                "accounts.")))
        elif isinstance(e, ev.EntityRejected):
            mails.append(Mail(entity.correspondent.email, f"DINAMIS: {entity.name}'s subscription", (
                f"Hello {entity.correspondent.name},\n\n{entity.name}'s subscription was not approved: "
                f"{e.reason}\n\nYou may subscribe again once this is addressed.")))
        elif isinstance(e, ev.EntitySuspended):
            for to in _unique([entity.correspondent.email, entity.legal_representative.email
                               if entity.legal_representative else ""]):
                mails.append(Mail(to, f"DINAMIS: {entity.name}'s membership is suspended",
                                  f"{entity.name}'s membership is suspended: {e.reason}"))
    return [_signed(m) for m in mails]


def for_user(user: User, portal: str, correspondents: Iterable[str] = ()) -> list[Mail]:
    mails = []
    for e in user.events:
        if isinstance(e, ev.EmailVerificationRequested):
            mails.append(_validation(e, "ask for a DINAMIS account",
                                     _link(portal, "/account/verify", user=user.id, token=e.token)))
        elif isinstance(e, ev.UserRequested):
            how = (" signed in through their organisation's federation, which says they belong to your entity, and"
                   if "federation" in user.linked else "")
            mails.extend(Mail(to, f"DINAMIS: {user.name} asks for an account", (
                f"{user.name} <{user.email}>{how} asks for a DINAMIS account in your entity. As its correspondent, "
                f"activate or refuse it:\n\n  {portal.rstrip('/')}/entity/members?user={user.id}"))
                for to in _unique(correspondents))
        elif isinstance(e, ev.UserActivated) and e.by.startswith("federation:"):  # accounts enrolled before
            mails.extend(Mail(to, f"DINAMIS: {user.name} joined your entity", (
                f"{user.name} <{user.email}> signed in through their organisation's federation, which says they "
                f"belong to your entity, and now has a DINAMIS account. If that is wrong, deactivate it:\n\n  "
                f"{portal.rstrip('/')}/entity/members?user={user.id}")) for to in _unique(correspondents))
        elif isinstance(e, ev.UserActivated) and not user.keycloak_id and e.by != "dinamis":  # approval mail says it
            mails.append(Mail(user.email, "DINAMIS: your account is active", (
                f"Hello {user.name},\n\nYour DINAMIS account is active. You will receive a separate e-mail "
                f"to choose your password; then sign in at {portal}.")))
        elif isinstance(e, ev.UserDeactivated):
            mails.append(Mail(user.email, "DINAMIS: your account is deactivated",
                              f"Hello {user.name},\n\nYour DINAMIS account was deactivated: {e.reason}"))
        elif isinstance(e, ev.RolesChanged):
            mails.append(Mail(user.email, "DINAMIS: your roles changed", (
                f"Hello {user.name},\n\nYour roles are now: {', '.join(user.roles)}"
                + (f" (cells: {', '.join(user.cells)})" if user.cells else "")
                + f".\nReason: {e.reason}\nThey apply from your next sign-in.")))
    return [_signed(m) for m in mails]


def already_known(user: User, entity_name: str, portal: str) -> Mail:
    """To the owner of an address someone asked an account for, which has one already."""
    state = {"requested": "waits for its entity's correspondent to activate it",
             "active": "is active", "inactive": "was deactivated (its entity's correspondent can reactivate it)"}
    return _signed(Mail(user.email, "DINAMIS: an account was asked for with your address", (
        f"Hello {user.name},\n\nSomeone (you, perhaps) asked for a DINAMIS account in {entity_name} with this "
        f"address. It has an account already, which {state.get(user.status, user.status)}: nothing new was made.\n\n"
        f"If you forgot your password, choose a new one from the sign-in page at {portal}. If you did not ask, "
        "ignore this e-mail.")))


def _validation(e: ev.EmailVerificationRequested, purpose: str, link: str) -> Mail:
    return Mail(e.email, "DINAMIS: validate your e-mail address", (
        f"Hello {e.name},\n\nTo {purpose}, validate this address by opening:\n\n  {link}\n\nThe link works "
        "once and expires in 24 hours. If you did not ask for it, ignore this e-mail."))


def _unique(addresses: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(a for a in addresses if a))


def _signed(mail: Mail) -> Mail:
    return Mail(mail.to, mail.subject, mail.body + SIGNATURE)
