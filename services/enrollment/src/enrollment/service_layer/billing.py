"""Payment use cases (DOMAIN §3): issuing bills, payment notices, recording payments, the admission
query (选课录取查询) and the unit payment query (单位缴费查询)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from enrollment.adapters.billing_repository import BillRepository
from enrollment.adapters.documents.pdf_documents import PaymentNotice, payment_notice_pdf
from enrollment.domain import billing
from enrollment.domain.calendar import CHINA
from jijiao_contracts import Actor
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import PRODUCER, BillIssued, PaymentRecorded
from jijiao_kit.access import ADMIN_LEVELS, Level, covers, scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import as_utc, epoch_ms

Doc = dict[str, Any]
logger = logging.getLogger(__name__)
SYSTEM_ACTOR = Actor(subject="system:billing", role="system")
CENTRE_ROLES = (Role.CITY_ADMIN, Role.REMOTE_CENTRE)
DISTRICT_LEVEL = frozenset({Level.DISTRICT})
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
STATUS_LABELS = {
    billing.BILL_UNPAID: "未缴费",
    billing.BILL_PARTIALLY_PAID: "部分缴费",
    billing.BILL_PAID: "已缴费",
    billing.BILL_VOID: "已作废",
}


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
    scope = scope_filter(principal, levels=ADMIN_LEVELS, city_roles=CENTRE_ROLES)
    if scope is None:
        raise Forbidden("Only administrators see bills and payments.", code="forbidden", title="无权查看缴费信息")
    if "school_id" in scope:  # a school's own admins
        if school_id and school_id != scope["school_id"]:
            raise Forbidden("Not an administrator of this school.", code="school_forbidden", title="无权查看该学校")
        return scope
    return {**scope, "school_id": school_id} if school_id else scope


def can_see_bill(principal: Principal, bill: Doc) -> bool:
    return covers(
        principal,
        school_id=bill.get("school_id"),
        district=bill.get("district"),
        levels=ADMIN_LEVELS,
        city_roles=CENTRE_ROLES,
    )


def can_record_payment(principal: Principal, bill: Doc) -> bool:
    """The centre records payments for every bill; a district admin for bills of district courses of
    its district (区级账单); an institution account for bills payable to it (scope ``payee``)."""
    if is_centre(principal):
        return True
    if covers(principal, district=bill.get("district"), levels=DISTRICT_LEVEL) and set(
        bill.get("programmes") or []
    ) <= {"district"}:
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


#: How often a bill change is retried when another change or a payment wins the race.
REFRESH_ATTEMPTS = 30


class BillBusy(Exception):
    """A school's bills kept changing under a refresh; the event is retried later."""


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
        stale: set[str] = set()  # schools whose existing bills miss some of these selections
        for draft in drafts:
            bill_id = billing.bill_id(term, draft.school_id, draft.payee)
            if await self.repo.exists(bill_id):
                bill = await self.repo.get(bill_id)
                if bill is not None:  # repair after a crash between the insert and the marking
                    await self.repo.attach_selections(bill_id, bill.get("selection_ids") or [])
                    if not set(draft.selection_ids) <= set(bill.get("selection_ids") or []):
                        stale.add(draft.school_id)
                continue
            content = billing.bill_content(by_id[i] for i in draft.selection_ids)
            bill = await self._new_bill(term_doc, draft.school_id, draft.payee, content, schools, now, actor)
            if bill is None:  # issued meanwhile by another run or by a late change
                stale.add(draft.school_id)
                continue
            issued.append(bill)
            await self.repo.attach_selections(bill_id, draft.selection_ids)
        if issued:
            # A selection added or deleted while this run read and wrote may have missed the bills it
            # should change (its event's handler found no bill yet): compare with a fresh read.
            fresh = billing.draft_groups(await self.repo.active_selections(term))
            stale |= {
                str(bill["school_id"])
                for bill in issued
                if not billing.bill_content(fresh.get((str(bill["school_id"]), str(bill["payee"])), [])).same_as(bill)
            }
        for school_id in sorted(stale):
            await self.refresh_school_bills(term, school_id)
        await self.repo.mark_term_billed(term, now)
        existing = await self.repo.count({"term": term}) - len(issued)
        return IssueSummary(term=term, issued=issued, already_issued=existing)

    async def _bill_number(self, term: str) -> str:
        return f"{term}{await self._next_sequence(f'bill:{term}'):06d}"

    async def _new_bill(
        self,
        term_doc: Doc,
        school_id: str,
        payee: str,
        content: billing.BillContent,
        schools: dict[str, Doc],
        now: datetime,
        actor: Actor,
    ) -> Doc | None:
        """Insert a bill and its BillIssued event once; None when the bill exists already."""
        term = str(term_doc["_id"])
        school = schools.get(school_id) or {}
        school_name = school.get("name") or school_id
        bill_id = billing.bill_id(term, school_id, payee)
        bill = {
            "_id": bill_id,
            "bill_number": await self._bill_number(term),
            "term": term,
            "name": billing.bill_name(term, school_name, payee),
            "school_id": school_id,
            "school_name": school_name,
            "seal_name": school.get("seal_name") or school_name,
            "district": school.get("district") or content.district,
            "payee": payee,
            "programmes": list(content.programmes),
            "amount_fen": content.amount_fen,
            "paid_fen": 0,
            "status": billing.BILL_UNPAID,
            "selection_ids": list(content.selection_ids),
            "selection_count": content.selection_count,
            "teacher_count": content.teacher_count,
            "lines": content.lines,
            "payments": {},
            "added": {},
            "removed": {},
            "version": 0,
            "payment_due_at": utc(term_doc["payment_due_at"]),
            "created_at": now,
        }
        event = BillIssued(
            bill_id=bill_id,
            bill_number=bill["bill_number"],
            term=term,
            school_id=school_id,
            school_name=school_name,
            payee=payee,
            amount=billing.fen_to_yuan(content.amount_fen),
            teacher_count=content.teacher_count,
            payment_due_at=utc(term_doc["payment_due_at"]),
        )
        if await self.repo.insert(bill, [outbox_entry(event, producer=PRODUCER, actor=actor)]):
            return bill
        return None

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
                    "bill_void": "该账单的选课已全部删除，无需缴费",
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

    # -- bills follow late changes ---------------------------------------------------------------

    async def follow_changes(self, changes: Iterable[tuple[str, str]]) -> list[str]:
        """Selections of these (term, school) pairs were added or deleted: once a term's window has
        closed, its bills follow (the worker calls this with SelectionMade/SelectionCancelled events).
        Returns the ids of the bills that changed or were issued. While the window is open nothing
        happens: the issuing after it takes the selections as they are then."""
        pairs = sorted({(term, school) for term, school in changes if term and school})
        if not pairs:
            return []
        terms = await self.repo.terms_by_id(sorted({term for term, _ in pairs}))
        now = self.clock.now()
        changed: list[str] = []
        for term, school_id in pairs:
            term_doc = terms.get(term)
            if term_doc is None or not billing.bills_follow_changes(
                as_utc(term_doc.get("selection_closes_at")), bool(term_doc.get("bills_issued_at")), now
            ):
                continue
            changed += await self.refresh_school_bills(term, school_id)
        return changed

    async def refresh_school_bills(self, term: str, school_id: str) -> list[str]:
        """Make the bills of one school and term show exactly its chargeable selections (DOMAIN §3
        amounts): a selection added after issuing joins its payee's bill (a first one issues a new
        bill), a deleted one leaves it; teacher count, lines and amount follow.

        Derived from the selections each time, so a repeated or reordered event changes nothing, and
        written with the bill's version and paid total as the condition, so two changes (or a change
        and a payment) at once never lose one another: the loser reads again. What was paid stays
        paid: an addition to a paid bill leaves the difference outstanding (partially paid), a
        deletion from a paid bill shows the excess as overpaid (refunds are settled outside)."""
        term_doc = await self._term(term)
        changed: set[str] = set()
        for _attempt in range(REFRESH_ATTEMPTS):
            # Bills first, then selections: a write conditional on the version read before the
            # selections were read cannot overwrite a newer state with an older one.
            bills = {str(b["_id"]): b for b in await self.repo.school_bills(term, school_id)}
            selections = await self.repo.active_selections(term, {"school_id": school_id})
            groups = billing.group_by_payee(selections)
            now = self.clock.now()
            settled: list[tuple[str, list[Doc], str]] = []
            conflict = False
            for payee in sorted(set(groups) | {str(b["payee"]) for b in bills.values()}):
                bill_id = billing.bill_id(term, school_id, payee)
                members = [dict(s) for s in groups.get(payee, [])]
                content = billing.bill_content(members)
                bill = bills.get(bill_id)
                if bill is None:
                    if not members:
                        continue
                    schools = await self.repo.schools_by_id([school_id])
                    if await self._new_bill(term_doc, school_id, payee, content, schools, now, SYSTEM_ACTOR) is None:
                        conflict = True  # issued meanwhile by another run: read it and amend it
                        continue
                    changed.add(bill_id)
                    settled.append((bill_id, members, billing.BILL_UNPAID))
                    continue
                status = billing.bill_status(content.amount_fen, int(bill["paid_fen"]))
                if not content.same_as(bill) or bill.get("status") != status:
                    if not await self.repo.update_bill(bill, self._amendment(bill, content, status, now)):
                        conflict = True
                        continue
                    changed.add(bill_id)
                settled.append((bill_id, members, status))
            if conflict:
                await asyncio.sleep(random.uniform(0.001, 0.01 * (_attempt + 1)))
                continue
            for bill_id, members, status in settled:
                await self.repo.mark_billed(bill_id, [str(s["_id"]) for s in members if s.get("bill_id") != bill_id])
                if status == billing.BILL_PAID and any(not s.get("paid") for s in members):
                    await self.repo.mark_selections_paid(bill_id, now)
            if changed:
                logger.info("bills of term %s school %s follow changes: %s", term, school_id, sorted(changed))
            return sorted(changed)
        raise BillBusy(f"The bills of term {term} school {school_id} kept changing; retried {REFRESH_ATTEMPTS} times.")

    @staticmethod
    def _amendment(bill: Doc, content: billing.BillContent, status: str, now: datetime) -> Doc:
        before = set(bill.get("selection_ids") or [])
        after = set(content.selection_ids)
        stamp = epoch_ms(now)
        fields: Doc = {
            "amount_fen": content.amount_fen,
            "selection_ids": list(content.selection_ids),
            "selection_count": content.selection_count,
            "teacher_count": content.teacher_count,
            "lines": content.lines,
            "programmes": list(content.programmes),
            "status": status,
            "amended_at_ms": stamp,
        }
        if status == billing.BILL_PAID and bill.get("status") != billing.BILL_PAID:
            fields["paid_at"] = now
        for selection_id in sorted(after - before):
            fields[f"added.{selection_id}"] = {"at_ms": stamp}
        for selection_id in sorted(before - after):
            fields[f"removed.{selection_id}"] = {"at_ms": stamp}
        return {"$set": fields, "$inc": {"version": 1}}

    async def selection_cancelled(self, selection_id: str) -> bool:
        """One selection was cancelled: its school's bills follow (idempotent; False when no bill
        changed, e.g. for a repeated delivery)."""
        selection = await self.repo.selection(selection_id)
        if selection is None or selection.get("status") != "cancelled":
            return False
        return bool(await self.follow_changes([(str(selection["term"]), str(selection.get("school_id") or ""))]))

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
                billing.fen_to_yuan(billing.outstanding_fen(b["amount_fen"], b["paid_fen"])),
                utc(b["created_at"]).astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
                STATUS_LABELS.get(b["status"], b["status"]),
            ]
            for b in bills
        ]
