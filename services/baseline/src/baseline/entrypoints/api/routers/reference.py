"""Bases, zones and academic years (routes only translate)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from baseline.entrypoints.api.deps import IdPath, ReferenceDep, YearPath
from baseline.entrypoints.api.routers.schemas import (
    BaseChangeIn,
    BaseIn,
    BaseOut,
    ContactIn,
    DeadlinesIn,
    YearIn,
    YearOut,
    ZoneChangeIn,
    ZoneIn,
    ZoneOut,
)
from baseline.service_layer.reference import BaseChange, Contact, NewBase, NewYear, NewZone
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import as_utc

router = APIRouter(prefix="/v1", tags=["reference data"])


def _contact(body: Any) -> Contact:
    return Contact(body.name, body.mobile, str(body.email) if body.email else None)


def out(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "id": doc["_id"]}


def year_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "year": doc["_id"],
        "demand_deadline": as_utc(doc["demand_deadline"]),
        "personnel_deadline": as_utc(doc["personnel_deadline"]),
        "report_deadline": as_utc(doc["report_deadline"]),
        "rewarded_zones": sorted(doc["rewarded"] or {}) if "rewarded" in doc else None,  # the centre only
    }


@router.post("/bases", status_code=status.HTTP_201_CREATED, response_model=BaseOut)
async def add_base(body: BaseIn, principal: CurrentPrincipal, reference: ReferenceDep) -> dict[str, Any]:
    new = NewBase(body.name, body.stage, body.region, _contact(body.contact))
    return out(await reference.add_base(principal, new))


@router.patch("/bases/{base_id}", response_model=BaseOut)
async def change_base(
    base_id: IdPath, body: BaseChangeIn, principal: CurrentPrincipal, reference: ReferenceDep
) -> dict[str, Any]:
    contact = _contact(body.contact) if body.contact else None
    return out(await reference.change_base(principal, base_id, BaseChange(body.name, body.region, contact)))


@router.patch("/zones/{zone_id}", response_model=ZoneOut)
async def change_zone(
    zone_id: IdPath, body: ZoneChangeIn, principal: CurrentPrincipal, reference: ReferenceDep
) -> dict[str, Any]:
    return out(await reference.change_zone(principal, zone_id, body.name, body.region))


@router.get("/bases", response_model=list[BaseOut])
async def list_bases(principal: CurrentPrincipal, reference: ReferenceDep) -> list[dict[str, Any]]:
    return [out(doc) for doc in await reference.list_bases(principal)]


@router.post("/zones", status_code=status.HTTP_201_CREATED, response_model=ZoneOut)
async def add_zone(body: ZoneIn, principal: CurrentPrincipal, reference: ReferenceDep) -> dict[str, Any]:
    return out(await reference.add_zone(principal, NewZone(body.name, _contact(body.contact), body.region)))


@router.get("/zones", response_model=list[ZoneOut])
async def list_zones(principal: CurrentPrincipal, reference: ReferenceDep) -> list[dict[str, Any]]:
    return [out(doc) for doc in await reference.list_zones(principal)]


@router.get("/zones/{zone_id}", response_model=ZoneOut)
async def get_zone(zone_id: IdPath, principal: CurrentPrincipal, reference: ReferenceDep) -> dict[str, Any]:
    return out(await reference.get_zone(principal, zone_id))


@router.put("/zones/{zone_id}/contact", response_model=ZoneOut)
async def change_zone_contact(
    zone_id: IdPath, body: ContactIn, principal: CurrentPrincipal, reference: ReferenceDep
) -> dict[str, Any]:
    return out(await reference.change_zone_contact(principal, zone_id, _contact(body)))


@router.post("/years", status_code=status.HTTP_201_CREATED, response_model=YearOut)
async def add_year(body: YearIn, principal: CurrentPrincipal, reference: ReferenceDep) -> dict[str, Any]:
    new = NewYear(body.year, body.demand_deadline, body.personnel_deadline, body.report_deadline)
    return year_out(await reference.add_year(principal, new))


@router.get("/years/{year}", response_model=YearOut, response_model_exclude_none=True)
async def get_year(year: YearPath, principal: CurrentPrincipal, reference: ReferenceDep) -> dict[str, Any]:
    return year_out(await reference.year(principal, year))


@router.put("/years/{year}/deadlines", response_model=YearOut)
async def change_deadlines(
    year: YearPath, body: DeadlinesIn, principal: CurrentPrincipal, reference: ReferenceDep
) -> dict[str, Any]:
    new = NewYear(year, body.demand_deadline, body.personnel_deadline, body.report_deadline)
    return year_out(await reference.change_deadlines(principal, new))
