"""An S3-compatible object store (SeaweedFS in the local stack, any S3 in production).

Objects are named by URL, ``s3://<bucket>/<key>``: what ``put`` returns is what ``get``, ``exists``,
``delete`` and ``presign_get`` take, and what events and catalogue items carry. The client is boto3
(the one this store was checked with), its blocking calls run in a worker thread; nothing happens
at import or construction (the client is built on first use). Failures of the store itself (5xx,
429 / SlowDown, time-outs, connection refused) are retried with stamina, then raised as
:class:`ObjectStoreUnavailable` (transient); a refusal (wrong key, a bucket the key may not touch)
is :class:`ObjectAccessDenied` and a missing object :class:`ObjectNotFound` (both permanent).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import stamina

if TYPE_CHECKING:
    from dinamis_common.settings import ServiceSettings

T = TypeVar("T")

SCHEME = "s3://"
MAX_KEY_BYTES = 1024  # S3's own limit
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's limit
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled", "403"}
_MISSING = {"NoSuchKey", "NoSuchBucket", "NotFound", "404"}
_BUSY = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "ServiceUnavailable",
         "InternalError"}


class ObjectStoreError(Exception):
    """The object store refused or failed an operation (the message says which and why)."""


class ObjectNotFound(ObjectStoreError):
    failure_kind = "permanent"


class ObjectAccessDenied(ObjectStoreError):
    failure_kind = "permanent"


class ObjectStoreUnavailable(ObjectStoreError):
    failure_kind = "transient"


class InvalidObjectUrl(ObjectStoreError, ValueError):
    failure_kind = "permanent"


@dataclass(frozen=True)
class StoredObject:
    url: str
    key: str
    size: int


def object_url(bucket: str, key: str) -> str:
    _check(bucket, key)
    return f"{SCHEME}{bucket}/{key}"


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``; the key is everything after the bucket, as is."""
    if not url.startswith(SCHEME) or "/" not in url[len(SCHEME):]:
        raise InvalidObjectUrl(f"not an object URL (s3://bucket/key): {url[:200]!r}")
    bucket, key = url[len(SCHEME):].split("/", 1)
    _check(bucket, key)
    return bucket, key


def _check(bucket: str, key: str) -> None:
    if not _BUCKET.match(bucket):
        raise InvalidObjectUrl(f"invalid bucket name {bucket[:80]!r}")
    if not key or key.startswith("/") or len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidObjectUrl(f"invalid object key {key[:80]!r} (1 to {MAX_KEY_BYTES} bytes, no leading /)")


def _status(exc: BaseException) -> tuple[str, int]:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code", "")), int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return "", 0


def _unwrap(exc: BaseException) -> BaseException:
    """s3transfer's ``S3UploadFailedError`` is raised while handling the ClientError that says why."""
    from boto3.exceptions import S3UploadFailedError

    if isinstance(exc, S3UploadFailedError) and exc.__context__ is not None:
        return exc.__context__
    return exc


def _transient(exc: BaseException) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    exc = _unwrap(exc)
    if isinstance(exc, BotoConnectionError | HTTPClientError | TimeoutError | ConnectionError):
        return True  # refused, reset, connect or read time-out
    code, status = _status(exc)
    return status >= 500 or status == 429 or code in _BUSY


def _translate(exc: BaseException, what: str) -> ObjectStoreError:
    exc = _unwrap(exc)
    if _transient(exc):
        return ObjectStoreUnavailable(f"the object store did not answer {what}: {exc}")
    code, status = _status(exc)
    if code in _MISSING or status == 404:
        return ObjectNotFound(f"{what}: no such object or bucket ({code or status})")
    if code in _DENIED or status == 403:
        return ObjectAccessDenied(f"{what}: refused by the object store ({code or status})")
    return ObjectStoreError(f"{what} failed: {exc}")


class ObjectStore:
    """One S3 endpoint with one key pair. Safe to share between tasks (boto3 clients are thread-safe)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1", *,
                 timeout_s: float = 30.0, attempts: int = 4, retry_total_s: float = 30.0,
                 max_connections: int = 10) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self._access_key, self._secret_key = access_key, secret_key
        self._timeout_s, self._attempts, self._retry_total_s = timeout_s, attempts, retry_total_s
        self._max_connections = max_connections
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ObjectStore:
        return cls(settings.object_store_url, settings.object_store_access_key,
                   settings.object_store_secret_key.get_secret_value(), settings.object_store_region)

    def _s3(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                config = Config(
                    signature_version="s3v4", s3={"addressing_style": "path"},
                    connect_timeout=min(self._timeout_s, 10.0), read_timeout=self._timeout_s,
                    retries={"total_max_attempts": 1},  # stamina retries, once, for every operation
                    max_pool_connections=self._max_connections,
                    # S3-compatible servers differ in the checksums they know: send one only when required
                    request_checksum_calculation="when_required", response_checksum_validation="when_required")
                self._client = boto3.session.Session().client(
                    "s3", endpoint_url=self.endpoint, region_name=self.region, aws_access_key_id=self._access_key,
                    aws_secret_access_key=self._secret_key, config=config)
            return self._client

    async def _call(self, what: str, call: Callable[[Any], T]) -> T:
        try:
            async for attempt in stamina.retry_context(on=_transient, attempts=self._attempts,
                                                       timeout=self._retry_total_s, wait_max=5.0):
                with attempt:
                    return await asyncio.to_thread(lambda: call(self._s3()))
        except Exception as exc:
            raise _translate(exc, what) from exc
        raise AssertionError("unreachable")  # stamina re-raises the last failure

    async def put(self, bucket: str, key: str, data: bytes | Path,
                  content_type: str = "application/octet-stream") -> str:
        """Stores ``data`` (bytes, or a file streamed in parts when large) and returns its URL."""
        url = object_url(bucket, key)
        if isinstance(data, Path):
            path = data
            await self._call(f"put {url}", lambda s3: s3.upload_file(
                str(path), bucket, key, ExtraArgs={"ContentType": content_type}))
        else:
            body = bytes(data)
            await self._call(f"put {url}", lambda s3: s3.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type))
        return url

    async def get(self, url: str) -> bytes:
        bucket, key = parse_url(url)

        def read(s3: Any) -> bytes:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

        return await self._call(f"get {url}", read)

    async def exists(self, url: str) -> bool:
        bucket, key = parse_url(url)
        try:
            await self._call(f"head {url}", lambda s3: s3.head_object(Bucket=bucket, Key=key))
        except ObjectNotFound:
            return False
        return True

    async def delete(self, url: str) -> None:
        """Deletes the object; deleting one that is not there is not an error (as in S3)."""
        bucket, key = parse_url(url)
        await self._call(f"delete {url}", lambda s3: s3.delete_object(Bucket=bucket, Key=key))

    async def list(self, bucket: str, prefix: str = "", limit: int = 10_000) -> list[StoredObject]:
        """The objects of ``bucket`` whose key starts with ``prefix``, in key order, at most ``limit``."""
        if not _BUCKET.match(bucket):
            raise InvalidObjectUrl(f"invalid bucket name {bucket[:80]!r}")

        def listed(s3: Any) -> list[StoredObject]:
            found: list[StoredObject] = []
            for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket=bucket, Prefix=prefix, PaginationConfig={"MaxItems": limit, "PageSize": 1000}):
                found += [StoredObject(f"{SCHEME}{bucket}/{o['Key']}", o["Key"], int(o["Size"]))
                          for o in page.get("Contents", [])]
            return found[:limit]

        return await self._call(f"list {SCHEME}{bucket}/{prefix}", listed)

    async def presign_get(self, url: str, expires_s: int = 3600) -> str:
        """An HTTP(S) URL anyone holding it can GET the object with for ``expires_s`` seconds (no I/O)."""
        bucket, key = parse_url(url)
        if not 1 <= expires_s <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_s must be within 1..{MAX_PRESIGN_SECONDS}")
        return await asyncio.to_thread(lambda: self._s3().generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s))

    async def ensure_bucket(self, bucket: str) -> None:
        """Creates ``bucket`` unless it exists (an administrator's key: the stack and deployments do this)."""
        if not _BUCKET.match(bucket):
            raise InvalidObjectUrl(f"invalid bucket name {bucket[:80]!r}")

        def create(s3: Any) -> None:
            from botocore.exceptions import ClientError

            try:
                s3.create_bucket(Bucket=bucket)
            except ClientError as exc:
                if _status(exc)[0] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

        await self._call(f"create bucket {bucket}", create)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
