"""Roster use cases: schools and teachers (DOMAIN §1)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.repositories import AlreadyExists, SchoolRepository, TeacherRepository
from enrollment.domain import identity
from enrollment.domain import roster as rules
from enrollment.domain.calendar import china_year
from enrollment.service_layer.access import (
    can_read_teacher,
    ensure_can_create_school,
    ensure_can_manage_school,
    ensure_school_admin_of,
    teacher_scope_query,
)
from jijiao_contracts import Actor
from jijiao_contracts.enums import Stage
from jijiao_contracts.events.enrollment import (
    PRODUCER,
    InfoChangeReviewed,
    SchoolRegistered,
    TeacherArchived,
    TeacherChanged,
    TeacherRegistered,
)
from jijiao_kit.access import ADMIN_LEVELS, Level, covers, scope_filter
from jijiao_kit.auth import Principal, TokenVersions
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]


@dataclass(frozen=True)
class NewSchool:
    name: str
    school_type: str
    seal_name: str
    town: str
    nature: str
    head_name: str
    head_mobile: str
    district: str


@dataclass(frozen=True)
class NewTeacher:
    name: str
    id_number: str
    mobile: str
    gender: str | None = None
    email: str | None = None
    subject: str | None = None
    stage: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class TeacherFilter:
    school_id: str | None = None
    district: str | None = None
    status: str | None = None
    subject: str | None = None
    stage: str | None = None
    name: str | None = None
    ce_number: str | None = None
    id_number: str | None = None
    special_user: bool | None = None
    review_state: str | None = None
    limit: int = 200
    skip: int = 0


def invalid_field(error: rules.InvalidField) -> InvalidInput:
    titles = {
        "invalid_id_number": "身份证号码不正确（须为18位，校验位正确，尾号X大写）",
        "invalid_mobile": "手机号码不正确",
        "invalid_name": "姓名不能为空",
        "record_not_reopened": "姓名和身份证号码须由学校管理员“重新更新”后方可修改",
        "field_not_editable": "该信息不能在此修改",
        "no_changes": "请至少修改一项信息",
    }
    return InvalidInput(
        str(error), code=error.code, title=titles.get(error.code, "信息填写有误"), extra={"field": error.field}
    )


def actor_of(principal: Principal) -> Actor:
    return Actor(subject=principal.subject, role=sorted(principal.roles)[0] if principal.roles else None)


class RosterService:
    def __init__(
        self,
        schools: SchoolRepository,
        teachers: TeacherRepository,
        hasher: PasswordHasher,
        clock: Clock,
        next_sequence: Any,
        *,
        token_versions: TokenVersions | None = None,
    ) -> None:
        self.token_versions = token_versions
        self.schools = schools
        self.teachers = teachers
        self.hasher = hasher
        self.clock = clock
        self._next_sequence = next_sequence

    async def create_school(self, principal: Principal, new: NewSchool) -> Doc:
        ensure_can_create_school(principal, new.district)
        school = {
            "_id": uuid.uuid4().hex[:12],
            **new.__dict__,
            "created_at": self.clock.now(),
            "version": 1,
        }
        event = SchoolRegistered(school_id=school["_id"], name=new.name, district=new.district, seal_name=new.seal_name)
        try:
            await self.schools.add(school, [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))])
        except AlreadyExists as exc:
            raise Conflict(
                f"A school named {new.name!r} already exists in {new.district}.",
                code="school_exists",
                title="该区已有同名学校",
            ) from exc
        return school

    async def get_school(self, principal: Principal, school_id: str) -> Doc:
        school = await self.schools.get(school_id)
        if school is None:
            raise NotFound(f"School {school_id} not found.", code="school_not_found", title="学校不存在")
        ensure_can_manage_school(principal, school)
        return school

    async def add_teacher(self, principal: Principal, school_id: str, new: NewTeacher) -> Doc:
        school = await self.get_school(principal, school_id)
        new = self.validated(new)
        id_number = new.id_number
        existing = await self.teachers.by_id_number(id_number)
        if existing is not None:
            raise self._teacher_exists(existing["_id"])
        now = self.clock.now()
        year = china_year(now)  # a teacher added on 1 January before 08:00 belongs to the new year
        ce_number = identity.ce_number(year, await self._next_sequence(f"ce_number:{year}"))
        password_hash = await self.hasher.hash_async(identity.initial_password(id_number))
        teacher = {
            "_id": ce_number,
            "name": new.name,
            "id_number": id_number,
            "gender": new.gender or identity.gender_from_id_number(id_number),
            "mobile": new.mobile,
            "email": new.email,
            "subject": new.subject,
            "stage": new.stage,
            "title": new.title,
            "school_id": school["_id"],
            "school_name": school["name"],
            "district": school["district"],
            "status": "active",
            "special_user": False,
            "credentials": {"password_hash": password_hash, "must_change": True, "failed_attempts": 0, "locked": False},
            "created_at": now,
            "version": 1,
        }
        event = TeacherRegistered(
            ce_number=ce_number,
            name=new.name,
            school_id=school["_id"],
            school_name=school["name"],
            district=school["district"],
            mobile=new.mobile,
            email=new.email,
            subject=new.subject,
            stage=Stage(new.stage) if new.stage else None,
            title=new.title,
            registered_year=year,
        )
        try:
            await self.teachers.add(teacher, [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))])
        except AlreadyExists as exc:
            # Two admins adding the same person at once: the unique index lets one through.
            winner = await self.teachers.by_id_number(id_number)
            raise self._teacher_exists(winner["_id"] if winner else None) from exc
        return teacher

    @staticmethod
    def validated(new: NewTeacher) -> NewTeacher:
        """The field rules every way of adding a teacher shares (API and Excel import)."""
        try:
            return NewTeacher(
                name=rules.check_name(new.name),
                id_number=rules.normalize_id(new.id_number),
                mobile=rules.check_mobile(new.mobile),
                gender=rules.check_optional("gender", new.gender),
                email=rules.check_optional("email", new.email),
                subject=rules.check_optional("subject", new.subject),
                stage=rules.check_optional("stage", new.stage),
                title=rules.check_optional("title", new.title),
            )
        except rules.InvalidField as exc:
            raise invalid_field(exc) from exc

    @staticmethod
    def _teacher_exists(ce_number: str | None) -> Conflict:
        return Conflict(
            "A teacher with this ID number already has a continuing-education number; use a transfer.",
            code="teacher_exists",
            title="该教师已有继续教育学号，请使用“教师调动”功能调入",
            extra={"ce_number": ce_number, "transfer": "/v1/transfers"},
        )

    async def get_teacher(self, ce_number: str) -> Doc | None:
        return await self.teachers.get(ce_number)

    async def teacher_for(self, principal: Principal, ce_number: str) -> Doc:
        """The teacher record if the caller may see it (else 404, so numbers cannot be probed)."""
        teacher = await self.teachers.get(ce_number)
        if teacher is None or not can_read_teacher(principal, teacher):
            raise NotFound(f"Teacher {ce_number} not found.", code="teacher_not_found", title="教师不存在")
        return teacher

    async def _managed_teacher(self, principal: Principal, ce_number: str) -> Doc:
        """A teacher the caller administers as a school admin of the teacher's school (or the city)."""
        teacher = await self.teacher_for(principal, ce_number)
        ensure_school_admin_of(principal, {"_id": teacher["school_id"]})
        return teacher

    async def list_teachers(
        self, principal: Principal, school_id: str, filters: TeacherFilter | None = None
    ) -> list[Doc]:
        await self.get_school(principal, school_id)
        return await self.search_teachers(principal, replace(filters or TeacherFilter(), school_id=school_id))

    async def search_teachers(self, principal: Principal, filters: TeacherFilter) -> list[Doc]:
        scope = teacher_scope_query(principal)
        query: Doc = {}
        for field in ("school_id", "district", "status", "subject", "stage"):
            value = getattr(filters, field)
            if value is not None:
                query[field] = value
        for field, value in scope.items():
            if field in query and query[field] != value:
                return []  # asked for outside the caller's scope: nothing to see
            query[field] = value
        if filters.name:
            query["name"] = {"$regex": "^" + re.escape(filters.name)}
        if filters.ce_number:
            query["_id"] = filters.ce_number
        if filters.id_number:
            query["id_number"] = filters.id_number.strip().upper()
        if filters.special_user is not None:
            query["special_user"] = filters.special_user
        if filters.review_state:
            query["info_review.state"] = filters.review_state
        return await self.teachers.find(query, limit=filters.limit, skip=filters.skip)

    async def list_schools(self, principal: Principal, district: str | None, *, limit: int, skip: int) -> list[Doc]:
        scope = scope_filter(principal, levels=ADMIN_LEVELS)
        if scope == {}:  # the city
            return await self.schools.list(district=district, limit=limit, skip=skip)
        if scope is not None and "district" in scope:
            if district not in (None, scope["district"]):
                return []
            return await self.schools.list(district=scope["district"], limit=limit, skip=skip)
        if scope is not None:  # a school's own admins
            school = await self.schools.get(scope["school_id"])
            return [school] if school and district in (None, school["district"]) else []
        raise Forbidden("Not allowed to list schools.", code="forbidden", title="无权查看学校列表")

    # --- archiving (归档) and reactivation ------------------------------------------------------------

    async def archive(self, principal: Principal, ce_number: str, status: str) -> Doc:
        teacher = await self._managed_teacher(principal, ce_number)
        if not rules.archive_allowed(teacher.get("status", "active"), status):
            raise Conflict(f"The teacher is already {status}.", code="status_unchanged", title="教师已是该在岗状态")
        now = self.clock.now()
        event = TeacherArchived(ce_number=ce_number, status=status, school_id=teacher["school_id"])
        changed = await self.teachers.update_where(
            {"_id": ce_number, "status": teacher.get("status", "active"), "school_id": teacher["school_id"]},
            {
                "$set": {"status": status, "archived_at": None if status == "active" else now, "updated_at": now},
                "$inc": {"version": 1},
            },
            [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))],
        )
        if not changed:
            raise Conflict("The teacher record changed meanwhile; retry.", code="concurrent_edit", title="请刷新后重试")
        if self.token_versions is not None and status != "active":
            await self.token_versions.bump(f"teacher:{ce_number}")  # an archived teacher's tokens end
        return await self.teacher_for(principal, ce_number)

    async def archive_many(self, principal: Principal, school_id: str, ce_numbers: list[str], status: str) -> list[Doc]:
        """勾选归档: each checked teacher of the school on its own; a refusal names its reason."""
        school = await self.get_school(principal, school_id)
        ensure_school_admin_of(principal, school)
        rows: list[Doc] = []
        for ce_number in dict.fromkeys(ce_numbers):
            teacher = await self.teachers.get(ce_number)
            if teacher is None or teacher["school_id"] != school_id:
                rows.append(
                    {"ce_number": ce_number, "ok": False, "code": "teacher_not_found", "reason": "本校没有该教师"}
                )
                continue
            try:
                await self.archive(principal, ce_number, status)
            except (Conflict, NotFound, Forbidden) as exc:
                rows.append({"ce_number": ce_number, "ok": False, "code": exc.code, "reason": exc.title})
                continue
            rows.append({"ce_number": ce_number, "ok": True})
        return rows

    # --- personal-info changes (信息更新 → 提交审核 → 审核/退回; 重新更新) ---------------------------------

    async def submit_changes(self, principal: Principal, ce_number: str, changes: Doc) -> Doc:
        """The teacher submits changed personal information for the school's review."""
        if not covers(principal, ce_number=ce_number, levels=frozenset({Level.SELF})):
            raise Forbidden("Teachers submit their own changes.", code="forbidden", title="只能修改本人信息")
        teacher = await self.teacher_for(principal, ce_number)
        review = teacher.get("info_review") or {}
        try:
            cleaned = rules.clean_changes(changes, reopened=bool(review.get("reopened")))
        except rules.InvalidField as exc:
            raise invalid_field(exc) from exc
        cleaned = rules.effective_changes(teacher, cleaned)
        if not cleaned:
            raise InvalidInput("Nothing differs from the record.", code="no_changes", title="信息没有变化")
        if "id_number" in cleaned:
            await self._ensure_id_free(cleaned["id_number"], ce_number)
        now = self.clock.now()
        new_review = {
            **review,
            "state": rules.ReviewState.SUBMITTED.value,
            "submission_id": uuid.uuid4().hex,
            "changes": cleaned,
            "submitted_at": now,
            "reason": None,
        }
        changed = await self.teachers.update_where(
            {"_id": ce_number, "version": teacher.get("version")},
            {"$set": {"info_review": new_review}, "$inc": {"version": 1}},
        )
        if not changed:
            raise Conflict("The teacher record changed meanwhile; retry.", code="concurrent_edit", title="请刷新后重试")
        return await self.teacher_for(principal, ce_number)

    async def review_changes(
        self, principal: Principal, ce_number: str, *, approve: bool, submission_id: str | None, reason: str | None
    ) -> Doc:
        """The school admin approves (the changes apply, TeacherChanged) or returns them with a reason."""
        teacher = await self._managed_teacher(principal, ce_number)
        review = teacher.get("info_review") or {}
        if review.get("state") != rules.ReviewState.SUBMITTED.value or (
            submission_id and review.get("submission_id") != submission_id
        ):
            raise Conflict("No submitted changes await review.", code="nothing_to_review", title="没有待审核的信息")
        # The version too: the event below is built from this read (a move in between must not be undone).
        condition = {
            "_id": ce_number,
            "info_review.submission_id": review["submission_id"],
            "version": teacher.get("version"),
        }
        now = self.clock.now()
        decided = {**review, "reviewed_by": principal.subject, "reviewed_at": now}
        if not approve:
            if not reason:
                raise InvalidInput("A return needs a reason.", code="reason_required", title="请填写退回原因")
            decided.update(state=rules.ReviewState.RETURNED.value, reason=reason)
            if not await self.teachers.update_where(
                condition,
                {"$set": {"info_review": decided}, "$inc": {"version": 1}},
                [_reviewed(teacher, principal, approved=False, reason=reason)],
            ):
                raise Conflict("The submission changed meanwhile.", code="concurrent_edit", title="请刷新后重试")
            return await self.teacher_for(principal, ce_number)
        changes = dict(review.get("changes") or {})
        decided.update(state=rules.ReviewState.APPROVED.value, reopened=False, reason=None)
        after = {**teacher, **changes}
        event = TeacherChanged(
            ce_number=ce_number,
            name=after["name"],
            school_id=after["school_id"],
            school_name=after["school_name"],
            district=after["district"],
            mobile=after.get("mobile"),
            email=after.get("email"),
            subject=after.get("subject"),
            stage=Stage(after["stage"]) if after.get("stage") else None,
            title=after.get("title"),
        )
        try:
            applied = await self.teachers.update_where(
                condition,
                {"$set": {**changes, "info_review": decided, "updated_at": now}, "$inc": {"version": 1}},
                [
                    outbox_entry(event, producer=PRODUCER, actor=actor_of(principal)),
                    _reviewed(after, principal, approved=True),
                ],
            )
        except AlreadyExists as exc:
            raise self._id_taken() from exc
        if not applied:
            raise Conflict("The submission changed meanwhile.", code="concurrent_edit", title="请刷新后重试")
        if self.token_versions is not None and "mobile" in changes and changes["mobile"] != teacher.get("mobile"):
            await self.token_versions.bump(f"teacher:{ce_number}")  # the old phone is unbound: its sessions end
        return await self.teacher_for(principal, ce_number)

    async def reopen(self, principal: Principal, ce_number: str, reason: str | None) -> Doc:
        """重新更新: the school admin lets the teacher correct name and ID number too."""
        teacher = await self._managed_teacher(principal, ce_number)
        review = teacher.get("info_review") or {}
        reopened = {
            **review,
            "state": rules.ReviewState.RETURNED.value
            if review.get("state") == "submitted"
            else review.get("state", "none"),
            "reopened": True,
            "reopened_by": principal.subject,
            "reopened_at": self.clock.now(),
            "reason": reason,
        }
        if not await self.teachers.update_where(
            {"_id": ce_number, "version": teacher.get("version")},
            {"$set": {"info_review": reopened}, "$inc": {"version": 1}},
        ):
            raise Conflict("The teacher record changed meanwhile; retry.", code="concurrent_edit", title="请刷新后重试")
        return await self.teacher_for(principal, ce_number)

    async def _ensure_id_free(self, id_number: str, ce_number: str) -> None:
        other = await self.teachers.by_id_number(id_number)
        if other is not None and other["_id"] != ce_number:
            raise self._id_taken()

    @staticmethod
    def _id_taken() -> Conflict:
        return Conflict(
            "Another teacher record has this ID number.",
            code="id_number_taken",
            title="该身份证号码已被其他教师使用",
        )

    # --- the principal (授权校长, one per school) ----------------------------------------------------

    async def authorise_principal(self, principal: Principal, school_id: str, ce_number: str) -> Doc:
        school = await self.get_school(principal, school_id)
        ensure_school_admin_of(principal, school)
        teacher = await self.teachers.get(ce_number)
        if teacher is None or teacher["school_id"] != school_id:
            raise NotFound("No such teacher in this school.", code="teacher_not_found", title="本校没有该教师")
        refusal = rules.principal_refusal(school, teacher)
        if refusal is None and await self.schools.set_principal(school_id, ce_number, self.clock.now()):
            return await self.get_school(principal, school_id)
        if refusal == "teacher_not_active":
            raise Conflict("Only an active teacher can be the principal.", code=refusal, title="只能授权在职教师为校长")
        current = await self.schools.get(school_id)
        holder = (current or {}).get("principal_ce_number")
        raise Conflict(
            "The school already has a principal; revoke the authorisation first.",
            code="principal_exists",
            title="一个学校只能授权一位校长，请先取消原校长的授权",
            extra={"principal_ce_number": holder},
        )

    async def revoke_principal(self, principal: Principal, school_id: str) -> Doc:
        school = await self.get_school(principal, school_id)
        ensure_school_admin_of(principal, school)
        holder = school.get("principal_ce_number")
        if not holder or not await self.schools.clear_principal(school_id, holder):
            raise Conflict("The school has no principal.", code="no_principal", title="本校尚未授权校长")
        return await self.get_school(principal, school_id)


def _reviewed(teacher: Doc, principal: Principal, *, approved: bool, reason: str | None = None) -> Doc:
    """The outbox entry telling the teacher how the school decided on their information change."""
    event = InfoChangeReviewed(
        ce_number=teacher["_id"],
        name=teacher["name"],
        school_id=teacher["school_id"],
        approved=approved,
        reason=reason,
        mobile=teacher.get("mobile"),
    )
    return outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))
