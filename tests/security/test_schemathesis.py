"""Generated cases against each service's OpenAPI (issue 11): schemathesis with a fixed seed against the
six services served in this test's loop on the real Kafka, FerretDB, PostgreSQL (pgstac) and Keycloak,
with a token of every role: at least ``FUZZ_CASES`` (1,000 by default) cases per service, no answer
5xx and none that contradicts the service's own OpenAPI document (``not_a_server_error``,
``response_schema_conformance``). The gateway's own document is one catch-all route: the requests
service's document is fuzzed through it instead. ``make fuzz`` runs it longer (``FUZZ_CASES``, ``FUZZ_SEED``).

Each service's examples per operation are ``FUZZ_CASES / operations``, rounded up; the number of cases
schemathesis reports is asserted, so the run cannot silently shrink."""

from __future__ import annotations

import asyncio
import importlib
import json
import math
import os
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

SERVICES = ("accounts", "catalogue", "requests", "arbitration", "provisioning", "gateway")
CASES = int(os.environ.get("FUZZ_CASES", "1000"))
SEED = int(os.environ.get("FUZZ_SEED", "20251111"))
CHECKS = "not_a_server_error,response_schema_conformance"
THROUGH_GATEWAY = "requests"
HERE = Path(__file__).parent  # schemathesis_hooks.py: how a PDF body is sent


@pytest.fixture(scope="module")
async def platform(servers, tmp_path_factory):
    """The six services in this loop, wired to one another, each with its own database and namespace."""
    from dinamis_cli.stack import load_profile
    from dinamis_cli.stack.mail import listen
    from dinamis_cli.stack.pki import ensure_signing_pki
    from dinamis_cli.stack.profile import DEV_AUTO_RULES
    from dinamis_testkit.catalogue import stac_database
    from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys, mint_token
    from dinamis_testkit.inprocess import InProcessServers, free_port

    unique = uuid.uuid4().hex[:10]
    tmp = tmp_path_factory.mktemp("fuzz")
    keys = ensure_dev_keys(tmp / "keys")
    pki = ensure_signing_pki(tmp / "pki")
    smtp_port = free_port()
    sink = await listen(smtp_port, tmp / "mail")
    databases = ExitStack()
    stac_dsn = databases.enter_context(stac_database(servers.postgres_dsn, "stac_fuzz"))
    ports = {name: free_port() for name in SERVICES}
    keycloak = {k.lower(): v for k, v in load_profile("test").service_env("accounts").items()
                if k.startswith("KEYCLOAK_")}
    shared = {"kafka_bootstrap_servers": servers.kafka, "mongodb_uri": servers.mongodb_uri,
              "auth_jwks_url": f"file://{keys[1]}", "auth_issuer": DEV_ISSUER,
              "kafka_namespace": f"t{unique}.", "outbox_poll_seconds": 0.5,
              "kafka_security_protocol": servers.kafka_auth.security_protocol,
              "kafka_sasl_mechanism": servers.kafka_auth.sasl_mechanism,
              "kafka_username": servers.kafka_auth.username,
              "kafka_password": servers.kafka_auth.password,  # the Kafka administrator: namespaced topics
              **{f"{n}_url": f"http://127.0.0.1:{p}" for n, p in ports.items()}}
    own = {"accounts": {"smtp_port": smtp_port, "certificate_key_file": pki.key, "certificate_cert_file": pki.cert,
                        "certificate_trust_files": [pki.root], **keycloak},
           "arbitration": {"arbitration_auto_rules": DEV_AUTO_RULES},
           "catalogue": {"postgres_dsn": stac_dsn}}
    running = InProcessServers()
    try:
        for name in SERVICES:
            app = importlib.import_module(f"{name}_service.app")
            settings = importlib.import_module(f"{name}_service.settings").Settings(
                **{"postgres_dsn": servers.postgres_dsn, **shared, **own.get(name, {})}, http_port=ports[name],
                mongodb_database=f"t{unique}_{name}")
            await running.start(app.create_app(settings), ports[name], name)
        token = mint_token(*keys, user=f"fuzz-{unique}", entity=f"ent-{unique}",
                           roles=("user", "admin", "operator", "arbiter"),
                           cells=("pleiades-science", "spot-science", "institutional"), category="research-education")
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}, token, tmp
    finally:
        await running.stop()
        sink.close()
        from dinamis_common.mongo import make_mongo_client
        mongo = make_mongo_client(servers.mongodb_uri, "tests")
        for name in SERVICES:
            await mongo.drop_database(f"t{unique}_{name}")
        await mongo.close()
        databases.close()


def operations(document: dict) -> int:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in document.get("paths", {}).values() for method in item if method in methods)


async def run_schemathesis(document: str, url: str, token: str, per_operation: int, seed: int,
                           out: Path) -> tuple[int, str, int]:
    """One schemathesis run of the OpenAPI ``document`` against ``url``; its exit code, output and cases."""
    report = out.with_suffix(".ndjson")
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "schemathesis"), "run", document, "--url", url, "--checks", CHECKS,
        "--max-examples", str(per_operation), "--seed", str(seed), "-H", f"Authorization: Bearer {token}",
        "--request-timeout", "20", "--phases", "examples,coverage,fuzzing", "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(report),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "schemathesis_hooks", "NO_COLOR": "1",
             "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])})
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    await asyncio.to_thread(out.write_text, text)
    return process.returncode or 0, text, await asyncio.to_thread(count_cases, report)


async def fuzz(platform, name: str) -> tuple[int, int, str]:
    """Rounds of schemathesis against one service until ``CASES`` cases: (cases, failing exit code or 0,
    output of the failing round)."""
    urls, token, tmp = platform
    # the gateway's own document is a catch-all: it is fuzzed with the requests service's, sent through it
    source = urls[THROUGH_GATEWAY if name == "gateway" else name] + "/openapi.json"
    async with httpx.AsyncClient(timeout=10) as client:
        document = (await client.get(source)).json()
    n = operations(document)
    per_operation, total = math.ceil(CASES / max(n, 1)), 0
    for round_ in range(4):  # operations with little to vary stop early: run again, wider, until CASES
        code, text, cases = await run_schemathesis(source, urls[name], token, per_operation, SEED + round_,
                                                   tmp / f"{name}-{round_}.txt")
        total += cases
        print(f"{name} round {round_}: {n} operations, {per_operation} examples each, {cases} cases; exit {code}")
        if code != 0:
            return total, code, text
        if total >= CASES:
            break
        per_operation *= 2
    return total, 0, ""


@pytest.fixture(scope="module")
async def runs(platform):
    """Every service fuzzed at once (the services wait on their databases far more than they compute:
    in parallel the six take about as long as the slowest)."""
    tasks = {name: asyncio.create_task(fuzz(platform, name)) for name in SERVICES}
    yield tasks
    for task in tasks.values():
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)


@pytest.mark.timeout(max(1800, CASES))  # make fuzz: about 0.1 s a case, 1 s allowed
@pytest.mark.parametrize("name", SERVICES)
async def test_generated_cases_find_no_server_error_and_no_schema_breach(runs, name):
    total, code, text = await runs[name]
    assert code == 0, text[-8000:]
    assert total >= CASES, f"{name}: only {total} cases generated"


def count_cases(report: Path) -> int:
    """Test cases schemathesis ran, from its NDJSON event stream (one ScenarioFinished per scenario,
    holding its recorder's cases)."""
    total = 0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for kind, data in event.items():
            if kind == "ScenarioFinished":
                total += len((data.get("recorder") or {}).get("cases") or {})
    return total
