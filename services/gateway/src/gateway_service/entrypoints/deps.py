"""What the routes take from a request: the forwarding context, the token verifier and the
request's access record."""

from __future__ import annotations

from typing import Annotated

from dinamis_common.auth import JwksVerifier
from fastapi import Depends, Request

from gateway_service.entrypoints.access_log import AccessRecord
from gateway_service.service_layer.context import Gateway


async def context(request: Request) -> Gateway:
    return request.app.state.gateway


async def verifier(request: Request) -> JwksVerifier:
    return request.app.state.verifier


async def access(request: Request) -> AccessRecord:
    return request.state.access


Ctx = Annotated[Gateway, Depends(context)]
Verifier = Annotated[JwksVerifier, Depends(verifier)]
Access = Annotated[AccessRecord, Depends(access)]
