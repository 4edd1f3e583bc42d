from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from hours.entrypoints.api.deps import ContainerDep
from hours.entrypoints.api.schemas import ComplaintOut, ComplaintPageOut, ComplaintStatisticsOut
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.paging import Skip

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    content: str = Field(min_length=1, max_length=4000)


class HandleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: str = Field(min_length=1, max_length=4000)


def view(doc: dict[str, Any]) -> ComplaintOut:
    return ComplaintOut.model_validate({**{k: v for k, v in doc.items() if k != "_id"}, "id": doc["_id"]})


@router.post("", status_code=201, response_model=ComplaintOut)
async def file_complaint(body: ComplaintIn, principal: CurrentPrincipal, c: ContainerDep) -> ComplaintOut:
    """A teacher's real-name complaint about the year's verification, within the open period."""
    return view(await c.complaints.file(principal, body.year, body.content))


@router.get("", response_model=ComplaintPageOut)
async def list_complaints(
    principal: CurrentPrincipal,
    c: ContainerDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Annotated[str | None, Query(pattern="^(open|handled)$")] = None,
    skip: Skip = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> ComplaintPageOut:
    """Complaints in the caller's scope, newest first, paged with ``skip`` and ``limit``."""
    docs = await c.complaints.search(principal, year, status, skip=skip, limit=limit)
    return ComplaintPageOut(items=[view(doc) for doc in docs], skip=skip, limit=limit)


@router.get("/statistics", response_model=ComplaintStatisticsOut)
async def complaint_statistics(
    principal: CurrentPrincipal, c: ContainerDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> ComplaintStatisticsOut:
    """Per school: total, open, handled."""
    return ComplaintStatisticsOut.model_validate({"schools": await c.complaints.statistics(principal, year)})


@router.post("/{complaint_id}/handle", response_model=ComplaintOut)
async def handle_complaint(
    complaint_id: str, body: HandleIn, principal: CurrentPrincipal, c: ContainerDep
) -> ComplaintOut:
    """District admin handles a complaint of their district (once)."""
    return view(await c.complaints.handle(principal, complaint_id, body.reply))
