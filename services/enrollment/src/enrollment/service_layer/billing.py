"""Payment use cases (DOMAIN §3): issuing bills, payment notices, recording payments, the admission
query (选课录取查询) and the unit payment query (单位缴费查询)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from enrollment.adapters.billing_repository import BillRepository
from enrollment.adapters.documents.pdf_documents import PaymentNotice, payment_notice_pdf
from enrollment.domain import billing
from jijiao_contracts import Actor
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import PRODUCER, BillIssued, PaymentRecorded
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import as_utc

Doc = dict[str, Any]
CHINA = ZoneInfo("Asia/Shanghai")
logger = logging.getLogger(__name__)
SYSTEM_ACTOR = Actor(subject="system:billing", role="system")
CENTRE_ROLES = (Role.CITY_ADMIN, Role.REMOTE_CENTRE)
HOUR_TYPE_LABELS = {"public": "公需科目", "professional": "专业科目", "elective": "个人选修"}

ADMISSION_HEADERS = [
    "期数",
    "行政区划",
    "学校",
    "收费单位",
    "任教科目",
    "学号",
    "姓名",
    "课程编号",
    "课程名称",
    "课程属性",
    "学时",
    "培训费用",
    "教材费用",
    "合计",
    "支付状态",
]
UNIT_PAYMENT_HEADERS = [
    "期数",
    "账单号",
    "账单名",
    "行政区划",
    "学校",
    "缴款单位",
    "收费单位",
    "人数",
    "账单金额",
    "已缴金额",
    "未缴金额",
    "建立时间",
    "处理状态",
]
STATUS_LABELS = {billing.BILL_UNPAID: "未缴费", billing.BILL_PARTIALLY_PAID: "部分缴费", billing.BILL_PAID: "已缴费"}


def utc(value: Any) -> datetime:
    """A stored time as aware UTC (the store may return naive dates or strings, see kit.timeutil)."""
    moment = as_utc(value)
    if moment is None:
        raise ValueError("missing time")
    return moment


def actor_of(principal: Principal) -> Actor:
    return Actor(subject=principal.subject, role=sorted(principal.roles)[0] if principal.roles else None)


def is_centre(principal: Principal) -> bool:
    return principal.has_role(*CENTRE_ROLES)


def scope_query(principal: Principal, school_id: str | None) -> Doc:
    """The bills/selections a caller may see: centre all, a district its schools, a school itself."""
    if is_centre(principal):
        return {"school_id": school_id} if school_id else {}
    if principal.has_role(Role.DISTRICT_ADMIN) and principal.district:
        query: Doc = {"district": principal.district}
        if school_id:
            query["school_id"] = school_id
        return query
    if principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL) and principal.school_id:
        if school_id and school_id != principal.school_id:
            raise Forbidden("Not an administrator of this school.", code="school_forbidden", title="无权查看该学校")
        return {"school_id": principal.school_id}
    raise Forbidden("Only administrators see bills and payments.", code="forbidden", title="无权查看缴费信息")


def can_see_bill(principal: Principal, bill: Doc) -> bool:
    if is_centre(principal):
        return True
    if principal.has_role(Role.DISTRICT_ADMIN) and principal.district == bill.get("district"):
        return True
    return principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL) and principal.school_id == bill.get("school_id")


def can_record_payment(principal: Principal, bill: Doc) -> bool:
    """The centre records payments for every bill; a district admin for bills of district courses of
    its district (区级账单); an institution account for bills payable to it (scope ``payee``)."""
    if is_centre(principal):
        return True
    if (
        principal.has_role(Role.DISTRICT_ADMIN)
        and principal.district == bill.get("district")
        and set(bill.get("programmes") or []) <= {"district"}
    ):
        return True
    return principal.has_role(Role.INSTITUTION) and principal.scopes.get("payee") == bill.get("payee")


def china_date(moment: datetime | None) -> str | None:
    return utc(moment).astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else None


@dataclass(frozen=True)
class IssueSummary:
    term: str
    issued: list[Doc]
    already_issued: int


@dataclass(frozen=True)
class PaymentResult:
    bill: Doc
    payment: Doc
    created: bool


class BillingService:
    def __init__(self, repo: BillRepository, clock: Clock, next_sequence: Callable[[str], Awaitable[int]]) -> None:
        self.repo = repo
        self.clock = clock
        self._next_sequence = next_sequence

    async def _term(self, term: str) -> Doc:
        doc = await self.repo.term(term)
        if doc is None:
            raise NotFound(f"Term {term} not found.", code="term_not_found", title="培训期不存在")
        return doc

    # -- issuing ---------------------------------------------------------------------------------

    async def issue_bills(self, principal: Principal | None, term: str) -> IssueSummary:
        """Issue one bill per school × payee for the term's billable selections, after the window
        closed. Idempotent: a bill id is deterministic, so a second run (or two at once) issues nothing new."""
        if principal is not None and not is_centre(principal):
            raise Forbidden(
                "Only the city centre issues bills.", code="forbidden", title="只有市级管理机构可以生成账单"
            )
        term_doc = await self._term(term)
        now = self.clock.now()
        if utc(term_doc["selection_closes_at"]) > now:
            raise Conflict(
                "Bills are issued after the selection window closes.",
                code="window_open",
                title="选课尚未结束，不能生成账单",
            )
        actor = actor_of(principal) if principal else SYSTEM_ACTOR
        selections = await self.repo.active_selections(term)
        drafts = billing.draft_bills(term, selections)
        by_id = {str(s["_id"]): s for s in selections}
        schools = await self.repo.schools_by_id(sorted({d.school_id for d in drafts}))
        issued: list[Doc] = []
        for draft in drafts:
            bill_id = billing.bill_id(term, draft.school_id, draft.payee)
            if await self.repo.exists(bill_id):
                bill = await self.repo.get(bill_id)
                if bill is not None:  # repair after a crash between the insert and the marking
                    await self.repo.attach_selections(bill_id, bill.get("selection_ids") or [])
                continue
            school = schools.get(draft.school_id) or {}
            bill = self._bill_document(term_doc, draft, school, by_id, now, await self._bill_number(term))
            event = BillIssued(
                bill_id=bill_id,
                bill_number=bill["bill_number"],
                term=term,
                school_id=draft.school_id,
                school_name=bill["school_name"],
                payee=draft.payee,
                amount=billing.fen_to_yuan(draft.amount_fen),
                teacher_count=draft.teacher_count,
                payment_due_at=utc(term_doc["payment_due_at"]),
            )
            if await self.repo.insert(bill, [outbox_entry(event, producer=PRODUCER, actor=actor)]):
                issued.append(bill)
            await self.repo.attach_selections(bill_id, draft.selection_ids)
        await self.repo.mark_term_billed(term, now)
        existing = await self.repo.count({"term": term}) - len(issued)
        return IssueSummary(term=term, issued=issued, already_issued=existing)

    async def _bill_number(self, term: str) -> str:
        return f"{term}{await self._next_sequence(f'bill:{term}'):06d}"

    @staticmethod
    def _bill_document(
        term_doc: Doc, draft: billing.BillDraft, school: Doc, by_id: dict[str, Doc], now: datetime, number: str
    ) -> Doc:
        lines: dict[str, Doc] = {}
        district = None
        for selection_id in draft.selection_ids:
            selection = by_id[selection_id]
            district = district or selection.get("district")
            line = lines.setdefault(
                str(selection["course_code"]),
                {
                    "course_code": selection["course_code"],
                    "course_name": selection.get("course_name"),
                    "count": 0,
                    "amount_fen": 0,
                },
            )
            line["count"] += 1
            line["amount_fen"] += billing.due_fen(selection)
        school_name = school.get("name") or draft.school_id
        return {
            "_id": billing.bill_id(draft.term, draft.school_id, draft.payee),
            "bill_number": number,
            "term": draft.term,
            "name": billing.bill_name(draft.term, school_name, draft.payee),
            "school_id": draft.school_id,
            "school_name": school_name,
            "seal_name": school.get("seal_name") or school_name,
            "district": school.get("district") or district,
            "payee": draft.payee,
            "programmes": list(draft.programmes),
            "amount_fen": draft.amount_fen,
            "paid_fen": 0,
            "status": billing.BILL_UNPAID,
            "selection_ids": list(draft.selection_ids),
            "selection_count": len(draft.selection_ids),
            "teacher_count": draft.teacher_count,
            "lines": lines,
            "payments": {},
            "payment_due_at": utc(term_doc["payment_due_at"]),
            "created_at": now,
        }

    async def issue_due_bills(self) -> int:
        """The worker's job: issue bills of every term whose window has closed (idempotent)."""
        issued = 0
        for term in await self.repo.terms_closed_before(self.clock.now()):
            try:
                summary = await self.issue_bills(None, term)
            except Exception:  # one term's failure must not hold back the others; retried next tick
                logger.exception("issuing the bills of term %s failed", term)
                continue
            issued += len(summary.issued)
        return issued

    # -- reading ---------------------------------------------------------------------------------

    async def list_bills(self, principal: Principal, term: str, school_id: str | None) -> list[Doc]:
        await self._term(term)
        return await self.repo.find({"term": term, **scope_query(principal, school_id)})

    async def get_bill(self, principal: Principal, bill_id: str) -> Doc:
        bill = await self.repo.get(bill_id)
        if bill is None:
            raise NotFound(f"Bill {bill_id} not found.", code="bill_not_found", title="账单不存在")
        if not can_see_bill(principal, bill):
            raise Forbidden("Not allowed to see this bill.", code="bill_forbidden", title="无权查看该账单")
        return bill

    async def notice_pdf(self, principal: Principal, bill_id: str) -> tuple[Doc, bytes]:
        bill = await self.get_bill(principal, bill_id)
        lines = sorted((bill.get("lines") or {}).values(), key=lambda line: str(line["course_code"]))
        notice = PaymentNotice(
            bill_number=bill["bill_number"],
            term=bill["term"],
            payer=bill["seal_name"],
            school_name=bill["school_name"],
            payee=bill["payee"],
            amount_yuan=str(billing.fen_to_yuan(bill["amount_fen"])),
            amount_words=billing.amount_in_words(bill["amount_fen"]),
            teacher_count=bill["teacher_count"],
            selection_count=bill["selection_count"],
            issued_on=utc(bill["created_at"]).astimezone(CHINA).strftime("%Y-%m-%d"),
            due_on=china_date(bill.get("payment_due_at")),
            lines=[
                (
                    str(line["course_code"]),
                    str(line.get("course_name") or ""),
                    int(line["count"]),
                    str(billing.fen_to_yuan(line["amount_fen"])),
                )
                for line in lines
            ],
        )
        return bill, payment_notice_pdf(notice)

    # -- payments --------------------------------------------------------------------------------

    async def record_payment(
        self, principal: Principal, bill_id: str, *, reference: str, amount_fen: int, paid_at: datetime | None
    ) -> PaymentResult:
        """Record a payment once per reference (a repeated reference returns the first record).
        Concurrent payments of different references each apply exactly once, the same reference once,
        and the paid total never exceeds the amount (conditional ``$inc``)."""
        key = billing.payment_key(reference)
        for _attempt in range(20):
            bill = await self.repo.get(bill_id)
            if bill is None:
                raise NotFound(f"Bill {bill_id} not found.", code="bill_not_found", title="账单不存在")
            if not can_record_payment(principal, bill):
                raise Forbidden(
                    "Not allowed to record payments of this bill.", code="bill_forbidden", title="无权登记该账单的缴费"
                )
            recorded = (bill.get("payments") or {}).get(key)
            if recorded is not None:
                if recorded["amount_fen"] != amount_fen:
                    raise Conflict(
                        "This payment reference is recorded already with another amount.",
                        code="payment_reference_conflict",
                        title="该缴费流水号已登记，金额不一致",
                    )
                if bill["status"] == billing.BILL_PAID:
                    await self.repo.mark_selections_paid(bill_id, utc(recorded["recorded_at"]))
                return PaymentResult(bill=bill, payment=recorded, created=False)
            try:
                outcome = billing.apply_payment(bill["amount_fen"], bill["paid_fen"], amount_fen)
            except billing.PaymentRejected as exc:
                titles = {
                    "bill_already_paid": "该账单已缴清",
                    "payment_exceeds_due": "缴费金额超过未缴金额",
                    "invalid_amount": "缴费金额必须大于零",
                }
                error = InvalidInput if exc.code == "invalid_amount" else Conflict
                raise error(exc.detail, code=exc.code, title=titles[exc.code]) from exc
            now = self.clock.now()
            payment = {
                "reference": reference,
                "amount_fen": amount_fen,
                "paid_at": paid_at or now,
                "recorded_at": now,
                "recorded_by": principal.subject,
            }
            # The write itself decides (no lost update, no retry storm under contention): ``$inc`` of
            # the paid total, conditional on the reference being new and on the total leaving room for
            # this payment. Whether it completes the bill is part of the condition, so the status and
            # the event's ``paid_in_full`` written with it are exact even when payments race.
            completes = [outcome.paid_in_full, not outcome.paid_in_full]
            for full in completes:
                event = PaymentRecorded(
                    bill_id=bill_id,
                    term=bill["term"],
                    school_id=bill["school_id"],
                    amount=billing.fen_to_yuan(amount_fen),
                    reference=reference,
                    paid_in_full=full,
                )
                remaining_before: Any = bill["amount_fen"] - amount_fen
                fields: Doc = {
                    f"payments.{key}": payment,
                    "status": billing.BILL_PAID if full else billing.BILL_PARTIALLY_PAID,
                }
                if full:
                    fields["paid_at"] = now
                if await self.repo.record_payment(
                    bill_id,
                    amount_fen=bill["amount_fen"],
                    paid_condition=remaining_before if full else {"$lt": remaining_before},
                    key=key,
                    fields=fields,
                    increment=amount_fen,
                    events=[outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))],
                ):
                    if full:
                        await self.repo.mark_selections_paid(bill_id, now)
                    updated = await self.repo.get(bill_id)
                    return PaymentResult(bill=updated or bill, payment=payment, created=True)
            # Neither matched: this reference was recorded meanwhile or the bill no longer has room;
            # read again and answer from the fresh state.
            await asyncio.sleep(random.uniform(0, 0.005))
        raise Conflict("The bill is busy; retry the payment.", code="bill_busy", title="账单正在处理，请稍后重试")

    async def selection_cancelled(self, selection_id: str) -> bool:
        """A billed, unpaid selection was cancelled after issuing (the institution deletes it after
        the window): the bill no longer asks for it. Idempotent per selection; paid bills stay as they
        are (refunds are outside this system). Returns whether the bill changed."""
        selection = await self.repo.selection(selection_id)
        if selection is None or not selection.get("bill_id") or selection.get("status") != "cancelled":
            return False
        bill_id = str(selection["bill_id"])
        now = self.clock.now()
        changed = await self.repo.remove_selection(bill_id, selection, billing.due_fen(selection), now)
        bill = await self.repo.get(bill_id)
        if bill is not None and bill["amount_fen"] > 0 and await self.repo.settle_if_covered(bill, now):
            await self.repo.mark_selections_paid(bill_id, now)
        return changed

    # -- queries ---------------------------------------------------------------------------------

    async def admissions(self, principal: Principal, term: str, filters: Doc) -> list[Doc]:
        """选课录取查询: one row per active selection with the §3 fields, filterable."""
        await self._term(term)
        query = scope_query(principal, filters.get("school_id"))
        if filters.get("district"):
            if "district" in query and query["district"] != filters["district"]:
                return []
            query["district"] = filters["district"]
        for field in ("payee", "subject", "ce_number", "course_code"):
            if filters.get(field):
                query[field] = filters[field]
        if filters.get("name"):
            query["name"] = filters["name"]
        if filters.get("paid") is not None:
            query["paid"] = True if filters["paid"] else {"$ne": True}
        selections = await self.repo.active_selections(term, query)
        schools = await self.repo.schools_by_id(sorted({str(s["school_id"]) for s in selections}))
        rows = []
        for s in sorted(selections, key=lambda s: (str(s["school_id"]), str(s["ce_number"]), str(s["course_code"]))):
            training = int(s.get("training_fee_fen") or 0)
            material = int(s.get("material_fee_fen") or 0)
            rows.append(
                {
                    "selection_id": s["_id"],
                    "term": term,
                    "district": s.get("district"),
                    "school_id": s["school_id"],
                    "school_name": (schools.get(s["school_id"]) or {}).get("name"),
                    "payee": s.get("payee"),
                    "subject": s.get("subject"),
                    "ce_number": s["ce_number"],
                    "name": s.get("name"),
                    "course_code": s["course_code"],
                    "course_name": s.get("course_name"),
                    "attribute": s.get("attribute")
                    or HOUR_TYPE_LABELS.get(str(s.get("hour_type")), s.get("hour_type")),
                    "hours": s.get("hours"),
                    "training_fee_fen": training,
                    "material_fee_fen": material,
                    "total_fen": training + material,
                    "due_fen": billing.due_fen(s),
                    "paid": bool(s.get("paid")),
                    "bill_id": s.get("bill_id"),
                }
            )
        return rows

    @staticmethod
    def admission_table(rows: list[Doc]) -> list[list[Any]]:
        return [
            [
                r["term"],
                r["district"],
                r["school_name"],
                r["payee"],
                r["subject"],
                r["ce_number"],
                r["name"],
                r["course_code"],
                r["course_name"],
                r["attribute"],
                r["hours"],
                billing.fen_to_yuan(r["training_fee_fen"]),
                billing.fen_to_yuan(r["material_fee_fen"]),
                billing.fen_to_yuan(r["total_fen"]),
                "已支付" if r["paid"] else "未支付",
            ]
            for r in rows
        ]

    async def unit_payments(self, principal: Principal, term: str, school_id: str | None) -> list[Doc]:
        """单位缴费查询: the bills of the caller's schools with what is paid and outstanding."""
        return await self.list_bills(principal, term, school_id)

    @staticmethod
    def unit_payment_table(bills: list[Doc]) -> list[list[Any]]:
        return [
            [
                b["term"],
                b["bill_number"],
                b["name"],
                b.get("district"),
                b["school_name"],
                b["seal_name"],
                b["payee"],
                b["teacher_count"],
                billing.fen_to_yuan(b["amount_fen"]),
                billing.fen_to_yuan(b["paid_fen"]),
                billing.fen_to_yuan(b["amount_fen"] - b["paid_fen"]),
                utc(b["created_at"]).astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
                STATUS_LABELS.get(b["status"], b["status"]),
            ]
            for b in bills
        ]
