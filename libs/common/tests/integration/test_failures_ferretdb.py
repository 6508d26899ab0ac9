"""FerretDB whose PostgreSQL is away answers an ``InternalError``: classified as an outage.

Runs a second FerretDB binary of the stack (the one ``dinamis up`` installed) on a free port,
pointed at a PostgreSQL URL where nothing listens, and sends it what a service sends.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest
from dinamis_common.messaging.failures import Failure, classify
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

pytestmark = pytest.mark.integration


def _ferretdb_binary() -> Path:
    cache = Path(os.environ.get("DINAMIS_CACHE", Path.home() / ".cache" / "dinamis"))
    found = sorted(cache.glob("ferretdb/*/ferretdb"))
    assert found, f"no FerretDB under {cache}/ferretdb: `dinamis stack up` installs it"
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def ferretdb_without_postgresql(tmp_path):
    port, debug, nobody = _free_port(), _free_port(), _free_port()
    proc = await asyncio.create_subprocess_exec(
        str(_ferretdb_binary()), "--handler=postgresql", f"--listen-addr=127.0.0.1:{port}",
        f"--debug-addr=127.0.0.1:{debug}", f"--postgresql-url=postgres://dinamis@127.0.0.1:{nobody}/dinamis",
        f"--state-dir={tmp_path}", "--telemetry=disable", "--log-level=warn",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    client = AsyncMongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=10_000, timeoutMS=15_000)
    try:
        yield client
    finally:
        await client.close()
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


async def test_every_command_a_service_sends_is_refused_as_an_outage(ferretdb_without_postgresql):
    db = ferretdb_without_postgresql["svc"]
    for command in (lambda: db.command("ping"), lambda: db.cases.find_one({"_id": "c1"}),
                    lambda: db.cases.insert_one({"_id": "c1"}),
                    lambda: db.cases.replace_one({"_id": "c1", "version": 1}, {"version": 2}),
                    lambda: db.cases.find_one_and_update({"_id": "c1"}, {"$set": {"a": 1}})):
        with pytest.raises(OperationFailure) as caught:
            await asyncio.wait_for(command(), 20)
        assert caught.value.code == 1 and caught.value.details["codeName"] == "InternalError"
        assert "failed to connect to" in caught.value.details["errmsg"]
        assert classify(caught.value) is Failure.TRANSIENT
