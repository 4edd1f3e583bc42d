from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from studio.domain.bulletins import BulletinKind
from studio.entrypoints.api.deps import BulletinsDep

router = APIRouter(prefix="/v1/studios/{studio_id}", tags=["bulletins"])


class BulletinIn(BaseModel):
    kind: BulletinKind
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(max_length=100_000, description="HTML; sanitised before it is stored")
    year: int | None = Field(default=None, ge=2000, le=2100, description="年度工作计划的年份")
    publish: bool = False


class BulletinPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=100)
    body: str | None = Field(default=None, max_length=100_000)
    publish: bool = False


class BulletinOut(BaseModel):
    id: str
    kind: BulletinKind
    title: str
    body: str
    year: int | None
    status: str
    created_ms: int
    published_ms: int | None


class HomeOut(BaseModel):
    regulation: BulletinOut | None
    cycle_plan: BulletinOut | None
    annual_plans: list[BulletinOut]
    announcements: list[BulletinOut]
    briefs: list[BulletinOut]


def out(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "id": doc["_id"]}


@router.post("/bulletins", status_code=status.HTTP_201_CREATED, response_model=BulletinOut)
async def create_bulletin(
    studio_id: str, body: BulletinIn, principal: CurrentPrincipal, service: BulletinsDep
) -> dict[str, Any]:
    return out(await service.create(principal, studio_id, body.kind, body.title, body.body, body.year, body.publish))


@router.get("/bulletins", response_model=list[BulletinOut])
async def list_bulletins(
    studio_id: str, principal: CurrentPrincipal, service: BulletinsDep, kind: BulletinKind | None = None
) -> list[dict[str, Any]]:
    return [out(d) for d in await service.listing(principal, studio_id, kind.value if kind else None)]


@router.get("/home", response_model=HomeOut)
async def home(studio_id: str, principal: CurrentPrincipal, service: BulletinsDep) -> dict[str, Any]:
    page = await service.home(principal, studio_id)
    return {
        k: (out(v) if isinstance(v, dict) else [out(d) for d in v] if isinstance(v, list) else v)
        for k, v in page.items()
    }


@router.patch("/bulletins/{bulletin_id}", response_model=BulletinOut)
async def edit_bulletin(
    studio_id: str, bulletin_id: str, body: BulletinPatch, principal: CurrentPrincipal, service: BulletinsDep
) -> dict[str, Any]:
    return out(await service.edit(principal, studio_id, bulletin_id, body.model_dump(exclude_unset=True)))


@router.delete("/bulletins/{bulletin_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bulletin(studio_id: str, bulletin_id: str, principal: CurrentPrincipal, service: BulletinsDep) -> None:
    await service.delete(principal, studio_id, bulletin_id)
