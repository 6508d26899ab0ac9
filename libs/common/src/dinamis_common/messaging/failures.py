"""What a failure means, from what happened (never from where it was raised).

* ``TRANSIENT``: a dependency is away (database, broker, identity provider, SMTP server busy).
  Nothing is wrong with the work itself: wait and try the same work again, without limit, in
  order. Consumers retry the record in place, the outbox relay holds the aggregate, an HTTP call
  answers 503 with ``Retry-After``.
* ``PERMANENT``: it will never succeed (unreadable record, invalid payload, a refusal for good:
  SMTP 5xx, HTTP 4xx, a domain conflict a service marked so). Set aside at once with its reason.
* ``UNKNOWN``: a bug or something unforeseen. Tried again a few times with a growing delay, then
  set aside.

Services extend the table for their own exceptions, either in their composition root::

    failures.mark(Failure.PERMANENT, EmailAlreadyTaken, NotAllowed)

or on the class itself, without importing this module (domain layers import no infrastructure)::

    class EmailAlreadyTaken(Conflict):
        failure_kind = "permanent"   # or "transient"

The closest class of the exception's MRO that is marked wins over the built-in rules. Optional
libraries (psycopg, psycopg_pool, aiosmtplib) are looked up in ``sys.modules`` only: an exception
of theirs can only exist once they are imported, and ``libs/common`` does not depend on them.
"""

from __future__ import annotations

import re
import smtplib
import sys
from enum import Enum
from typing import Any

import httpx
from aiokafka import errors as kafka_errors
from pydantic import ValidationError
from pymongo import errors as mongo_errors

from dinamis_common.messaging.envelope import MalformedEvent


class Failure(Enum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


class PermanentError(Exception):
    """Raised for work that will never succeed: set aside at once, with this message as the reason."""

    failure_kind = "permanent"


class TransientError(Exception):
    """Raised when a dependency is away (a service's own client may raise it): wait and retry."""

    failure_kind = "transient"


_MARKED: dict[type[BaseException], Failure] = {}


def mark(kind: Failure, *classes: type[BaseException]) -> None:
    """Classify ``classes`` (and their subclasses) as ``kind``, over the built-in rules."""
    for cls in classes:
        _MARKED[cls] = kind


def unmark(*classes: type[BaseException]) -> None:
    for cls in classes:
        _MARKED.pop(cls, None)


def describe(exc: BaseException, limit: int = 1000) -> str:
    """``Type: message``, bounded: what an operator reads as the reason."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def classify(exc: BaseException) -> Failure:
    """What ``exc`` means: see the module's documentation. An exception raised ``from`` another
    that it does not explain itself takes its cause's meaning (``raise Mine(...) from outage``)."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        kind = _classify_one(current)
        if kind is not Failure.UNKNOWN:
            return kind
        current, seen = current.__cause__, seen + 1
    return Failure.UNKNOWN


def _classify_one(exc: BaseException) -> Failure:
    for cls in type(exc).__mro__:
        if cls in _MARKED:
            return _MARKED[cls]
        declared = cls.__dict__.get("failure_kind")
        if declared is not None:
            return Failure(declared.value if isinstance(declared, Failure) else declared)
    if isinstance(exc, BaseExceptionGroup):
        kinds = {classify(e) for e in exc.exceptions}
        # one outage among them: waiting is right (what would fail for good fails again after)
        for kind in (Failure.TRANSIENT, Failure.UNKNOWN, Failure.PERMANENT):
            if kind in kinds:
                return kind
        return Failure.UNKNOWN
    for rule in _RULES:
        kind = rule(exc)
        if kind is not None:
            return kind
    return Failure.UNKNOWN


# -- the built-in rules, most specific first ------------------------------------------------------


def _records(exc: BaseException) -> Failure | None:
    if isinstance(exc, (MalformedEvent, ValidationError)):
        return Failure.PERMANENT
    return None


# MongoDB server codes meaning "not now": host unreachable/not found, network timeout, shutting
# down, primary stepped down / not writable, time limit exceeded, socket exception, interrupted
# at shutdown or by a replica-set change, not primary, write conflict, read preference unmet.
MONGO_TRANSIENT_CODES = frozenset({6, 7, 50, 89, 91, 112, 133, 189, 262, 9001, 10107, 11600, 11602,
                                   13435, 13436})
MONGO_TRANSIENT_LABELS = ("RetryableWriteError", "TransientTransactionError", "RetryableError")
# FerretDB answers ``InternalError`` (code 1) with PostgreSQL's error in the message when its
# PostgreSQL is away. Recorded on FerretDB 1.24.2 (see tests/unit/test_failures.py), e.g.
#   "... [pool.go:129 pool.(*Pool).Get] [opendb.go:110 pool.checkConnection] failed to connect to
#    `user=dinamis database=dinamis`: 127.0.0.1:59999 (127.0.0.1): dial error: dial tcp
#    127.0.0.1:59999: connect: connection refused"               (nothing listening)
#   "... server error: FATAL: the database system is shutting down (SQLSTATE 57P03)" (fast stop)
#   "... [collection.go:227 postgresql.(*collection).UpdateAll] FATAL: terminating connection due
#    to administrator command (SQLSTATE 57P01)"                   (stopped under a connection)
#   "... [query_iterator.go:92 postgresql.(*queryIterator).Next] unexpected EOF" (killed)
# SQLSTATE classes 08 (connection), 53 (insufficient resources), 57P0x (operator intervention),
# 40001/40P01 (serialisation failure, deadlock) are PostgreSQL's own "try again".
FERRETDB_INTERNAL_ERROR = 1
_FERRETDB_OUTAGE = re.compile(
    r"failed to connect to|dial error|connection refused|unexpected eof|conn closed|closed pool"
    r"|connection reset|broken pipe|i/o timeout|sqlstate (?:08|53|57p0|40001|40p01)",
    re.IGNORECASE,
)


def _mongo(exc: BaseException) -> Failure | None:
    if isinstance(exc, mongo_errors.InvalidDocument):  # BSON cannot encode it (too large included)
        return Failure.PERMANENT
    if not isinstance(exc, mongo_errors.PyMongoError):
        return None
    if isinstance(exc, (mongo_errors.ConnectionFailure, mongo_errors.ExecutionTimeout,
                        mongo_errors.WTimeoutError)) or exc.timeout:
        return Failure.TRANSIENT
    if any(exc.has_error_label(label) for label in MONGO_TRANSIENT_LABELS):
        return Failure.TRANSIENT
    if isinstance(exc, mongo_errors.OperationFailure):
        if exc.code in MONGO_TRANSIENT_CODES:
            return Failure.TRANSIENT
        if exc.code == FERRETDB_INTERNAL_ERROR and _FERRETDB_OUTAGE.search(str(exc)):
            return Failure.TRANSIENT
    return None


def _postgres(exc: BaseException) -> Failure | None:
    pool = sys.modules.get("psycopg_pool")
    if pool is not None and isinstance(exc, pool.PoolTimeout):
        return Failure.TRANSIENT
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        return Failure.TRANSIENT  # connection lost or refused, admin shutdown, serialisation, deadlock
    return None


# Retriable in practice although aiokafka does not flag them ``retriable``: no broker answered in
# time, the cluster or a replica is not there yet, a rebalance is under way, the producer stops.
KAFKA_TRANSIENT = (kafka_errors.KafkaTimeoutError, kafka_errors.KafkaUnavailableError,
                   kafka_errors.BrokerNotAvailableError, kafka_errors.ReplicaNotAvailableError,
                   kafka_errors.RebalanceInProgressError, kafka_errors.ProducerClosed)


def _kafka(exc: BaseException) -> Failure | None:
    if not isinstance(exc, kafka_errors.KafkaError):
        return None
    if getattr(exc, "retriable", False) or isinstance(exc, KAFKA_TRANSIENT):
        return Failure.TRANSIENT
    return Failure.PERMANENT  # a refusal for good: too large, invalid topic, not authorised...


def _status(code: int) -> Failure | None:
    if code >= 500 or code in (408, 429):
        return Failure.TRANSIENT
    if 400 <= code < 500:
        return Failure.PERMANENT
    return None


def _http(exc: BaseException) -> Failure | None:
    if isinstance(exc, httpx.HTTPStatusError):
        return _status(exc.response.status_code)
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
        return None  # our own request is wrong: a bug
    if isinstance(exc, httpx.TransportError):  # time-outs, network, the peer closed, proxy
        return Failure.TRANSIENT
    return None


def _smtp_code(code: Any) -> Failure | None:
    if not isinstance(code, int):
        return None
    if 400 <= code < 500:
        return Failure.TRANSIENT  # "try again later": greylisting, mailbox busy, too many connections
    if code >= 500:
        return Failure.PERMANENT  # refused: unknown recipient, rejected content, relay denied
    return None


def _smtp(exc: BaseException) -> Failure | None:
    aiosmtplib = sys.modules.get("aiosmtplib")
    if aiosmtplib is not None:
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            kinds = {_smtp_code(r.code) for r in exc.recipients}
            return Failure.TRANSIENT if Failure.TRANSIENT in kinds else (
                Failure.PERMANENT if kinds == {Failure.PERMANENT} else None)
        if isinstance(exc, aiosmtplib.SMTPResponseException) and _smtp_code(exc.code) is not None:
            return _smtp_code(exc.code)
        if isinstance(exc, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected,
                            aiosmtplib.SMTPTimeoutError)):
            return Failure.TRANSIENT
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        kinds = {_smtp_code(code) for code, _ in exc.recipients.values()}
        return Failure.TRANSIENT if Failure.TRANSIENT in kinds else (
            Failure.PERMANENT if kinds == {Failure.PERMANENT} else None)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _smtp_code(exc.smtp_code)
    return None


# Local file-system errors are OSErrors too, but no dependency outage: a bug or a deployment error.
_LOCAL_OS_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError)


def _os(exc: BaseException) -> Failure | None:
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return Failure.TRANSIENT
    if isinstance(exc, OSError) and not isinstance(exc, _LOCAL_OS_ERRORS):
        return Failure.TRANSIENT
    return None


_RULES = (_records, _mongo, _postgres, _kafka, _http, _smtp, _os)
