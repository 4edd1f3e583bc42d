"""Transfer use cases (教师调动申请 / 教师调动管理, DOMAIN §1).

No multi-document transactions: an approval is three single-document steps, each safe to repeat.
1. Claim the application (``pending`` → ``approving``): exactly one approver wins; a stale claim (a
   crash mid-way) can be re-claimed after ``STALE_CLAIM``.
2. Move the teacher with one conditional write that also records the transfer id in
   ``transfers_applied`` and carries TeacherTransferred (and TeacherArchived when a "left" teacher is
   reactivated): the move and its events happen at most once per application.
3. Close the application (``approving`` → ``approved``).
A retried approval of a claimed application finds the marker and only finishes step 3."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from enrollment.adapters.repositories import AlreadyExists, SchoolRepository, TeacherRepository
from enrollment.adapters.transfer_repository import SelectionLedger, TransferRepository
from enrollment.domain import transfers as rules
from enrollment.domain.roster import TeacherStatus
from enrollment.service_layer.access import ensure_school_admin_of
from enrollment.service_layer.roster import actor_of
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import PRODUCER, TeacherArchived, TeacherTransferred, TransferDecided
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.ratelimit import RateLimits
from jijiao_kit.timeutil import as_utc

Doc = dict[str, Any]

STALE_CLAIM = timedelta(seconds=60)
_OPEN = (rules.TransferStatus.PENDING.value, rules.TransferStatus.APPROVING.value)


def refusal_error(refusal: rules.Refusal, unpaid: list[Doc] | None = None) -> Conflict | Forbidden:
    if refusal is rules.Refusal.SAME_SCHOOL:
        return Conflict(
            "The teacher already belongs to this school.", code="same_school", title="该教师已在本校，无需调动"
        )
    if refusal is rules.Refusal.SPECIAL_USER:
        return Forbidden(
            "Special users cannot be transferred until the flag is cleared.",
            code="special_user",
            title="该教师为特殊用户，须先消除特殊用户后方可申请调动",
        )
    return Conflict(
        "The teacher has unpaid selections of past terms.",
        code="unpaid_selections",
        title="该教师有往期选课未缴费记录，不能申请调动",
        extra={"selections": [{"term": s["term"], "course_code": s.get("course_code")} for s in unpaid or []]},
    )


@dataclass(frozen=True)
class TeacherProof:
    """What the receiving school knows of the teacher besides the CE number (one of them at least)."""

    name: str | None = None
    id_number_tail: str | None = None


class TransferService:
    def __init__(
        self,
        transfers: TransferRepository,
        teachers: TeacherRepository,
        schools: SchoolRepository,
        ledger: SelectionLedger,
        clock: Clock,
        *,
        rate_limits: RateLimits | None = None,
        rate_per_admin: str = "20/hour",
    ) -> None:
        self.rate_limits = rate_limits
        self.rate_per_admin = rate_per_admin
        self.transfers = transfers
        self.teachers = teachers
        self.schools = schools
        self.ledger = ledger
        self.clock = clock

    async def apply(
        self, principal: Principal, to_school_id: str, ce_number: str, proof: TeacherProof, note: str | None = None
    ) -> Doc:
        """The receiving school applies. It must name the teacher by CE number and the name or the last
        six ID characters: an unknown number and a mismatch give the same 404, so the form reveals no
        teacher and numbers cannot be enumerated; tries are rate-limited per admin; a failed try
        leaves nothing behind."""
        school = await self.schools.get(to_school_id)
        if school is None:
            raise NotFound(f"School {to_school_id} not found.", code="school_not_found", title="学校不存在")
        ensure_school_admin_of(principal, school)
        if not proof.name and not proof.id_number_tail:
            raise InvalidInput(
                "Name the teacher by the name or the last six ID characters as well.",
                code="teacher_identity_required",
                title="请填写教师姓名或身份证号后六位",
            )
        if self.rate_limits is not None:
            await self.rate_limits.hit(self.rate_per_admin, principal.subject, what="transfer_application")
        teacher = await self.teachers.get(ce_number)
        if teacher is None or not rules.identifies(teacher, name=proof.name, id_number_tail=proof.id_number_tail):
            raise NotFound(
                "No teacher matches this CE number and name or ID tail.",
                code="teacher_not_found",
                title="未找到与该继续教育学号及姓名（或身份证号后六位）相符的教师",
            )
        now = self.clock.now()
        unpaid = await self.ledger.unpaid_past_selections(ce_number, now)
        refusal = rules.transfer_refusal(teacher, to_school_id, len(unpaid))
        if refusal is not None:
            raise refusal_error(refusal, unpaid)
        approver = rules.approver_for(teacher["district"], school["district"])
        application = {
            "_id": uuid.uuid4().hex,
            "ce_number": ce_number,
            "teacher_name": teacher["name"],
            "from_school_id": teacher["school_id"],
            "from_school_name": teacher["school_name"],
            "from_district": teacher["district"],
            "to_school_id": school["_id"],
            "to_school_name": school["name"],
            "to_district": school["district"],
            "approver_level": approver.level.value,
            "approver_district": approver.district,
            "status": rules.TransferStatus.PENDING.value,
            "open_key": ce_number,
            "note": note,
            "applied_by": principal.subject,
            "applied_at": now,
        }
        try:
            await self.transfers.add(application)
        except AlreadyExists as exc:
            raise Conflict(
                "The teacher already has an open transfer application.",
                code="transfer_pending",
                title="该教师已有待审批的调动申请",
            ) from exc
        return application

    async def get(self, principal: Principal, transfer_id: str) -> Doc:
        application = await self.transfers.get(transfer_id)
        if application is None or not self._may_see(principal, application):
            raise NotFound(f"Transfer {transfer_id} not found.", code="transfer_not_found", title="调动申请不存在")
        return application

    @staticmethod
    def _may_see(principal: Principal, application: Doc) -> bool:
        if principal.has_role(Role.CITY_ADMIN):
            return True
        if principal.has_role(Role.DISTRICT_ADMIN) and principal.district in (
            application["from_district"],
            application["to_district"],
        ):
            return True
        if principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL) and principal.school_id in (
            application["from_school_id"],
            application["to_school_id"],
        ):
            return True
        return principal.has_role(Role.TEACHER) and principal.ce_number == application["ce_number"]

    async def list(
        self,
        principal: Principal,
        *,
        status: str | None = None,
        school_id: str | None = None,
        awaiting_me: bool = False,
        limit: int = 200,
        skip: int = 0,
    ) -> list[Doc]:
        query: Doc = {}
        if principal.has_role(Role.CITY_ADMIN):
            if awaiting_me:
                query["approver_level"] = rules.ApproverLevel.CITY.value
        elif principal.has_role(Role.DISTRICT_ADMIN):
            if awaiting_me:
                query["approver_level"] = rules.ApproverLevel.DISTRICT.value
                query["approver_district"] = principal.district
            else:
                query["$or"] = [{"from_district": principal.district}, {"to_district": principal.district}]
        elif principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL):
            query["$or"] = [{"to_school_id": principal.school_id}, {"from_school_id": principal.school_id}]
        elif principal.has_role(Role.TEACHER):
            query["ce_number"] = principal.ce_number
        else:
            raise Forbidden("Not allowed to see transfers.", code="forbidden", title="无权查看调动申请")
        if awaiting_me:
            query["status"] = rules.TransferStatus.PENDING.value
        elif status:
            query["status"] = status
        if school_id:
            query["to_school_id"] = school_id
        return await self.transfers.find(query, limit=limit, skip=skip)

    async def reject(self, principal: Principal, transfer_id: str, reason: str) -> Doc:
        application = await self._for_decision(principal, transfer_id)
        closed = await self.transfers.close(
            application["_id"],
            {"status": rules.TransferStatus.PENDING.value},
            {
                "status": rules.TransferStatus.REJECTED.value,
                "decided_by": principal.subject,
                "decided_at": self.clock.now(),
                "reason": reason,
            },
            [self._decision(application, approved=False, principal=principal, reason=reason)],
        )
        if closed is None:
            raise self._decided()
        return closed

    async def approve(self, principal: Principal, transfer_id: str) -> Doc:
        application = await self._for_decision(principal, transfer_id)
        now = self.clock.now()
        claimed = await self.transfers.claim(
            application["_id"],
            {"status": rules.TransferStatus.PENDING.value},
            {"status": rules.TransferStatus.APPROVING.value, "claimed_by": principal.subject, "claimed_at": now},
        )
        if claimed is None:
            claimed = await self._reclaim_stale(principal, application["_id"], now)
        return await self._complete(principal, claimed)

    async def _reclaim_stale(self, principal: Principal, transfer_id: str, now: datetime) -> Doc:
        current = await self.transfers.get(transfer_id)
        if current is None or current["status"] != rules.TransferStatus.APPROVING.value:
            raise self._decided()
        claimed_at = current.get("claimed_at")
        claimed_time = as_utc(claimed_at)
        if claimed_time is None or now - claimed_time < STALE_CLAIM:
            raise self._decided()
        reclaimed = await self.transfers.claim(
            transfer_id,
            {"status": rules.TransferStatus.APPROVING.value, "claimed_at": claimed_at},
            {"claimed_by": principal.subject, "claimed_at": now},
        )
        if reclaimed is None:
            raise self._decided()
        return reclaimed

    async def _complete(self, principal: Principal, application: Doc) -> Doc:
        transfer_id = application["_id"]
        for _ in range(5):  # re-read on a concurrent edit of the teacher (version changed)
            teacher = await self.teachers.get(application["ce_number"])
            if teacher is None:
                await self._auto_reject(application, "teacher_not_found")
                raise NotFound("The teacher no longer exists.", code="teacher_not_found", title="教师不存在")
            if transfer_id in (teacher.get("transfers_applied") or {}):
                break  # a previous attempt moved the teacher; only closing is left
            if teacher["school_id"] != application["from_school_id"]:
                await self._auto_reject(application, "teacher_moved")
                raise Conflict(
                    "The teacher is no longer at the school the application names.",
                    code="teacher_moved",
                    title="该教师所在学校已变更，调动申请已作废",
                )
            unpaid = await self.ledger.unpaid_past_selections(teacher["_id"], self.clock.now())
            refusal = rules.transfer_refusal(teacher, application["to_school_id"], len(unpaid))
            if refusal is not None:
                await self._auto_reject(application, refusal.value)
                raise refusal_error(refusal, unpaid)
            if await self._move(principal, teacher, application):
                await self.schools.clear_principal(application["from_school_id"], teacher["_id"])
                break
        else:
            raise Conflict("The teacher record keeps changing; retry.", code="concurrent_edit", title="请稍后重试")
        closed = await self.transfers.close(
            transfer_id,
            {"status": rules.TransferStatus.APPROVING.value},
            {
                "status": rules.TransferStatus.APPROVED.value,
                "decided_by": principal.subject,
                "decided_at": self.clock.now(),
            },
            [self._decision(application, approved=True, principal=principal)],
        )
        if closed is None:
            raise self._decided()
        return closed

    async def _move(self, principal: Principal, teacher: Doc, application: Doc) -> bool:
        now = self.clock.now()
        changes: Doc = {
            "school_id": application["to_school_id"],
            "school_name": application["to_school_name"],
            "district": application["to_district"],
            f"transfers_applied.{application['_id']}": now,
            "updated_at": now,
        }
        actor = actor_of(principal)
        events = [
            outbox_entry(
                TeacherTransferred(
                    ce_number=teacher["_id"],
                    from_school_id=application["from_school_id"],
                    to_school_id=application["to_school_id"],
                    to_school_name=application["to_school_name"],
                    from_district=application["from_district"],
                    to_district=application["to_district"],
                ),
                producer=PRODUCER,
                actor=actor,
            )
        ]
        if rules.reactivates_on_arrival(teacher.get("status", "active")):
            changes["status"] = TeacherStatus.ACTIVE.value
            changes["archived_at"] = None
            events.append(
                outbox_entry(
                    TeacherArchived(ce_number=teacher["_id"], status="active", school_id=application["to_school_id"]),
                    producer=PRODUCER,
                    actor=actor,
                )
            )
        return await self.teachers.update_where(
            {
                "_id": teacher["_id"],
                "version": teacher.get("version"),
                "school_id": application["from_school_id"],
                "special_user": {"$ne": True},
            },
            {"$set": changes, "$inc": {"version": 1}},
            events,
        )

    async def _auto_reject(self, application: Doc, code: str) -> Doc:
        closed = await self.transfers.close(
            application["_id"],
            {"status": {"$in": list(_OPEN)}},
            {
                "status": rules.TransferStatus.REJECTED.value,
                "decided_by": "system",
                "decided_at": self.clock.now(),
                "reason": code,
            },
            [self._decision(application, approved=False, refusal=code)],
        )
        if closed is None:
            raise self._decided()
        return closed

    async def _for_decision(self, principal: Principal, transfer_id: str) -> Doc:
        application = await self.get(principal, transfer_id)
        approver = rules.Approver(rules.ApproverLevel(application["approver_level"]), application["approver_district"])
        if not rules.may_decide(principal.roles, principal.district, approver):
            raise Forbidden(
                "This transfer is approved by "
                + ("the city admin." if approver.level is rules.ApproverLevel.CITY else "the district admin."),
                code="transfer_forbidden",
                title="无权审批该调动申请（区内调动由区管理员审批，跨区调动由市级管理员审批）",
            )
        return application

    @staticmethod
    def _decision(
        application: Doc,
        *,
        approved: bool,
        principal: Principal | None = None,
        reason: str | None = None,
        refusal: str | None = None,
    ) -> Doc:
        """The outbox entry announcing a decision (the receiving school, which applied, is told)."""
        event = TransferDecided(
            transfer_id=application["_id"],
            ce_number=application["ce_number"],
            teacher_name=application.get("teacher_name") or "",
            from_school_id=application["from_school_id"],
            to_school_id=application["to_school_id"],
            to_school_name=application["to_school_name"],
            approved=approved,
            reason=reason,
            refusal=refusal,
        )
        return outbox_entry(event, producer=PRODUCER, actor=actor_of(principal) if principal else None)

    @staticmethod
    def _decided() -> Conflict:
        return Conflict(
            "The transfer application has already been decided.", code="transfer_decided", title="该调动申请已处理"
        )
