"""The object-store adapter on the stack's real SeaweedFS (S3): what is stored comes back, presigned links
work for anyone and only unaltered, and each service's keys reach only the buckets granted to it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from dinamis_common.objectstore import (
    ObjectAccessDenied,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreUnavailable,
    parse_url,
)
from dinamis_common.settings import ServiceSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def store_as(servers) -> Iterator[Callable[[str], ObjectStore]]:
    """An ObjectStore with the keys of one of the stack's identities (admin, provisioning, catalogue)."""
    from dinamis_cli import stack
    from dinamis_cli.stack.servers import objectstore_keys

    assert servers.object_store_url, "the stack gives no object store"
    profile = stack.load_profile("test")
    made: list[ObjectStore] = []

    def make(identity: str) -> ObjectStore:
        keys = servers.object_store_admin_keys if identity == "admin" else objectstore_keys(profile, identity)
        made.append(store := ObjectStore(servers.object_store_url, *keys))
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
async def cleanup(store_as) -> AsyncIterator[list[str]]:
    """URLs deleted after the test, whatever it left."""
    urls: list[str] = []
    yield urls
    admin = store_as("admin")
    for url in urls:
        await admin.delete(url)


async def test_what_is_put_comes_back_is_listed_and_goes_away(store_as, unique, tmp_path: Path, cleanup) -> None:
    store = store_as("provisioning")
    package = tmp_path / "package.zip"
    package.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 36_000)  # 9.2 MB: sent in parts (multipart upload)
    manifest = b'{"product": "IMG_PHR1A_P_001"}'

    zip_url = await store.put("deliveries", f"it-{unique}/order-1/package.zip", package, "application/zip")
    json_url = await store.put("deliveries", f"it-{unique}/order-1/manifest.json", manifest, "application/json")
    cleanup += [zip_url, json_url]

    assert zip_url == f"s3://deliveries/it-{unique}/order-1/package.zip"
    assert await store.get(zip_url) == package.read_bytes()
    assert await store.get(json_url) == manifest
    assert await store.exists(json_url)
    listed = await store.list("deliveries", f"it-{unique}/")
    assert [(o.url, o.size) for o in listed] == [(json_url, len(manifest)), (zip_url, package.stat().st_size)]

    await store.delete(json_url)
    assert not await store.exists(json_url)
    with pytest.raises(ObjectNotFound):
        await store.get(json_url)
    assert [o.url for o in await store.list("deliveries", f"it-{unique}/")] == [zip_url]
    await store.delete(json_url)  # twice: nothing to delete is not an error


async def test_a_presigned_link_serves_the_object_to_anyone_and_an_altered_one_is_refused(
        store_as, unique, cleanup) -> None:
    store = store_as("provisioning")
    url = await store.put("deliveries", f"it-{unique}/quicklook.jpg", b"\xff\xd8\xff quicklook", "image/jpeg")
    cleanup.append(url)

    link = await store.presign_get(url, expires_s=300)
    async with httpx.AsyncClient(timeout=10) as http:  # no key, no S3 client: a browser's request
        ok = await http.get(link)
        assert ok.status_code == 200
        assert ok.content == b"\xff\xd8\xff quicklook"
        assert ok.headers["content-type"] == "image/jpeg"

        signature = httpx.URL(link).params["X-Amz-Signature"]
        forged = link.replace(signature, signature[:-1] + ("0" if signature[-1] != "0" else "1"))
        assert (await http.get(forged)).status_code == 403
        other_object = link.replace("quicklook.jpg", "package.zip")  # the signature names one object only
        assert (await http.get(other_object)).status_code == 403


async def test_the_catalogue_reads_deliveries_and_writes_thumbnails_but_cannot_write_deliveries(
        store_as, unique, cleanup) -> None:
    provisioning, catalogue = store_as("provisioning"), store_as("catalogue")
    delivered = await provisioning.put("deliveries", f"it-{unique}/image.tif", b"II*\x00 cog", "image/tiff")
    cleanup.append(delivered)

    assert await catalogue.get(delivered) == b"II*\x00 cog"
    thumbnail = await catalogue.put("thumbnails", f"it-{unique}/image.png", b"\x89PNG thumb", "image/png")
    cleanup.append(thumbnail)
    assert await catalogue.get(thumbnail) == b"\x89PNG thumb"

    with pytest.raises(ObjectAccessDenied):
        await catalogue.put("deliveries", f"it-{unique}/forged.tif", b"not from provisioning", "image/tiff")
    with pytest.raises(ObjectAccessDenied):
        await catalogue.delete(delivered)
    with pytest.raises(ObjectAccessDenied):  # and provisioning has nothing to do with thumbnails
        await provisioning.put("thumbnails", f"it-{unique}/x.png", b"x", "image/png")
    assert not await store_as("admin").exists(f"s3://deliveries/it-{unique}/forged.tif")
    assert await provisioning.get(delivered) == b"II*\x00 cog"


async def test_a_wrong_secret_or_an_unknown_key_is_refused(servers, store_as, unique, cleanup) -> None:
    url = await store_as("provisioning").put("deliveries", f"it-{unique}/secret.bin", b"kept", "text/plain")
    cleanup.append(url)
    access, _ = servers.object_store_admin_keys
    for keys in ((access, "not-the-secret"), ("nobody", "nothing")):
        intruder = ObjectStore(servers.object_store_url, *keys)
        try:
            with pytest.raises(ObjectAccessDenied):
                await intruder.get(url)
            with pytest.raises(ObjectAccessDenied):
                await intruder.put("deliveries", f"it-{unique}/intruder.bin", b"x")
        finally:
            intruder.close()
    assert not await store_as("admin").exists(f"s3://deliveries/it-{unique}/intruder.bin")


async def test_a_store_that_does_not_answer_is_unavailable_after_retries() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = ObjectStore(f"http://127.0.0.1:{port}", "k", "s", attempts=2, retry_total_s=5, timeout_s=2)
    try:
        with pytest.raises(ObjectStoreUnavailable):
            await store.get("s3://deliveries/anything")
    finally:
        store.close()


def test_settings_name_the_store_and_keep_the_secret_out_of_reprs(monkeypatch) -> None:
    monkeypatch.setenv("OBJECT_STORE_URL", "http://127.0.0.1:28333")
    monkeypatch.setenv("OBJECT_STORE_ACCESS_KEY", "provisioning-key")
    monkeypatch.setenv("OBJECT_STORE_SECRET_KEY", "s3cr3t")
    settings = ServiceSettings()
    store = ObjectStore.from_settings(settings)
    assert (store.endpoint, store.region) == ("http://127.0.0.1:28333", "us-east-1")
    assert "s3cr3t" not in repr(settings)
    assert parse_url("s3://deliveries/a/b c?.tif") == ("deliveries", "a/b c?.tif")
