"""Links sent by e-mail (validate an address, accept the licences, continue a subscription).

Only the SHA-256 of a link's token is stored; the token itself travels in the e-mail and is
compared in constant time. A single-use link is spent by the same versioned write that applies
its effect, so two concurrent uses cannot both succeed, and a replay is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts_service.domain.errors import LinkInvalid


@dataclass
class Link:
    purpose: str
    token_hash: str
    expires_at: datetime
    single_use: bool = True
    used_at: datetime | None = None

    @classmethod
    def issue(cls, purpose: str, now: datetime, ttl: timedelta, single_use: bool = True) -> tuple[Link, str]:
        token = secrets.token_urlsafe(32)
        return cls(purpose, _hash(token), now + ttl, single_use), token

    def use(self, token: str, now: datetime) -> None:
        self.check(token, now)
        if self.single_use:
            self.used_at = now

    def check(self, token: str, now: datetime) -> None:
        """Valid now (without spending it)."""
        if not hmac.compare_digest(self.token_hash, _hash(token)):
            raise LinkInvalid(f"this {self.purpose} link is not valid")
        if self.used_at is not None:
            raise LinkInvalid(f"this {self.purpose} link was already used")
        if now >= self.expires_at:
            raise LinkInvalid(f"this {self.purpose} link expired at {self.expires_at.isoformat()}: ask for a new one")


def use_link(links: dict[str, Link], purpose: str, token: str, now: datetime, spend: bool = True) -> None:
    link = links.get(purpose)
    if link is None:
        raise LinkInvalid(f"no {purpose} link is pending here")
    if spend:
        link.use(token, now)
    else:
        link.check(token, now)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
