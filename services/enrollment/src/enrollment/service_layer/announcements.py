"""Announcements (公告, DOMAIN §1): the city, district and school admins publish notices to the levels
below them and to teachers, within their scope; everyone reads those addressed to them."""

from __future__ import annotations

import uuid
from typing import Any

from enrollment.adapters.announcement_repository import AnnouncementRepository
from enrollment.domain import announcements as rules
from enrollment.domain.announcements import Audience, Level, Reader
from jijiao_contracts.enums import Role
from jijiao_kit.access import ADMIN_LEVELS, scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Forbidden, InvalidInput, NotFound
from jijiao_kit.timeutil import epoch_ms

Doc = dict[str, Any]


def author_level(principal: Principal) -> Level | None:
    """The level an administrator publishes at: its widest scope (the kit's scope rule)."""
    scope = scope_filter(principal, levels=ADMIN_LEVELS)
    if scope is None:
        return None
    if not scope:
        return Level.CITY
    return Level.DISTRICT if "district" in scope else Level.SCHOOL


def reader_of(principal: Principal) -> Reader | None:
    """None: the city, which reads every announcement."""
    if principal.has_role(Role.CITY_ADMIN):
        return None
    if principal.has_role(Role.DISTRICT_ADMIN):
        return Reader(Audience.DISTRICT_ADMINS, district=principal.district)
    if principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL):
        return Reader(Audience.SCHOOL_ADMINS, district=principal.district, school_id=principal.school_id)
    return Reader(Audience.TEACHERS, district=principal.district, school_id=principal.school_id)


def _refused(code: str) -> Exception:
    if code == "announcement_audience_required":
        return InvalidInput("Name at least one audience.", code=code, title="请选择公告对象")
    return Forbidden(
        "This audience is not below your level or not in your scope.", code=code, title="无权向该对象发布公告"
    )


class AnnouncementService:
    def __init__(self, repo: AnnouncementRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    async def publish(self, principal: Principal, title: str, body: str, audiences: set[Audience]) -> Doc:
        level = author_level(principal)
        if level is None:
            raise Forbidden(
                "Only administrators publish announcements.", code="announcement_forbidden", title="无权发布公告"
            )
        refusal = rules.audience_refusal(level, audiences)
        if refusal:
            raise _refused(refusal)
        now = self.clock.now()
        doc: Doc = {
            "_id": uuid.uuid4().hex,
            "title": title,
            "body": body,
            "level": level.value,
            "district": principal.district if level is not Level.CITY else None,
            "school_id": principal.school_id if level is Level.SCHOOL else None,
            "author": principal.subject,
            **{f"to_{audience.value}": audience in audiences for audience in Audience},
            "status": "published",
            "published_at": now,
            "published_ms": epoch_ms(now),
        }
        await self.repo.insert(doc)
        return doc

    def _may_read(self, principal: Principal, doc: Doc) -> bool:
        if doc["author"] == principal.subject:
            return True
        reader = reader_of(principal)
        if reader is None:
            return True
        return any(all(doc.get(k) == v for k, v in alternative.items()) for alternative in rules.visible_to(reader))

    async def page(self, principal: Principal, *, skip: int, limit: int) -> list[Doc]:
        reader = reader_of(principal)
        alternatives: list[Doc] = []
        if reader is not None:
            alternatives = [dict(alternative) for alternative in rules.visible_to(reader)]
            alternatives.append({"author": principal.subject})
        return await self.repo.page(alternatives, skip=skip, limit=limit)

    async def get(self, principal: Principal, announcement_id: str) -> Doc:
        doc = await self.repo.get(announcement_id)
        if doc is None or doc["status"] != "published" or not self._may_read(principal, doc):
            raise NotFound("No such announcement.", code="announcement_not_found", title="公告不存在")
        return doc

    async def withdraw(self, principal: Principal, announcement_id: str) -> None:
        doc = await self.get(principal, announcement_id)
        if doc["author"] != principal.subject and not principal.has_role(Role.CITY_ADMIN):
            raise Forbidden(
                "Only the author withdraws an announcement.",
                code="announcement_forbidden",
                title="只有发布人可以撤回公告",
            )
        await self.repo.withdraw(announcement_id, {"withdrawn_by": principal.subject, "withdrawn_at": self.clock.now()})
