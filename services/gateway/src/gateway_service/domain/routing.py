"""Which service a path goes to and whether it needs a token.

``/api/<service>/...`` needs a bearer token (verified here, and again by the service);
``/api/<service>/public/...`` does not (what a person does before having an account: each such
call is authorised by the service itself, e.g. with an e-mailed link); ``/stac/...`` is the public
catalogue discovery. A path with a ``.`` or ``..`` segment is refused: it could climb out of the
service's prefix once a server normalises it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from gateway_service.domain.errors import NotFound

SERVICES = ("accounts", "catalogue", "requests", "arbitration", "provisioning")
CATALOGUE = "catalogue"


@dataclass(frozen=True)
class Route:
    service: str  # the upstream's name
    prefix: str  # what matched: /api/<service> or /stac
    path: str  # the path sent to the service (the same as received)
    public: bool  # no token needed


def api_route(service: str, rest: str, known: Collection[str]) -> Route:
    if service not in known:
        raise NotFound(f"no service named {service!r}")
    _refuse_dot_segments(rest)
    prefix = f"/api/{service}"
    return Route(service, prefix, f"{prefix}/{rest}" if rest else prefix, is_public(rest))


def stac_route(rest: str) -> Route:
    _refuse_dot_segments(rest)
    return Route(CATALOGUE, "/stac", f"/stac/{rest}" if rest else "/stac", True)


def is_public(rest: str) -> bool:
    """``rest`` is the path after ``/api/<service>/``."""
    return rest == "public" or rest.startswith("public/")


def _refuse_dot_segments(rest: str) -> None:
    if any(segment in (".", "..") for segment in rest.split("/")):
        raise NotFound("dot segments are not allowed in paths")
