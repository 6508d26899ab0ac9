from __future__ import annotations

import pytest
from dinamis_common.auth import JwksVerifier
from dinamis_testkit.devtokens import DEV_ISSUER, ensure_dev_keys


@pytest.fixture
def keys(tmp_path):
    return ensure_dev_keys(tmp_path / "keys")


@pytest.fixture
def verifier(keys):
    return JwksVerifier(f"file://{keys[1]}", DEV_ISSUER, "dinamis-api", leeway=0)
