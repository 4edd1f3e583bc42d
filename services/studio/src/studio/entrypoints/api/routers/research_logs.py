"""Teachers' research logs (研修日志) in the research community. Routes only translate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from studio.entrypoints.api.deps import ResearchLogsDep

router = APIRouter(prefix="/v1/community", tags=["community"])

Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9a-f]+$")]
CeNumber = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z]+$")]


class LogIn(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="日志标题")
    body: str = Field(default="", max_length=50000, description="正文(富文本)")
    workshop_id: Id | None = Field(default=None, description="所在工作坊(须已加入)")


class LogEdit(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=50000)


class HiddenIn(BaseModel):
    hidden: bool = True


class LogOut(BaseModel):
    id: str
    title: str
    body: str
    author_ce_number: str
    workshop_id: str | None = None
    hidden: bool
    created_ms: int
    updated_ms: int


def _out(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "id": doc["_id"]}


@router.post("/logs", status_code=status.HTTP_201_CREATED, response_model=LogOut)
async def write_log(body: LogIn, principal: CurrentPrincipal, svc: ResearchLogsDep) -> dict[str, Any]:
    return _out(await svc.write(principal, body.title, body.body, body.workshop_id))


@router.get("/logs", response_model=list[LogOut])
async def list_logs(
    principal: CurrentPrincipal,
    svc: ResearchLogsDep,
    workshop_id: Annotated[Id | None, Query()] = None,
    author: Annotated[CeNumber | None, Query(description="作者的继续教育编号")] = None,
) -> list[dict[str, Any]]:
    return [_out(d) for d in await svc.listing(principal, workshop_id, author)]


@router.get("/logs/{log_id}", response_model=LogOut)
async def get_log(log_id: Id, principal: CurrentPrincipal, svc: ResearchLogsDep) -> dict[str, Any]:
    return _out(await svc.get(principal, log_id))


@router.patch("/logs/{log_id}", response_model=LogOut)
async def edit_log(log_id: Id, body: LogEdit, principal: CurrentPrincipal, svc: ResearchLogsDep) -> dict[str, Any]:
    return _out(await svc.edit(principal, log_id, body.title, body.body))


@router.delete("/logs/{log_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_log(log_id: Id, principal: CurrentPrincipal, svc: ResearchLogsDep) -> Response:
    await svc.delete(principal, log_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/logs/{log_id}/hidden", response_model=LogOut)
async def hide_log(log_id: Id, body: HiddenIn, principal: CurrentPrincipal, svc: ResearchLogsDep) -> dict[str, Any]:
    return _out(await svc.hide(principal, log_id, body.hidden))
