"""An organisation's whole subscription through the public API, as its correspondent, its legal
representative (reading the links they are e-mailed) and an administrator would do it: for
demo data and for tests that need an approved entity. Never a shortcut into a database."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

import httpx
from stdnum import luhn

from dinamis_cli.stack import mail as sink
from dinamis_cli.stack.keycloak import user_token
from dinamis_cli.stack.profile import Profile


class ReadMail(Protocol):
    """address -> the body of the e-mail to it. A reader that also has ``mark()`` is told when each
    request that sends one is made, and reads only what arrived after it."""

    def __call__(self, address: str, /) -> Awaitable[str]: ...


CATEGORY_OF_KIND = {"scientific": "research-education", "institutional": "public-body"}


@dataclass(frozen=True)
class Organisation:
    name: str
    category: str
    siret: str
    correspondent: str  # e-mail
    representative: str  # e-mail

    @classmethod
    def sample(cls, kind: str = "institutional", tag: str | None = None) -> Organisation:
        tag = tag or f"{random.randrange(16**6):06x}"  # noqa: S311 - a label, not a secret
        return cls(f"{'Laboratoire' if kind == 'scientific' else 'Commune'} {tag}", CATEGORY_OF_KIND[kind],
                   random_siret(), f"correspondant.{tag}@example.org", f"representant.{tag}@example.org")


def random_siret() -> str:
    """A SIRET whose SIREN and whole number pass their Luhn checks (not a real establishment's,
    most likely)."""
    digits = "".join(random.choice("0123456789") for _ in range(12))  # noqa: S311
    siren = digits[:8] + luhn.calc_check_digit(digits[:8])
    body = siren + digits[8:12]
    return body + luhn.calc_check_digit(body)


def link_token(body: str) -> str:
    return re.search(r"[?&]token=([\w\-]+)", body)[1]


async def _ok(response: httpx.Response, step: str) -> dict:
    if response.status_code >= 400:
        raise RuntimeError(f"{step}: {response.status_code} {response.text[:300]}")
    return response.json()


def _mark(read_mail: ReadMail) -> None:
    if (mark := getattr(read_mail, "mark", None)) is not None:
        mark()


async def subscribe_and_approve(api: httpx.AsyncClient, admin_token: str, read_mail: ReadMail,
                                org: Organisation) -> str:
    """Runs the five steps of a subscription; returns the approved entity's id."""
    base = "/api/accounts/public/subscriptions"
    _mark(read_mail)
    started = await _ok(await api.post(base, json={"email": org.correspondent, "first_name": "Camille",
                                                   "last_name": "Correspondant"}), "subscription")
    sid = started["subscription_id"]
    grant = await _ok(await api.post(f"{base}/{sid}/email-verification",
                                     json={"token": link_token(await read_mail(org.correspondent))}), "e-mail")
    _mark(read_mail)
    await _ok(await api.put(f"{base}/{sid}", headers={"x-subscription-token": grant["edit_token"]}, json={
        "name": org.name, "category": org.category, "country": "FR", "identifier_scheme": "siret",
        "identifier": org.siret, "legal_representative": {"first_name": "Louise", "last_name": "Représentante",
                                                          "email": org.representative, "role": "Director"}}),
        "description")
    token = link_token(await read_mail(org.representative))
    page = await _ok(await api.get(f"{base}/{sid}/acceptance", params={"token": token}), "documents")
    refs = [{k: d[k] for k in ("document_id", "version", "sha256")} for d in page["documents"]]
    await _ok(await api.post(f"{base}/{sid}/acceptance", json={
        "token": token, "signatory": "Louise Représentante", "documents": refs}), "acceptance")
    approval = {"reviewer": "dinamis", "decision": "approve"}
    await _ok(await api.post(f"/api/accounts/entities/{sid}/reviews", json=approval,
                             headers={"authorization": f"Bearer {admin_token}"}), "review")
    return sid


async def wait_until_eligible(api: httpx.AsyncClient, member_token: str, timeout: float = 60.0) -> None:
    """Until the requests service has learnt the entity from the accounts events."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        shown = await _ok(await api.get("/api/requests/eligibility",
                                        headers={"authorization": f"Bearer {member_token}"}), "eligibility")
        if all(m["eligible"] for m in shown["missions"]):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"the requests service did not learn entity {shown['entity_id']}: {shown}")
        await asyncio.sleep(0.2)


class SinkReader:
    """Reads the profile's SMTP sink: the first e-mail to an address that arrived after the last
    ``mark()`` (or after the reader was made), waiting up to ``timeout`` seconds. An older e-mail
    to the same address (an earlier attempt's link, long invalid) is never read."""

    def __init__(self, profile: Profile, timeout: float = 30.0) -> None:
        self.profile, self.timeout = profile, timeout
        self.since = time.time_ns()

    def mark(self) -> None:
        self.since = time.time_ns()

    async def __call__(self, address: str, /) -> str:
        deadline = time.monotonic() + self.timeout
        while True:
            if found := await asyncio.to_thread(sink.messages, self.profile, address, self.since):
                return found[0].get_body(("plain",)).get_content()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no e-mail to {address} in the sink since the request that sends it")
            await asyncio.sleep(0.2)


def sink_reader(profile: Profile) -> SinkReader:
    return SinkReader(profile)


async def approved_in_stack(profile: Profile, kind: str = "scientific", tag: str | None = None) -> str:
    """An organisation of ``kind`` subscribed and approved on the profile's running stack (its
    gateway, its mail sink, development tokens), known to the requests service. ``tag`` names it and
    its addresses: give one unique to the attempt (the default is random)."""
    admin = user_token(profile, f"admin-{kind}", None, ["admin"])
    async with httpx.AsyncClient(base_url=profile.service_url("gateway"), timeout=30) as api:
        entity_id = await subscribe_and_approve(api, admin, sink_reader(profile), Organisation.sample(kind, tag))
        await wait_until_eligible(api, user_token(profile, f"member-{kind}", entity_id, ["user"], kind))
    return entity_id
