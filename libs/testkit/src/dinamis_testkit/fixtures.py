"""pytest fixtures made of the test kit (the one module of it that imports pytest, so that
benchmarks use the rest without it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dinamis_testkit.service import serve_service


def served_service(name: str, create_app: Callable[[Any], Any], settings_class: Callable[..., Any], *,
                   fixture_name: str = "service", **options: Any) -> Any:
    """A module-scoped fixture ``service`` serving one service in a sandbox of its own (arguments as
    :func:`dinamis_testkit.service.serve_service` takes them after the servers and key folder). In a
    conftest: ``service = served_service("arbitration", create_app, Settings, publishes=[...])``."""

    @pytest.fixture(scope="module", name=fixture_name)
    async def served(servers, tmp_path_factory):
        async with serve_service(servers, tmp_path_factory.mktemp("keys"), name, create_app, settings_class,
                                 **options) as service:
            yield service

    return served
