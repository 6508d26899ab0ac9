"""Kafka users (SCRAM-SHA-512 credentials) and their ACLs, written to a running broker.

aiokafka has no admin call for either on Kafka 4 (its ACL requests stop at v1, which Kafka 4 no longer
accepts), so the requests are declared here in aiokafka's own protocol types, all of the flexible
encoding: ``AlterUserScramCredentials`` v0 (KIP-554), ``CreateAcls``, ``DescribeAcls`` and ``DeleteAcls`` v3.

They are sent to the KRaft controller listener, authenticated as its ``controller`` super user (PLAIN,
loopback only): that works on a freshly formatted data directory and on one formatted before
authentication existed, where no SCRAM user exists yet. Both requests are idempotent: a credential is
replaced, an existing ACL binding is kept once, and a managed user's binding the table no longer gives
is deleted (a kept broker follows the table).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactArray, CompactBytes, CompactString, Int8, Int16, Int32, Schema, TaggedFields

from dinamis_cli.stack.kafka_acl import Acl

SCRAM_SHA_512 = 2  # ScramMechanism
ITERATIONS = 8192  # Kafka accepts 4096 to 16384 for SCRAM-SHA-512
RESOURCE = {"topic": 2, "group": 3, "cluster": 4}
PATTERN = {"literal": 3, "prefixed": 4}
OPERATION = {"READ": 3, "WRITE": 4, "CREATE": 5, "DESCRIBE": 8, "DESCRIBE_CONFIGS": 10, "ALTER_CONFIGS": 11,
             "IDEMPOTENT_WRITE": 12}
ALLOW = 3
ANY = 1  # resource type, pattern type, operation and permission filters


class _ScramResponse(Response):
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("results", CompactArray(("user", CompactString("utf-8")), ("error_code", Int16),
                                             ("error_message", CompactString("utf-8")), ("tags", TaggedFields))),
                    ("tags", TaggedFields))


class _ScramRequestV0(RequestStruct):
    API_KEY = 51
    API_VERSION = 0
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = _ScramResponse
    SCHEMA = Schema(("deletions", CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8),
                                               ("tags", TaggedFields))),
                    ("upsertions", CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8),
                                                ("iterations", Int32), ("salt", CompactBytes),
                                                ("salted_password", CompactBytes), ("tags", TaggedFields))),
                    ("tags", TaggedFields))


class _ScramRequest(Request[_ScramRequestV0]):
    API_KEY = 51

    def __init__(self, upsertions: list[tuple[Any, ...]]) -> None:
        self.upsertions = upsertions

    def build(self, request_struct_class: type[_ScramRequestV0]) -> _ScramRequestV0:
        return request_struct_class([], self.upsertions, {})


class _AclsResponse(Response):
    API_KEY = 30
    API_VERSION = 3
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("results", CompactArray(("error_code", Int16), ("error_message", CompactString("utf-8")),
                                             ("tags", TaggedFields))),
                    ("tags", TaggedFields))


class _AclsRequestV3(RequestStruct):
    API_KEY = 30
    API_VERSION = 3
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = _AclsResponse
    SCHEMA = Schema(("creations", CompactArray(("resource_type", Int8), ("resource_name", CompactString("utf-8")),
                                               ("pattern_type", Int8), ("principal", CompactString("utf-8")),
                                               ("host", CompactString("utf-8")), ("operation", Int8),
                                               ("permission_type", Int8), ("tags", TaggedFields))),
                    ("tags", TaggedFields))


class _AclsRequest(Request[_AclsRequestV3]):
    API_KEY = 30

    def __init__(self, creations: list[tuple[Any, ...]]) -> None:
        self.creations = creations

    def build(self, request_struct_class: type[_AclsRequestV3]) -> _AclsRequestV3:
        return request_struct_class(self.creations, {})


_BINDING = (("principal", CompactString("utf-8")), ("host", CompactString("utf-8")), ("operation", Int8),
            ("permission_type", Int8), ("tags", TaggedFields))
_FILTER = (("resource_type", Int8), ("resource_name", CompactString("utf-8")), ("pattern_type", Int8),
           ("principal", CompactString("utf-8")), ("host", CompactString("utf-8")), ("operation", Int8),
           ("permission_type", Int8), ("tags", TaggedFields))


class _DescribeResponse(Response):
    API_KEY = 29
    API_VERSION = 3
    SCHEMA = Schema(("throttle_time_ms", Int32), ("error_code", Int16), ("error_message", CompactString("utf-8")),
                    ("resources", CompactArray(("resource_type", Int8), ("resource_name", CompactString("utf-8")),
                                               ("pattern_type", Int8), ("acls", CompactArray(*_BINDING)),
                                               ("tags", TaggedFields))),
                    ("tags", TaggedFields))


class _DescribeRequestV3(RequestStruct):
    API_KEY = 29
    API_VERSION = 3
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = _DescribeResponse
    SCHEMA = Schema(*_FILTER)


class _DescribeRequest(Request[_DescribeRequestV3]):
    API_KEY = 29

    def build(self, request_struct_class: type[_DescribeRequestV3]) -> _DescribeRequestV3:
        return request_struct_class(ANY, None, ANY, None, None, ANY, ANY, {})  # every binding


class _DeleteResponse(Response):
    API_KEY = 31
    API_VERSION = 3
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("results", CompactArray(("error_code", Int16), ("error_message", CompactString("utf-8")),
                                             ("matching", CompactArray(
                                                 ("error_code", Int16), ("error_message", CompactString("utf-8")),
                                                 ("resource_type", Int8), ("resource_name", CompactString("utf-8")),
                                                 ("pattern_type", Int8), *_BINDING)),
                                             ("tags", TaggedFields))),
                    ("tags", TaggedFields))


class _DeleteRequestV3(RequestStruct):
    API_KEY = 31
    API_VERSION = 3
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = _DeleteResponse
    SCHEMA = Schema(("filters", CompactArray(*_FILTER)), ("tags", TaggedFields))


class _DeleteRequest(Request[_DeleteRequestV3]):
    API_KEY = 31

    def __init__(self, filters: list[tuple[Any, ...]]) -> None:
        self.filters = filters

    def build(self, request_struct_class: type[_DeleteRequestV3]) -> _DeleteRequestV3:
        return request_struct_class(self.filters, {})


def scram_credential(name: str, password: str, iterations: int = ITERATIONS) -> tuple[Any, ...]:
    """One SCRAM-SHA-512 upsertion: Kafka stores the salted password (RFC 5802 ``Hi``, PBKDF2), never
    the password itself."""
    salt = secrets.token_bytes(32)
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return (name, SCRAM_SHA_512, iterations, salt, salted, {})


def acl_creation(principal: str, acl: Acl) -> tuple[Any, ...]:
    return (RESOURCE[acl.resource], acl.name, PATTERN[acl.pattern], principal, "*", OPERATION[acl.operation],
            ALLOW, {})


async def apply(host: str, port: int, login: Mapping[str, str], users: Mapping[str, str],
                acls: Mapping[str, Iterable[Acl]]) -> None:
    """Sets ``users`` (name -> password) and makes ``acls`` (user name -> all of its rules) the only
    rules of those users (missing ones created, others deleted) through the listener at ``host:port``,
    logged in with ``login`` (aiokafka's ``security_protocol``, ``sasl_mechanism``,
    ``sasl_plain_username``, ``sasl_plain_password``). Raises on any refusal."""
    conn = await create_conn(host, port, client_id="dinamis-stack", request_timeout_ms=10000, **login)
    try:
        errors: list[str] = []
        if users:
            done = await conn.send(_ScramRequest([scram_credential(n, p) for n, p in sorted(users.items())]))
            errors += [f"user {r[0]}: {r[2] or r[1]}" for r in done.results if r[1]]
        creations = [acl_creation(f"User:{user}", acl) for user, rules in sorted(acls.items()) for acl in rules]
        if creations:
            done = await conn.send(_AclsRequest(creations))
            errors += [f"{c[3]} {c[1]}: {r[1] or r[0]}" for c, r in zip(creations, done.results, strict=True) if r[0]]
        if stale := await _stale(conn, {f"User:{user}" for user in acls}, {c[:-1] for c in creations}):
            done = await conn.send(_DeleteRequest([(*binding, {}) for binding in stale]))
            errors += [f"stale {b[3]} {b[1]}: {r[1] or r[0]}" for b, r in zip(stale, done.results, strict=True) if r[0]]
        if errors:
            raise RuntimeError(f"Kafka refused users or ACLs: {'; '.join(errors)}")
    finally:
        conn.close()


async def _stale(conn: Any, managed: set[str], wanted: set[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The bindings of the ``managed`` principals that are not ``wanted`` (each a creation tuple
    without its tags), as exact filters."""
    described = await conn.send(_DescribeRequest())
    if described.error_code:
        raise RuntimeError(f"Kafka did not list its ACLs: {described.error_message or described.error_code}")
    found = [(kind, name, pattern, principal, host, operation, permission)
             for kind, name, pattern, bindings, _ in described.resources
             for principal, host, operation, permission, _ in bindings if principal in managed]
    return sorted(b for b in found if b not in wanted)
