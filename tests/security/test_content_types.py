"""Strict input on every service (issue 11): each operation that takes a JSON body, found in the served
service's own OpenAPI document, answers an undeclared ``Content-Type`` (text/plain, a form) with 415
and a string holding a NUL or a lone surrogate with 422 — problems saying what to send, never 500 — on
the accounts (real Keycloak, SMTP sink), requests, arbitration and provisioning services served on the
real Kafka and FerretDB. Before this change: 500 on 11 accounts operations and on the requests ones."""

from __future__ import annotations

import re

import pytest
from dinamis_testkit.service import sandbox

pytestmark = pytest.mark.integration

ROLES = {"roles": ["user", "admin", "operator", "arbiter"], "cells": ["pleiades-science"], "entity": "ent-x"}


def json_operations(document: dict) -> list[tuple[str, str]]:
    """(method, path with every parameter filled) of the operations taking a JSON body."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            if "application/json" in content:
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "x1", path)))
    return found


async def refusals(client) -> list[str]:
    """Every JSON operation of the service behind ``client`` tried with what it must refuse; what went wrong."""
    document = (await client.get("/openapi.json")).json()
    operations = json_operations(document)
    assert operations, "no operation takes JSON"
    wrong = []
    for method, path in operations:
        for content_type, body, status in (
                ("text/plain", b'{"name": "x"}', 415),
                ("application/x-www-form-urlencoded", b"name=x", 415),
                ("application/json", b'{"name": "a\\u0000b", "email": "a@b.fr"}', 422),
                ("application/json", b'{"name": "a\\ud800b", "reason": "x"}', 422),
                ("application/json", b'{"name": "a", "n": NaN}', 422)):
            answer = await client.request(method, path, content=body, headers={"content-type": content_type})
            if (answer.status_code != status or answer.headers.get("content-type") != "application/problem+json"
                    or answer.json()["status"] != status):
                wrong.append(f"{method} {path} {content_type} {body[:30]!r}: {answer.status_code} {answer.text[:200]}")
    return wrong


async def test_accounts_refuses_undeclared_content_types_and_unsafe_strings(accounts_service):
    async with accounts_service() as accounts, accounts.client("admin-1", **ROLES) as client:
        assert await refusals(client) == []


async def test_requests_arbitration_and_provisioning_refuse_them_too(servers, tmp_path_factory):
    from arbitration_service.bootstrap import create_app as arbitration_app
    from arbitration_service.settings import Settings as ArbitrationSettings
    from dinamis_testkit.inprocess import free_port
    from provisioning_service.bootstrap import create_app as provisioning_app
    from provisioning_service.settings import Settings as ProvisioningSettings
    from requests_service.bootstrap import create_app as requests_app
    from requests_service.settings import Settings as RequestsSettings

    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing is asked before the body is read
    async with sandbox(servers, tmp_path_factory.mktemp("keys")) as box:
        served = [await box.serve("requests", requests_app, RequestsSettings, catalogue_url=nowhere,
                                  arbitration_url=nowhere),
                  await box.serve("arbitration", arbitration_app, ArbitrationSettings,
                                  kafka_namespace=f"{box.namespace}arb."),
                  await box.serve("provisioning", provisioning_app, ProvisioningSettings,
                                  kafka_namespace=f"{box.namespace}prov.")]
        for service in served:
            async with service.client("admin-1", **ROLES) as client:
                document = (await client.get("/openapi.json")).json()
                if json_operations(document):
                    assert await refusals(client) == [], service.url
