"""schemathesis hooks for tests/security/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS): a PDF
body (the public certificate check) is sent as the bytes generated, so that operation is tested too."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/pdf")
def pdf(ctx: Any, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return b"%PDF-1.7\n" + str(value).encode("utf-8", "backslashreplace")
