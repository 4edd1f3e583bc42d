"""The capacity counter stays consistent when the selection insert fails after the place was
taken (fakes: this is the service's compensation logic, not the store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest

from enrollment.adapters.catalogue_repository import CourseRepository
from enrollment.adapters.repositories import TeacherRepository
from enrollment.adapters.selection_repository import AlreadySelected, CartRepository, SelectionRepository
from enrollment.domain.selection import Actor
from enrollment.service_layer.selection import SelectionService
from enrollment.service_layer.terms import TermService
from jijiao_kit.auth import Principal
from jijiao_kit.clock import FixedClock
from jijiao_kit.errors import AppError

TEACHER = {"_id": "T1", "name": "甲", "school_id": "S", "district": "D", "status": "active"}
COURSE = {
    "_id": "2602:C1",
    "code": "C1",
    "name": "课",
    "programme": "city",
    "hour_type": "public",
    "hours": 8,
    "training_fee_fen": 100,
    "material_fee_fen": 0,
    "payee": "P",
    "capacity": 1,
}
PRINCIPAL = Principal(subject="t", roles=frozenset({"teacher"}), scopes={"ce_number": "T1"})


class Courses:
    def __init__(self, capacity_left: int = 1) -> None:
        self.left = capacity_left
        self.taken = 0

    async def reserve(self, key: str, capacity: int | None) -> bool:
        if self.left == 0:
            return False
        self.left -= 1
        self.taken += 1
        return True

    async def release(self, key: str) -> None:
        self.left += 1
        self.taken -= 1


class Selections:
    def __init__(self, failure: BaseException | None, stored_anyway: bool = False) -> None:
        self.failure = failure
        self.stored_anyway = stored_anyway
        self.docs: dict[str, Any] = {}

    async def add(self, doc: dict[str, Any], events: Any = ()) -> None:
        if self.stored_anyway:
            self.docs[doc["_id"]] = doc
        if self.failure is not None:
            raise self.failure
        self.docs[doc["_id"]] = doc

    async def exists(self, selection_id: str) -> bool:
        return selection_id in self.docs

    async def active_by_key(self, key: str) -> Any:
        return None


def service(courses: Courses, selections: Selections) -> SelectionService:
    # the fakes stand in for the repositories the compensation path uses; the others are not reached
    return SelectionService(
        cast(TermService, None),
        cast(CourseRepository, courses),
        cast(SelectionRepository, selections),
        cast(TeacherRepository, None),
        cast(CartRepository, None),
        FixedClock(datetime(2026, 9, 10, tzinfo=UTC)),
    )


async def test_success_keeps_the_place() -> None:
    courses, selections = Courses(), Selections(None)
    doc = await service(courses, selections).place(PRINCIPAL, "2602", TEACHER, COURSE, actor=Actor.TEACHER, via="self")
    assert courses.taken == 1 and doc["_id"] in selections.docs and doc["active_key"] == "2602:T1:C1"


async def test_duplicate_gives_the_place_back() -> None:
    courses = Courses()
    with pytest.raises(AppError) as err:
        await service(courses, Selections(AlreadySelected("k"))).place(
            PRINCIPAL, "2602", TEACHER, COURSE, actor=Actor.TEACHER, via="self"
        )
    assert err.value.code == "already_selected" and courses.taken == 0


async def test_store_error_before_the_write_gives_the_place_back() -> None:
    courses = Courses()
    with pytest.raises(ConnectionError):
        await service(courses, Selections(ConnectionError("down"))).place(
            PRINCIPAL, "2602", TEACHER, COURSE, actor=Actor.TEACHER, via="self"
        )
    assert courses.taken == 0


async def test_store_error_after_the_write_keeps_the_place() -> None:
    courses, selections = Courses(), Selections(TimeoutError("reply lost"), stored_anyway=True)
    with pytest.raises(TimeoutError):
        await service(courses, selections).place(PRINCIPAL, "2602", TEACHER, COURSE, actor=Actor.TEACHER, via="self")
    assert courses.taken == 1 and len(selections.docs) == 1  # the stored selection keeps its place


async def test_full_course_is_refused_without_writing() -> None:
    courses, selections = Courses(capacity_left=0), Selections(None)
    with pytest.raises(AppError) as err:
        await service(courses, selections).place(PRINCIPAL, "2602", TEACHER, COURSE, actor=Actor.TEACHER, via="self")
    assert err.value.code == "course_full" and not selections.docs
