"""Rate limits: which counters a call adds to, and when a count is too many.

Each call adds one to several counters at once: its client's address (for every call), its user (the
token's ``sub``, once verified), and for the sensitive routes a counter of that class per address
and, where the route sends e-mail, per target e-mail address. A counter is a **sliding window**
estimated from two fixed windows (the current one and the one before, weighted by how much of it
still overlaps): a burst at a window's edge cannot pass twice the limit, and one row per key and
window is all the store holds.

Refused calls count too, so a client that keeps hammering stays refused.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class RouteClass(StrEnum):
    DEFAULT = "default"
    MAIL = "mail"  # a public accounts call that may send e-mail
    CERTIFICATE = "certificate"  # a public membership-certificate check


@dataclass(frozen=True)
class Limit:
    name: str  # what is counted: "ip", "user", "mail-ip", "mail-address", "certificate-ip"
    requests: int  # at most this many calls...
    seconds: int  # ...in any window of this length
    fail_closed: bool = False  # when the counters cannot be read: refuse (503) rather than let through


@dataclass(frozen=True)
class Hit:
    """One counter to add the call to."""

    limit: Limit
    subject: str  # whose counter: an address (or network), a user id, an e-mail address

    @property
    def key(self) -> str:
        return f"{self.limit.name}:{self.subject}"


@dataclass(frozen=True)
class Count:
    """A counter after the call was added: the calls of this window (this one included), those of the
    window before, and how far into this window the call came (seconds)."""

    hit: Hit
    current: int
    previous: int
    elapsed: float

    @property
    def estimate(self) -> float:
        seconds = self.hit.limit.seconds
        return self.previous * max(0.0, 1 - self.elapsed / seconds) + self.current

    @property
    def exceeded(self) -> bool:
        return self.estimate > self.hit.limit.requests

    def retry_after(self) -> int:
        """Seconds until one more call would be let through, if nobody else calls meanwhile (at least 1)."""
        limit, seconds = self.hit.limit.requests, self.hit.limit.seconds
        # in the next window, this one's calls become the previous share
        wait = (seconds - self.elapsed) + seconds * max(0.0, 1 - (limit - 1) / max(self.current, 1))
        room = limit - self.current - 1  # what the previous window's share must fall to, in this window
        if room >= 0 and self.previous > 0:
            wait = min(wait, seconds * (1 - room / self.previous) - self.elapsed)
        return max(1, math.ceil(wait))


@dataclass(frozen=True)
class Limits:
    """What configuration sets (the gateway's Settings)."""

    ip: Limit
    user: Limit
    mail_ip: Limit
    mail_address: Limit
    certificate_ip: Limit


PUBLIC_ACCOUNTS = "/api/accounts/public/"
CERTIFICATES = "/api/accounts/public/certificates"
# where an e-mail address the accounts service writes to sits in a public call's JSON body
ADDRESS_FIELDS = (("email",), ("legal_representative", "email"))


def route_class(method: str, path: str) -> RouteClass:
    """``path`` as routed (decoded, no dot segments). Every public accounts call that changes
    something may send e-mail (a validation link, the correspondent told, the legal representative
    asked): all of them are counted as such, so a new one is covered the day it is added."""
    if path == CERTIFICATES or path.startswith(CERTIFICATES + "/"):
        return RouteClass.CERTIFICATE
    if path.startswith(PUBLIC_ACCOUNTS) and method.upper() not in ("GET", "HEAD", "OPTIONS"):
        return RouteClass.MAIL
    return RouteClass.DEFAULT


def client_subject(address: str) -> str:
    """An IPv4 address as it is; an IPv6 address by its /64 network (what one subscriber usually
    holds, so that hopping between its addresses counts as one client)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def mailbox(address: str) -> str | None:
    """The mailbox an address reaches: lower-case, without a ``+tag`` (``a+1@x`` and ``a+2@x`` are
    the same person's inbox). ``None`` when it is not an address."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at or not local or not domain or len(address) > 320:
        return None
    return f"{local.split('+', 1)[0] or local}@{domain}"


def target_addresses(body: bytes) -> list[str]:
    """The e-mail addresses a public accounts call's JSON body names (``ADDRESS_FIELDS``); none when
    it is not a JSON object (the service refuses such a body anyway)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []
    found: list[str] = []
    for path in ADDRESS_FIELDS:
        value: object = document
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if isinstance(value, str) and (box := mailbox(value)) and box not in found:
            found.append(box)
    return found


def hits(limits: Limits, cls: RouteClass, client: str, user: str | None = None,
         addresses: Iterable[str] = ()) -> list[Hit]:
    """The counters one call adds to."""
    subject = client_subject(client)
    found = [Hit(limits.ip, subject)]
    if user:
        found.append(Hit(limits.user, user))
    if cls is RouteClass.MAIL:
        found.append(Hit(limits.mail_ip, subject))
        found += [Hit(limits.mail_address, a) for a in addresses]
    elif cls is RouteClass.CERTIFICATE:
        found.append(Hit(limits.certificate_ip, subject))
    return found


def refusal(counts: Iterable[Count]) -> Count | None:
    """The exceeded count that keeps the caller waiting longest, or ``None``: let it through."""
    exceeded = [c for c in counts if c.exceeded]
    return max(exceeded, key=lambda c: c.retry_after()) if exceeded else None
