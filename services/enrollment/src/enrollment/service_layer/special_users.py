"""Special users (特殊用户): the payment-deadline job that flags them and the centre's clearing,
individual or collective for a school (DOMAIN §1, §3)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from enrollment.adapters.repositories import TeacherRepository
from enrollment.adapters.special_users_repository import SpecialUserRepository
from enrollment.domain import special_users as rules
from jijiao_contracts import Actor
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import PRODUCER, SpecialUserCleared, SpecialUserFlagged
from jijiao_kit.access import ADMIN_LEVELS, scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import as_utc

Doc = dict[str, Any]
logger = logging.getLogger(__name__)
SYSTEM_ACTOR = Actor(subject="system:special-users", role="system")
CENTRE_ROLES = (Role.CITY_ADMIN, Role.REMOTE_CENTRE)
PROOF_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
MAX_PROOF_BYTES = 5 * 1024 * 1024

REFUSALS = {
    "not_special_user": (Conflict, "该教师不是特殊用户"),
    "invalid_clearing_method": (InvalidInput, "取消方式不正确"),
    "identity_proof_required": (InvalidInput, "取消特殊用户需核验本人有效证件"),
    "school_proof_required": (InvalidInput, "第二次被列为特殊用户或单位集体取消，须提交盖有学校公章的证明"),
}


def actor_of(principal: Principal) -> Actor:
    return Actor(subject=principal.subject, role=sorted(principal.roles)[0] if principal.roles else None)


@dataclass(frozen=True)
class ProofFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FlagSummary:
    term: str
    flagged: list[str] = field(default_factory=list)
    term_already_flagged: bool = False


@dataclass(frozen=True)
class ClearRow:
    ce_number: str
    cleared: bool
    code: str | None = None


class SpecialUserService:
    def __init__(self, repo: SpecialUserRepository, teachers: TeacherRepository, clock: Clock) -> None:
        self.repo = repo
        self.teachers = teachers
        self.clock = clock

    # -- flagging --------------------------------------------------------------------------------

    async def flag_term(self, principal: Principal | None, term: str) -> FlagSummary:
        """Flag the term's teachers with unpaid, uncancelled city-run selections. Idempotent per term
        (a term flagged once is not flagged again) and per teacher × term (``special_flags.<term>``),
        so a crash halfway is finished by the next run and two runs at once flag each teacher once."""
        if principal is not None and not principal.has_role(*CENTRE_ROLES):
            raise Forbidden("Only the city centre flags special users.", code="forbidden", title="无权设置特殊用户")
        term_doc = await self.repo.term(term)
        if term_doc is None:
            raise NotFound(f"Term {term} not found.", code="term_not_found", title="培训期不存在")
        now = self.clock.now()
        due = as_utc(term_doc.get("payment_due_at"))
        if due is None or due > now:
            raise Conflict("The payment deadline has not passed.", code="payment_not_due", title="缴费截止时间未到")
        if term_doc.get("special_users_flagged_at"):
            return FlagSummary(term=term, term_already_flagged=True)
        actor = actor_of(principal) if principal else SYSTEM_ACTOR
        candidates = rules.flag_candidates(await self.repo.unpaid_selections(term), await self.repo.paid_bill_ids(term))
        flagged = [ce for ce, codes in candidates.items() if await self._flag_teacher(ce, term, codes, actor)]
        await self.repo.mark_term_flagged(term, now)
        return FlagSummary(term=term, flagged=flagged)

    async def _flag_teacher(self, ce_number: str, term: str, course_codes: list[str], actor: Actor) -> bool:
        for _attempt in range(20):
            teacher = await self.teachers.get(ce_number)
            if teacher is None or term in (teacher.get("special_flags") or {}):
                return False
            times = int(teacher.get("special_user_times") or 0)
            event = SpecialUserFlagged(
                ce_number=ce_number,
                term=term,
                school_id=teacher.get("school_id") or "",
                name=teacher.get("name") or "",
                mobile=teacher.get("mobile"),
                course_codes=course_codes,
                times_flagged=times + 1,
            )
            flag = {"course_codes": course_codes, "flagged_at": self.clock.now(), "times": times + 1}
            if await self.teachers.flag_special_user(
                ce_number,
                term,
                expected_times=times,
                flag=flag,
                events=[outbox_entry(event, producer=PRODUCER, actor=actor)],
            ):
                return True
        return False

    async def flag_due_terms(self) -> int:
        """The worker's scheduled job: every term past its payment deadline, once."""
        flagged = 0
        for term in await self.repo.terms_due(self.clock.now()):
            try:
                flagged += len((await self.flag_term(None, term)).flagged)
            except Exception:  # one term's failure must not hold back the others; retried next tick
                logger.exception("flagging the special users of term %s failed", term)
        return flagged

    # -- reading ---------------------------------------------------------------------------------

    async def list_special_users(self, principal: Principal, school_id: str | None) -> list[Doc]:
        scope = scope_filter(principal, levels=ADMIN_LEVELS, city_roles=CENTRE_ROLES)
        if scope is None:
            raise Forbidden("Only administrators list special users.", code="forbidden", title="无权查看特殊用户")
        if school_id and scope.get("school_id", school_id) != school_id:
            raise Forbidden("Not an administrator of this school.", code="school_forbidden", title="无权查看该学校")
        query: Doc = {**scope, **({"school_id": school_id} if school_id else {})}
        return await self.teachers.special_users(query)

    # -- clearing --------------------------------------------------------------------------------

    def _ensure_centre(self, principal: Principal) -> None:
        if not principal.has_role(*CENTRE_ROLES):
            raise Forbidden(
                "Only the city centre clears special users.",
                code="forbidden",
                title="只有市远程培训中心可以取消特殊用户",
            )

    async def _store_proof(
        self, principal: Principal, proof: ProofFile | None, ce_numbers: list[str], school_id: str | None
    ) -> str | None:
        if proof is None:
            return None
        if proof.content_type not in PROOF_TYPES or not proof.data or len(proof.data) > MAX_PROOF_BYTES:
            raise InvalidInput(
                "The proof must be a PDF, JPEG or PNG file of at most 5 MB.",
                code="invalid_proof_file",
                title="证明文件须为不超过5MB的PDF、JPG或PNG文件",
            )
        proof_id = uuid.uuid4().hex
        await self.repo.add_proof(
            {
                "_id": proof_id,
                "filename": proof.filename,
                "content_type": proof.content_type,
                "size": len(proof.data),
                "data": proof.data,
                "ce_numbers": ce_numbers,
                "school_id": school_id,
                "uploaded_by": principal.subject,
                "uploaded_at": self.clock.now(),
            }
        )
        return proof_id

    async def _clear_one(
        self,
        principal: Principal,
        teacher: Doc,
        *,
        method: str,
        identity_checked: bool,
        proof_id: str | None,
        collective: bool,
        reason: str | None,
    ) -> str | None:
        refusal = rules.clearance_refusal(
            teacher,
            method=method,
            identity_checked=identity_checked,
            school_proof=proof_id is not None,
            collective=collective,
        )
        if refusal:
            return refusal
        clearance_id = uuid.uuid4().hex
        clearance = {
            "cleared_at": self.clock.now(),
            "cleared_by": principal.subject,
            "method": method,
            "round": rules.clearance_round(int(teacher.get("special_user_times") or 0)),
            "collective": collective,
            "proof_id": proof_id,
            "reason": reason,
        }
        event = SpecialUserCleared(
            ce_number=teacher["_id"],
            school_id=teacher.get("school_id") or "",
            name=teacher.get("name") or "",
            mobile=teacher.get("mobile"),
            cleared_by=principal.subject,
        )
        if not await self.teachers.clear_special_user(
            teacher["_id"], clearance_id, clearance, [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))]
        ):
            return "not_special_user"  # cleared by someone else meanwhile
        return None

    async def clear(
        self,
        principal: Principal,
        ce_number: str,
        *,
        method: str,
        identity_checked: bool,
        reason: str | None,
        proof: ProofFile | None,
    ) -> Doc:
        """Individual clearing (个人取消): first time with ID; second time also the school-sealed proof."""
        self._ensure_centre(principal)
        teacher = await self.teachers.get(ce_number)
        if teacher is None:
            raise NotFound(f"Teacher {ce_number} not found.", code="teacher_not_found", title="教师不存在")
        precheck = rules.clearance_refusal(
            teacher, method=method, identity_checked=identity_checked, school_proof=proof is not None, collective=False
        )
        if precheck:
            raise self._error(precheck)
        proof_id = await self._store_proof(principal, proof, [ce_number], teacher.get("school_id"))
        refusal = await self._clear_one(
            principal,
            teacher,
            method=method,
            identity_checked=identity_checked,
            proof_id=proof_id,
            collective=False,
            reason=reason,
        )
        if refusal:
            raise self._error(refusal)
        return await self.teachers.get(ce_number) or teacher

    async def clear_collective(
        self,
        principal: Principal,
        school_id: str,
        ce_numbers: list[str],
        *,
        method: str,
        identity_checked: bool,
        reason: str | None,
        proof: ProofFile | None,
    ) -> list[ClearRow]:
        """Collective clearing for a school (单位集体取消): the school's sealed application (the proof file)
        is required; one result per listed teacher."""
        self._ensure_centre(principal)
        if proof is None:
            raise self._error("school_proof_required")
        if not ce_numbers:
            raise InvalidInput("List at least one teacher.", code="no_teachers", title="请列出需要取消的教师")
        proof_id = await self._store_proof(principal, proof, ce_numbers, school_id)
        rows = []
        for ce_number in dict.fromkeys(ce_numbers):
            teacher = await self.teachers.get(ce_number)
            if teacher is None or teacher.get("school_id") != school_id:
                rows.append(ClearRow(ce_number, False, "teacher_not_in_school"))
                continue
            refusal = await self._clear_one(
                principal,
                teacher,
                method=method,
                identity_checked=identity_checked,
                proof_id=proof_id,
                collective=True,
                reason=reason,
            )
            rows.append(ClearRow(ce_number, refusal is None, refusal))
        return rows

    @staticmethod
    def _error(code: str) -> Exception:
        error_class, title = REFUSALS[code]
        return error_class(f"Clearing refused: {code}.", code=code, title=title)
