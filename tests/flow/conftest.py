"""The whole system as real processes (the ``test`` profile of the project's own stack), with
two entities approved through the real accounts service at the start of the session (one
scientific, one institutional), as their people and an administrator would do it, and the test
kit's known Airbus archive scenes in its catalogue (``running_stack.scenes``) for archive requests."""

from __future__ import annotations

import httpx
import pytest
from dinamis_testkit.archive import ArchiveScene, archive_scene, ensure_archive_items_async
from dinamis_testkit.mail import Mailbox


class RunningStack:
    def __init__(self, profile) -> None:
        from dinamis_cli import stack

        self.stack = stack
        self.profile = profile
        self.gateway = profile.service_url("gateway")
        self.entities: dict[str, str] = {}  # kind -> an approved entity of that kind
        self.mail = Mailbox.of_profile(profile)  # the profile's SMTP sink
        self.scenes: list[ArchiveScene] = []  # airbus-archive items known to be in the catalogue

    def scene(self, mission: str = "pleiades", n: int = 0) -> ArchiveScene:
        """The ``n``-th known archive scene of ``mission``, in this stack's catalogue."""
        return archive_scene(mission, n)

    def token(self, user: str, entity: str | None = None, roles=("user",), category: str = "institutional",
              cells=()) -> str:
        """A real Keycloak token for a development user; by default a member of the session's
        approved entity of ``category``; ``cells``: the cells of an arbiter."""
        entity = entity or self.entities.get(category)
        return self.stack.mint_token(self.profile, user, entity, list(roles), category=category, cells=list(cells))

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.gateway, headers=headers, timeout=30.0)

    async def approved_entity(self, kind: str) -> str:
        """An organisation subscribed, accepted, approved, and known to the requests service."""
        from dinamis_cli.stack.membership import approved_in_stack

        return await approved_in_stack(self.profile, kind)

    def kill(self, name: str) -> None:
        import signal

        self.stack.stop_service(self.profile, name, sig=signal.SIGKILL)

    def restart(self, name: str) -> None:
        self.stack.start_service(self.profile, name)


@pytest.fixture(scope="session")
async def running_stack(servers) -> RunningStack:
    """The services as processes of the ``test`` profile, on whichever servers ``servers``
    resolved (given to the profile as external servers, so it starts none of its own)."""
    import os

    from dinamis_cli import stack

    os.environ.update({"KAFKA_BOOTSTRAP_SERVERS": servers.kafka, "MONGODB_URI": servers.mongodb_uri,
                       "POSTGRES_DSN": servers.postgres_dsn})
    profile = stack.load_profile("test")
    stack.start_servers(profile)
    stack.start_services(profile)
    running = RunningStack(profile)
    running.scenes = await ensure_archive_items_async(profile.postgres_dsn)
    for kind in ("scientific", "institutional"):
        running.entities[kind] = await running.approved_entity(kind)
    return running
