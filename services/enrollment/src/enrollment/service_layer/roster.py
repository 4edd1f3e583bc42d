"""Roster use cases: schools and teachers (DOMAIN §1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.repositories import AlreadyExists, SchoolRepository, TeacherRepository
from enrollment.domain import identity
from enrollment.service_layer.access import ensure_can_create_school, ensure_can_manage_school
from jijiao_contracts import Actor
from jijiao_contracts.enums import Stage
from jijiao_contracts.events.enrollment import PRODUCER, SchoolRegistered, TeacherRegistered
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, InvalidInput, NotFound
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
    ) -> None:
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
        try:
            id_number = identity.normalize_id_number(new.id_number)
        except identity.InvalidIdNumber as exc:
            raise InvalidInput(str(exc), code="invalid_id_number", title="身份证号码不正确") from exc
        existing = await self.teachers.by_id_number(id_number)
        if existing is not None:
            raise self._teacher_exists(existing["_id"])
        now = self.clock.now()
        year = now.astimezone(UTC).year
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
    def _teacher_exists(ce_number: str | None) -> Conflict:
        return Conflict(
            "A teacher with this ID number already has a continuing-education number; use a transfer.",
            code="teacher_exists",
            title="该教师已有继续教育学号，请使用“教师调动”功能调入",
            extra={"ce_number": ce_number, "transfer": "/v1/transfers"},
        )

    async def get_teacher(self, ce_number: str) -> Doc | None:
        return await self.teachers.get(ce_number)

    async def list_teachers(self, principal: Principal, school_id: str) -> list[Doc]:
        await self.get_school(principal, school_id)
        return await self.teachers.list_for_school(school_id)
