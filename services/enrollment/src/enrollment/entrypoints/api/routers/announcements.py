"""公告: publish (admins, to the levels below them and teachers), read, withdraw (DOMAIN §1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from enrollment.domain.announcements import Audience
from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.announcements import AnnouncementService
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.paging import Skip
from jijiao_kit.timeutil import UtcDateTime

router = APIRouter(tags=["announcements"])


def service(container: ContainerDep) -> AnnouncementService:
    return container.announcements


AnnouncementsDep = Annotated[AnnouncementService, Depends(service)]


class AnnouncementIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=5000)
    audiences: list[Audience] = Field(min_length=1, description="district_admins / school_admins / teachers")


class AnnouncementOut(BaseModel):
    id: str
    title: str
    body: str
    level: str = Field(description="city / district / school: who published it")
    district: str | None
    school_id: str | None
    audiences: list[Audience]
    published_at: UtcDateTime

    @classmethod
    def of(cls, doc: dict[str, Any]) -> AnnouncementOut:
        published: datetime = doc["published_at"]
        return cls(
            id=doc["_id"],
            title=doc["title"],
            body=doc["body"],
            level=doc["level"],
            district=doc.get("district"),
            school_id=doc.get("school_id"),
            audiences=[audience for audience in Audience if doc.get(f"to_{audience.value}")],
            published_at=published,
        )


@router.post("/v1/announcements", status_code=status.HTTP_201_CREATED, response_model=AnnouncementOut)
async def publish(body: AnnouncementIn, principal: CurrentPrincipal, svc: AnnouncementsDep) -> AnnouncementOut:
    """Publish to the admins of the levels below yours and to teachers, within your scope."""
    return AnnouncementOut.of(await svc.publish(principal, body.title, body.body, set(body.audiences)))


@router.get("/v1/announcements", response_model=list[AnnouncementOut])
async def announcements(
    principal: CurrentPrincipal,
    svc: AnnouncementsDep,
    skip: Skip = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AnnouncementOut]:
    """The announcements addressed to you (and your own), newest first."""
    return [AnnouncementOut.of(doc) for doc in await svc.page(principal, skip=skip, limit=limit)]


@router.get("/v1/announcements/{announcement_id}", response_model=AnnouncementOut)
async def announcement(announcement_id: str, principal: CurrentPrincipal, svc: AnnouncementsDep) -> AnnouncementOut:
    return AnnouncementOut.of(await svc.get(principal, announcement_id))


@router.delete("/v1/announcements/{announcement_id}", status_code=status.HTTP_204_NO_CONTENT)
async def withdraw(announcement_id: str, principal: CurrentPrincipal, svc: AnnouncementsDep) -> Response:
    await svc.withdraw(principal, announcement_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
