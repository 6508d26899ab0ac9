"""Failures classified by what happened, on real exception instances of each library."""

from __future__ import annotations

import json
import smtplib
from pathlib import Path

import aiosmtplib
import httpx
import psycopg
import psycopg_pool
import pytest
from aiokafka import errors as kafka_errors
from dinamis_common.messaging.envelope import MalformedEvent
from dinamis_common.messaging.failures import (
    Failure,
    PermanentError,
    TransientError,
    classify,
    describe,
    mark,
    unmark,
)
from pydantic import BaseModel, ValidationError
from pymongo import errors as mongo_errors
from pymongo.helpers_shared import _check_command_response

T, P, U = Failure.TRANSIENT, Failure.PERMANENT, Failure.UNKNOWN
RECORDED = json.loads((Path(__file__).parent / "ferretdb_outage_replies.json").read_text())["replies"]


def _server_error(reply: dict) -> mongo_errors.PyMongoError:
    """The exception PyMongo itself raises for this server reply."""
    try:
        _check_command_response(reply, None)
    except mongo_errors.PyMongoError as exc:
        return exc
    raise AssertionError("PyMongo accepted the reply")


@pytest.mark.parametrize("recorded", RECORDED, ids=lambda r: f"{r['scenario']}-{r['op']}")
def test_ferretdb_without_its_postgresql_is_an_outage(recorded):
    exc = _server_error(recorded["reply"])
    assert type(exc) is mongo_errors.OperationFailure and exc.code == 1  # InternalError, nothing more specific
    assert classify(exc) is T


def test_other_ferretdb_internal_errors_and_duplicates_are_not_outages():
    unique_violation = _server_error({"ok": 0.0, "code": 1, "codeName": "InternalError", "errmsg": (
        "[msg_update.go:133 handler.(*Handler).updateDocument] ERROR: duplicate key value violates unique "
        "constraint \"changes_cause_abc_idx\" (SQLSTATE 23505)")})
    assert classify(unique_violation) is U
    assert classify(_server_error({"ok": 0.0, "code": 11000, "errmsg": "E11000 duplicate key error"})) is U
    assert classify(_server_error({"ok": 0.0, "code": 2, "codeName": "BadValue", "errmsg": "bad"})) is U


@pytest.mark.parametrize("exc", [
    mongo_errors.ConnectionFailure("refused"),
    mongo_errors.AutoReconnect("connection closed"),
    mongo_errors.NetworkTimeout("timed out"),
    mongo_errors.ServerSelectionTimeoutError("No servers found yet"),
    mongo_errors.WaitQueueTimeoutError("pool full"),
    mongo_errors.ExecutionTimeout("operation exceeded time limit", 50),
    mongo_errors.WTimeoutError("waiting for replication timed out", 64),
    mongo_errors.NotPrimaryError("not primary"),
])
def test_mongodb_outages_are_transient(exc):
    assert classify(exc) is T


def test_mongodb_server_codes_and_labels_meaning_not_now_are_transient():
    assert classify(_server_error({"ok": 0.0, "code": 91, "codeName": "ShutdownInProgress", "errmsg": "x"})) is T
    labelled = mongo_errors.OperationFailure("x", 123)
    labelled._add_error_label("RetryableWriteError")
    assert classify(labelled) is T


def test_documents_that_can_never_be_stored_are_permanent():
    assert classify(mongo_errors.DocumentTooLarge("too large")) is P
    assert classify(mongo_errors.InvalidDocument("cannot encode object")) is P


def test_postgresql_outages_are_transient():
    assert classify(psycopg.OperationalError("connection failed: Connection refused")) is T
    assert classify(psycopg.errors.AdminShutdown("terminating connection due to administrator command")) is T
    assert classify(psycopg.errors.SerializationFailure("could not serialize access")) is T
    assert classify(psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec")) is T
    assert classify(psycopg.errors.UniqueViolation("duplicate key")) is U


async def test_a_postgresql_that_refuses_connections_is_transient():
    with pytest.raises(psycopg.OperationalError) as caught:
        await psycopg.AsyncConnection.connect("postgresql://nobody@127.0.0.1:9/none", connect_timeout=2)
    assert classify(caught.value) is T


@pytest.mark.parametrize("exc, kind", [
    (kafka_errors.KafkaConnectionError("no connection"), T),
    (kafka_errors.NodeNotReadyError("not ready"), T),
    (kafka_errors.RequestTimedOutError(), T),
    (kafka_errors.NotLeaderForPartitionError(), T),
    (kafka_errors.UnknownTopicOrPartitionError(), T),  # not created yet: wait for it
    (kafka_errors.KafkaTimeoutError(), T),
    (kafka_errors.NoBrokersAvailable(), T),
    (kafka_errors.MessageSizeTooLargeError(), P),
    (kafka_errors.TopicAuthorizationFailedError(), P),
])
def test_kafka_errors_by_retriability(exc, kind):
    assert classify(exc) is kind


def _status_error(code: int) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://keycloak.invalid/admin/realms/dinamis/users")
    response = httpx.Response(code, request=request)
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        return exc
    raise AssertionError(code)


@pytest.mark.parametrize("code, kind", [(500, T), (502, T), (503, T), (504, T), (408, T), (429, T),
                                        (400, P), (401, P), (403, P), (404, P), (409, P), (422, P)])
def test_http_status_errors_by_status(code, kind):
    assert classify(_status_error(code)) is kind


async def test_http_transport_errors_are_transient_and_a_wrong_request_is_not():
    request = httpx.Request("GET", "http://x.invalid")
    assert classify(httpx.ReadTimeout("read timed out", request=request)) is T
    assert classify(httpx.RemoteProtocolError("peer closed connection", request=request)) is T
    async with httpx.AsyncClient(timeout=2) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get("http://127.0.0.1:9/")
    assert classify(caught.value) is T
    assert classify(httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'")) is U


def test_smtp_busy_is_transient_and_a_refusal_is_permanent():
    assert classify(aiosmtplib.SMTPRecipientRefused(451, "4.3.0 mailbox busy", "a@busy.invalid")) is T
    assert classify(aiosmtplib.SMTPRecipientRefused(550, "5.1.1 no such user", "a@refused.invalid")) is P
    assert classify(aiosmtplib.SMTPRecipientsRefused([
        aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@refused.invalid")])) is P
    assert classify(aiosmtplib.SMTPRecipientsRefused([
        aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@refused.invalid"),
        aiosmtplib.SMTPRecipientRefused(452, "too many recipients", "b@x.invalid")])) is T
    assert classify(aiosmtplib.SMTPDataError(554, "5.7.1 message rejected")) is P
    assert classify(aiosmtplib.SMTPSenderRefused(421, "4.7.0 try again later", "no-reply@x")) is T
    assert classify(aiosmtplib.SMTPConnectError("Error connecting to 127.0.0.1 on port 9")) is T
    assert classify(aiosmtplib.SMTPServerDisconnected("Connection lost")) is T
    assert classify(aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response")) is T
    assert classify(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such user")})) is P
    assert classify(smtplib.SMTPDataError(451, b"local error")) is T


async def test_an_smtp_server_that_is_not_there_is_transient():
    with pytest.raises(aiosmtplib.SMTPConnectError) as caught:
        await aiosmtplib.send("From: a@x\r\n\r\nhi", sender="a@x", recipients=["b@x"], hostname="127.0.0.1",
                              port=9, timeout=2)
    assert classify(caught.value) is T


def test_network_errors_are_transient_and_local_files_are_not():
    assert classify(ConnectionRefusedError(111, "Connection refused")) is T
    assert classify(ConnectionResetError()) is T
    assert classify(TimeoutError()) is T
    assert classify(OSError(113, "No route to host")) is T
    assert classify(FileNotFoundError(2, "No such file", "/etc/dinamis/key.pem")) is U
    assert classify(PermissionError(13, "Permission denied")) is U


class Payload(BaseModel):
    n: int


def test_unreadable_records_and_invalid_payloads_are_permanent():
    with pytest.raises(ValidationError) as caught:
        Payload.model_validate({"n": "not a number"})
    assert classify(caught.value) is P
    assert classify(MalformedEvent("not a CloudEvent: missing header(s) ce_id")) is P
    assert classify(PermanentError("request unknown here")) is P
    assert classify(TransientError("identity provider away")) is T


def test_bugs_are_unknown():
    assert classify(RuntimeError("boom")) is U
    assert classify(KeyError("status")) is U
    assert classify(ZeroDivisionError()) is U


class EmailAlreadyTaken(Exception):
    """A domain conflict, as a service's domain declares it (no import of dinamis_common)."""

    failure_kind = "permanent"


class IdentityProviderDown(RuntimeError):
    pass


class Conflict(Exception):
    pass


class CorrespondentTaken(Conflict):
    pass


def test_services_mark_their_own_exceptions_on_the_class_or_in_the_registry():
    assert classify(EmailAlreadyTaken("correspondent e-mail already taken")) is P
    assert classify(IdentityProviderDown("keycloak")) is U
    mark(T, IdentityProviderDown)
    mark(P, Conflict)
    try:
        assert classify(IdentityProviderDown("keycloak")) is T
        assert classify(CorrespondentTaken("taken")) is P  # subclasses too
    finally:
        unmark(IdentityProviderDown, Conflict)
    assert classify(CorrespondentTaken("taken")) is U


def test_an_exception_raised_from_an_outage_is_the_outage_and_groups_wait_for_any_outage():
    try:
        try:
            raise mongo_errors.AutoReconnect("primary gone")
        except mongo_errors.AutoReconnect as outage:
            raise RuntimeError("could not load the case") from outage
    except RuntimeError as wrapped:
        assert classify(wrapped) is T
    assert classify(ExceptionGroup("two", [RuntimeError("bug"), ConnectionResetError()])) is T
    assert classify(ExceptionGroup("two", [RuntimeError("bug"), PermanentError("no")])) is U
    assert classify(ExceptionGroup("one", [PermanentError("no")])) is P


def test_the_reason_is_type_and_message_bounded():
    assert describe(PermanentError("request unknown here")) == "PermanentError: request unknown here"
    assert describe(TimeoutError()) == "TimeoutError"
    long = describe(RuntimeError("x" * 5000))
    assert len(long) == 1000 and long.startswith("RuntimeError: xxx") and long.endswith("…")
