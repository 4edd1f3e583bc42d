"""Terms (期): ``POST /v1/terms`` (city admin; emits TermScheduled), reads for everyone signed in."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from enrollment.domain.terms import aware, seconds_until_close, window_open
from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.terms import NewTerm, term_date
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import BoundedDate, BoundedDateTime

router = APIRouter(tags=["terms"])


class TermIn(BaseModel):
    code: str = Field(pattern=r"^\d{4}$", examples=["2602"], description="期数, e.g. 2602")
    year: int = Field(ge=2000, le=2100)
    name: str | None = Field(default=None, max_length=60)
    selection_opens_at: BoundedDateTime = Field(description="选课开始 (ISO 8601 with offset)")
    selection_closes_at: BoundedDateTime = Field(description="选课结束")
    study_starts_on: BoundedDate = Field(description="培训开始")
    study_ends_on: BoundedDate = Field(description="培训结束")
    payment_due_at: BoundedDateTime = Field(description="缴费截止")


class TermOut(BaseModel):
    code: str
    year: int
    name: str | None
    selection_opens_at: datetime
    selection_closes_at: datetime
    study_starts_on: date
    study_ends_on: date
    payment_due_at: datetime
    window_open: bool
    seconds_until_close: int | None

    @classmethod
    def of(cls, doc: dict[str, Any], now: datetime) -> TermOut:
        return cls(
            code=doc["_id"],
            year=doc["year"],
            name=doc.get("name"),
            selection_opens_at=aware(doc["selection_opens_at"]),
            selection_closes_at=aware(doc["selection_closes_at"]),
            study_starts_on=term_date(doc["study_starts_on"]),
            study_ends_on=term_date(doc["study_ends_on"]),
            payment_due_at=aware(doc["payment_due_at"]),
            window_open=window_open(doc, now),
            seconds_until_close=seconds_until_close(doc, now),
        )


@router.post("/v1/terms", status_code=status.HTTP_201_CREATED, response_model=TermOut, operation_id="create_term")
async def create_term(body: TermIn, principal: CurrentPrincipal, container: ContainerDep) -> TermOut:
    term = await container.term_service.create_term(principal, NewTerm(**body.model_dump()))
    return TermOut.of(term, container.clock.now())


class TermChange(BaseModel):
    selection_opens_at: BoundedDateTime | None = None
    selection_closes_at: BoundedDateTime | None = None
    study_starts_on: BoundedDate | None = None
    study_ends_on: BoundedDate | None = None
    payment_due_at: BoundedDateTime | None = None


@router.patch("/v1/terms/{term}", response_model=TermOut, operation_id="reschedule_term")
async def reschedule_term(term: str, body: TermChange, principal: CurrentPrincipal, container: ContainerDep) -> TermOut:
    """Change a term's dates (city admin); emits TermScheduled with the new dates."""
    changes = body.model_dump(exclude_none=True)
    return TermOut.of(await container.term_service.reschedule(principal, term, changes), container.clock.now())


@router.get("/v1/terms", response_model=list[TermOut], operation_id="list_terms")
async def list_terms(
    principal: CurrentPrincipal, container: ContainerDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> list[TermOut]:
    now = container.clock.now()
    return [TermOut.of(doc, now) for doc in await container.term_service.list_terms(year)]


@router.get("/v1/terms/{term}", response_model=TermOut, operation_id="get_term")
async def get_term(term: str, principal: CurrentPrincipal, container: ContainerDep) -> TermOut:
    return TermOut.of(await container.term_service.get_term(term), container.clock.now())
