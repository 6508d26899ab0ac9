"""stac-api-validator 0.6.8, the field's own conformance checker, against our API through the
gateway, offline: every schema it fetches is answered from ../shared/stac-schemas, a schema we
do not have is a failure, and so is any crash of the validator (its CLI exits 0 when it crashes)."""

from __future__ import annotations

import asyncio
import io
import json
import urllib.request
from email.message import Message
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[4].parent / "shared" / "stac-schemas"
CLASSES = ["core", "collections", "features", "item-search", "filter", "item-search#sort",
           "item-search#fields", "item-search#query", "item-search#filter"]


class OfflineSchemas:
    def __init__(self) -> None:
        index = json.loads((SCHEMAS / "index.json").read_text())
        self.files = {url: SCHEMAS / path for url, path in index.items()}
        self.missing: list[str] = []

    def local(self, url: str) -> bool:
        return urlsplit(url).hostname in ("127.0.0.1", "localhost")

    def body(self, url: str) -> bytes:
        clean = url.split("#")[0]
        if clean not in self.files:
            self.missing.append(clean)
            raise HTTPError(clean, 404, "schema not vendored in shared/stac-schemas", Message(), None)
        return self.files[clean].read_bytes()


@pytest.fixture
def offline(monkeypatch):
    schemas = OfflineSchemas()
    real_send = requests.Session.send
    real_urlopen = urllib.request.urlopen

    def send(session, prepared, **kwargs):
        if schemas.local(prepared.url):
            return real_send(session, prepared, **kwargs)
        response = requests.Response()
        response.url, response.request = prepared.url, prepared
        try:
            response._content, response.status_code = schemas.body(prepared.url), 200
            response.headers["content-type"] = "application/json"
        except HTTPError:
            response._content, response.status_code = b"{}", 404
        return response

    def urlopen(request, *args, **kwargs):
        url = request.full_url if isinstance(request, urllib.request.Request) else str(request)
        if schemas.local(url):
            return real_urlopen(request, *args, **kwargs)
        return io.BytesIO(schemas.body(url))

    import pystac.stac_io
    import stac_validator.utilities

    monkeypatch.setattr(requests.Session, "send", send)
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(stac_validator.utilities, "urlopen", urlopen)
    monkeypatch.setattr(pystac.stac_io, "urlopen", urlopen, raising=False)
    return schemas


async def test_the_validator_finds_no_error(catalogue, offline):
    from stac_api_validator.validations import QueryConfig, validate_api

    query = QueryConfig(query_comparison_field="eo:cloud_cover", query_eq_value="0", query_neq_value="5",
                        query_lt_value="10", query_lte_value="10", query_gt_value="10", query_gte_value="10",
                        query_substring_field="platform", query_starts_with_value="pleiades",
                        query_ends_with_value="1a", query_contains_value="iade", query_in_field="instruments",
                        query_in_values="hiri,naomi")

    def run():
        return validate_api(
            root_url=catalogue.url, ccs_to_validate=CLASSES, collection="pleiades",
            geometry=json.dumps({"type": "Polygon", "coordinates": [[[2, 45], [6, 45], [6, 48], [2, 48], [2, 45]]]}),
            auth_bearer_token=None, auth_query_parameter=None, fields_nested_property="properties.eo:cloud_cover",
            validate_pagination=True, query_config=query, transaction_collection=None, headers=None,
            open_assets_urls=False,
        )

    _warnings, errors = await asyncio.to_thread(run)
    assert offline.missing == [], f"schemas fetched but not vendored: {offline.missing}"
    assert list(errors) == [], "\n".join(str(e) for e in errors)
