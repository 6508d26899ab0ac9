"""``POST /api/provisioning/airbus/notifications``: Airbus says an order changed (docs/airbus-api.md
"Notifications"). The signature is checked on the raw body (401 without a valid one); the notification
only makes the order due now: its state is always read back from Airbus by the worker."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request, Response

from provisioning_service.entrypoints.deps import Ctx
from provisioning_service.service_layer import handlers
from provisioning_service.service_layer.airbus_port import SIGNATURE_HEADER, verify_notification

router = APIRouter(prefix="/api/provisioning/airbus", tags=["provisioning"])


@router.post("/notifications", status_code=204, response_class=Response,
             summary="An Airbus notification (signed with the shared secret)")
async def notification(ctx: Ctx, request: Request) -> Response:
    body = await request.body()
    if not verify_notification(ctx.notification_secret, body, request.headers.get(SIGNATURE_HEADER)):
        raise HTTPException(401, "missing or wrong notification signature")
    try:
        note = json.loads(body)
    except ValueError:
        raise HTTPException(422, "the notification is not JSON") from None
    if not isinstance(note, dict):
        raise HTTPException(422, "the notification is not a JSON object")
    reference, airbus_id = note.get("customer_reference"), note.get("order_id")
    await handlers.notified(ctx, customer_reference=reference if isinstance(reference, str) else None,
                            airbus_order_id=airbus_id if isinstance(airbus_id, str) else None)
    return Response(status_code=204)
