"""Special projects (专项培训): online application and the three review steps; admission selects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from enrollment.domain.terms import aware
from enrollment.entrypoints.api.deps import ContainerDep
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(tags=["special projects"])


class ApplicationIn(BaseModel):
    course_code: str = Field(min_length=1, max_length=30)


class DecisionIn(BaseModel):
    approve: bool
    reason: str | None = Field(default=None, max_length=300)


class ApplicationOut(BaseModel):
    id: str
    term: str
    course_code: str
    course_name: str | None
    ce_number: str
    name: str | None
    school_id: str | None
    district: str | None
    status: str
    applied_at: datetime
    reviews: dict[str, dict[str, Any]]
    selection_id: str | None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ApplicationOut:
        reviews = {
            step: {**review, "approve": bool(review.get("approve")), "at": aware(review["at"]).isoformat()}
            for step, review in (doc.get("reviews") or {}).items()
        }
        fields = {k: v for k, v in doc.items() if k in cls.model_fields and k not in ("reviews", "applied_at")}
        return cls(id=doc["_id"], applied_at=aware(doc["applied_at"]), reviews=reviews, **fields)


@router.post(
    "/v1/terms/{term}/special-applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationOut,
    operation_id="apply_special_project",
)
async def apply(term: str, body: ApplicationIn, principal: CurrentPrincipal, container: ContainerDep) -> ApplicationOut:
    """网上报名 (teacher, inside the window)."""
    return ApplicationOut.of(await container.project_service.apply(principal, term, body.course_code))


@router.post(
    "/v1/special-applications/{application_id}/decision",
    response_model=ApplicationOut,
    operation_id="decide_special_application",
)
async def decide(
    application_id: str, body: DecisionIn, principal: CurrentPrincipal, container: ContainerDep
) -> ApplicationOut:
    """The school (principal/admin), then the district, then the course's institution decide in turn;
    the institution's approval admits the teacher and selects the course."""
    doc = await container.project_service.decide(principal, application_id, body.approve, body.reason)
    return ApplicationOut.of(doc)


@router.get(
    "/v1/terms/{term}/special-applications",
    response_model=list[ApplicationOut],
    operation_id="list_special_applications",
)
async def applications(
    term: str, principal: CurrentPrincipal, container: ContainerDep, status: str | None = None
) -> list[ApplicationOut]:
    return [ApplicationOut.of(doc) for doc in await container.project_service.list(principal, term, status)]
