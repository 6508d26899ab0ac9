"""The whole system as real processes (the ``test`` profile of the project's own stack)."""

from __future__ import annotations

import httpx
import pytest


class RunningStack:
    def __init__(self, profile) -> None:
        from dinamis_cli import stack

        self.stack = stack
        self.profile = profile
        self.gateway = profile.service_url("gateway")

    def token(self, user: str, entity: str = "ent-flow", roles=("user",), category: str = "institutional") -> str:
        return self.stack.mint_token(self.profile, user, entity, list(roles), category=category)

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.gateway, headers=headers, timeout=30.0)

    def kill(self, name: str) -> None:
        import signal

        self.stack.stop_service(self.profile, name, sig=signal.SIGKILL)

    def restart(self, name: str) -> None:
        self.stack.start_service(self.profile, name)


@pytest.fixture(scope="session")
def running_stack(servers) -> RunningStack:
    """The services as processes of the ``test`` profile, on whichever servers ``servers``
    resolved (given to the profile as external servers, so it starts none of its own)."""
    import os

    from dinamis_cli import stack

    os.environ.update({"KAFKA_BOOTSTRAP_SERVERS": servers.kafka, "MONGODB_URI": servers.mongodb_uri,
                       "POSTGRES_DSN": servers.postgres_dsn})
    profile = stack.load_profile("test")
    stack.start_servers(profile)
    stack.start_services(profile)
    return RunningStack(profile)
