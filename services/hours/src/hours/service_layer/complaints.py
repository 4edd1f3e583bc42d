"""Complaints about annual verification (投诉意见, DOMAIN.md §1): teachers file within the year's open
period (in the year's rules); district admins handle them; statistics per school."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from hours.adapters.complaints import ComplaintRepository
from hours.adapters.repositories import Teachers
from hours.service_layer.access import covers_district, require, scope_filter, teacher_not_found
from hours.service_layer.rules import RulesService
from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound

Doc = dict[str, Any]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class Complaints:
    def __init__(self, complaints: ComplaintRepository, teachers: Teachers, rules: RulesService, clock: Clock) -> None:
        self.complaints = complaints
        self.teachers = teachers
        self.rules = rules
        self.clock = clock

    async def file(self, principal: Principal, year: int, content: str) -> Doc:
        require(principal, Role.TEACHER)
        teacher = await self.teachers.get(principal.ce_number or "")
        if teacher is None:
            raise teacher_not_found(principal.ce_number or "")
        period = (await self.rules.for_year(year)).complaint_period
        now = self.clock.now()
        if period is None or not _aware(period.opens_at) <= now < _aware(period.closes_at):
            raise Conflict(
                "Complaints about this year's verification are not open now.",
                code="complaint_period_closed",
                title="当前不在投诉受理期内",
            )
        content = content.strip()
        if not content:
            raise InvalidInput("content is required.", code="content_required", title="请填写投诉内容")
        doc = {
            "_id": uuid.uuid4().hex,
            "year": year,
            "ce_number": teacher["_id"],
            "teacher_name": teacher.get("name"),  # real name
            "school_id": teacher.get("school_id"),
            "school_name": teacher.get("school_name"),
            "district": teacher.get("district"),
            "content": content[:4000],
            "status": "open",
            "filed_at": now,
        }
        await self.complaints.add(doc)
        return doc

    async def handle(self, principal: Principal, complaint_id: str, reply: str) -> Doc:
        doc = await self.complaints.get(complaint_id)
        if doc is None:
            raise NotFound("No such complaint.", code="complaint_not_found", title="找不到该投诉")
        if not covers_district(principal, doc.get("district")):
            raise Forbidden("Only the district handles this complaint.", code="forbidden", title="无权处理该投诉")
        if not reply.strip():
            raise InvalidInput("reply is required.", code="reply_required", title="请填写处理意见")
        result = await self.complaints.handle(
            complaint_id,
            {
                "reply": reply.strip()[:4000],
                "handled_by": principal.subject,
                "handled_at": self.clock.now().isoformat(),
            },
        )
        if result is None:
            raise Conflict("The complaint was already handled.", code="complaint_already_handled", title="该投诉已处理")
        return result

    def _query(self, principal: Principal, year: int | None, status: str | None) -> Doc:
        query: Doc = {}
        if year is not None:
            query["year"] = year
        if status:
            query["status"] = status
        query.update(scope_filter(principal))
        return query

    async def search(
        self, principal: Principal, year: int | None, status: str | None, *, skip: int = 0, limit: int = 200
    ) -> list[Doc]:
        """A page of complaints, newest first."""
        return await self.complaints.search(self._query(principal, year, status), skip=skip, limit=limit)

    async def statistics(self, principal: Principal, year: int | None) -> list[Doc]:
        """Per school: every complaint in scope counts (no page limit)."""
        stats: dict[str, Doc] = defaultdict(lambda: {"total": 0, "open": 0, "handled": 0})
        for doc in await self.complaints.schools_and_status(self._query(principal, year, None)):
            row = stats[doc.get("school_id") or ""]
            row.update({"school_id": doc.get("school_id"), "school_name": doc.get("school_name")})
            row["total"] += 1
            row[doc["status"]] += 1
        return sorted(stats.values(), key=lambda r: (-r["total"], r["school_id"] or ""))
