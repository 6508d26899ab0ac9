"""Secrets of a local stack: generated once per profile, kept in its state directory (mode 0600),
never committed. Production reads the same settings from its secret store."""

from __future__ import annotations

import secrets

from dinamis_cli.stack.profile import Profile


def secret(profile: Profile, area: str, name: str) -> str:
    """The profile's secret ``<state>/<area>/<name>``, generated on first use."""
    path = profile.path(area, name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()
