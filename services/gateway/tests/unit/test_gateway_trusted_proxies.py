"""The gateway's server believes forwarded headers from the configured proxies only (none by
default), and its public origin is configuration, an origin and nothing more."""

from __future__ import annotations

import pytest
from dinamis_common.runtime import server_config
from gateway_service.settings import Settings
from pydantic import ValidationError


def test_by_default_nobody_is_a_trusted_proxy_not_even_a_local_process():
    config = server_config(object(), Settings())
    assert config.proxy_headers is False


def test_configured_proxies_are_the_only_ones_believed():
    config = server_config(object(), Settings(forwarded_allow_ips="10.0.0.5, 10.1.0.0/16"))
    assert config.proxy_headers is True and config.forwarded_allow_ips == ["10.0.0.5", "10.1.0.0/16"]


def test_the_public_url_is_an_origin():
    assert Settings(public_url="https://dinamis.example.org/").public_url == "https://dinamis.example.org"
    for wrong in ("dinamis.example.org", "ftp://x", "https://x/path", "https://x/?q=1"):
        with pytest.raises(ValidationError):
            Settings(public_url=wrong)
