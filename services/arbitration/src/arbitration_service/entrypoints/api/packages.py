"""``/api/arbitration/packages``: prepaid packages. An administrator registers one (the same
purchase reference again gives the same package); an entity's packages, with what is left of each,
are shown to administrators and to the entity's members."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from dinamis_common.auth import Principal
from dinamis_common.http import CurrentPrincipal, require_roles
from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from arbitration_service.service_layer import packages as uc

router = APIRouter(prefix="/api/arbitration/packages", tags=["quotas"])


async def _packages(request: Request) -> uc.Packages:
    return request.app.state.packages


def caller(principal: Principal) -> uc.Caller:
    entity, category = principal.claims.get("entity_id"), principal.claims.get("entity_category")
    return uc.Caller(principal.subject, principal.roles, str(entity) if entity else None,
                     str(category) if category else None)


async def _caller(principal: CurrentPrincipal) -> uc.Caller:
    return caller(principal)


PackagesCtx = Annotated[uc.Packages, Depends(_packages)]
CurrentCaller = Annotated[uc.Caller, Depends(_caller)]
Admin = Annotated[Principal, Depends(require_roles("admin"))]


class PackageCreate(BaseModel):
    entity_id: str = Field(min_length=1, max_length=64)
    mission: Literal["pleiades", "spot-6-7"]
    km2: float = Field(gt=0, le=1e9)
    amount_eur: str = Field(max_length=20, description="what was paid, EUR, as a decimal string (\"12500.00\")")
    expires_at: datetime
    reference: str = Field(min_length=1, max_length=80,
                           description="the purchase order or invoice number: unique per entity")


class PackagePublic(BaseModel):
    package_id: str
    entity_id: str
    mission: str
    km2: float
    amount_eur: str
    currency: Literal["EUR"] = "EUR"
    expires_at: datetime
    reference: str
    registered_at: datetime
    registered_by: str
    drawn_km2: float
    remaining_km2: float
    expired: bool

    @classmethod
    def of(cls, b: uc.PackageBalance, now: datetime) -> PackagePublic:
        p = b.package
        return cls(package_id=p.package_id, entity_id=p.entity_id, mission=p.mission, km2=p.km2,
                   amount_eur=str(p.amount_eur.quantize(Decimal("0.01"))), expires_at=p.expires_at,
                   reference=p.reference, registered_at=p.registered_at, registered_by=p.registered_by,
                   drawn_km2=b.drawn_km2, remaining_km2=b.remaining_km2, expired=p.expired(now))


class PackageList(BaseModel):
    items: list[PackagePublic]


@router.post("", status_code=201, response_model=PackagePublic,
             summary="Register an entity's prepaid package (administrators); the same reference again: 200 with it")
async def register_package(body: PackageCreate, pk: PackagesCtx, admin: Admin, response: Response) -> PackagePublic:
    cmd = uc.RegisterPackage(body.entity_id, body.mission, body.km2, body.amount_eur, body.expires_at, body.reference)
    stored, created = await uc.register_package(pk, cmd, admin.subject)
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/arbitration/packages?entity_id={stored.entity_id}"
    return PackagePublic.of(await uc.balance(pk, stored), pk.draws.clock())


@router.get("", response_model=PackageList,
            summary="An entity's prepaid packages with what is left (administrators, or the entity's members)")
async def list_packages(pk: PackagesCtx, who: CurrentCaller,
                        entity_id: Annotated[str | None, Query(max_length=64,
                                                               description="yours by default")] = None) -> PackageList:
    wanted = entity_id or who.entity_id or ""
    found = await uc.of_entity(pk, who, wanted)
    now = pk.draws.clock()
    return PackageList(items=[PackagePublic.of(b, now) for b in found])
