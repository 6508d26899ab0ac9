"""Where a path goes, whether it needs a token, and what the gateway refuses to forward."""

from __future__ import annotations

import pytest
from gateway_service.domain.errors import NotFound
from gateway_service.domain.routing import SERVICES, api_route, stac_route


def test_a_service_path_goes_to_that_service_and_needs_a_token():
    route = api_route("requests", "abc/history", SERVICES)
    assert (route.service, route.prefix, route.path, route.public) == (
        "requests", "/api/requests", "/api/requests/abc/history", False)
    assert api_route("requests", "", SERVICES).path == "/api/requests"


@pytest.mark.parametrize("rest", ["public", "public/subscriptions", "public/a/b"])
def test_public_paths_need_no_token(rest):
    assert api_route("accounts", rest, SERVICES).public


@pytest.mark.parametrize("rest", ["publicity", "x/public", "Public/x"])
def test_only_the_public_prefix_is_public(rest):
    assert not api_route("accounts", rest, SERVICES).public


def test_an_unknown_service_is_not_found_by_name():
    with pytest.raises(NotFound, match="no service named 'billing'"):
        api_route("billing", "x", SERVICES)


@pytest.mark.parametrize("rest", ["..", "../accounts/users", "public/../admin", "a/./b", "public/.."])
def test_dot_segments_are_refused_anywhere(rest):
    with pytest.raises(NotFound, match="dot segments"):
        api_route("accounts", rest, SERVICES)
    with pytest.raises(NotFound, match="dot segments"):
        stac_route(rest)


def test_stac_is_public_and_goes_to_the_catalogue():
    assert stac_route("").path == "/stac"
    route = stac_route("collections/spot")
    assert (route.service, route.prefix, route.path, route.public) == (
        "catalogue", "/stac", "/stac/collections/spot", True)
