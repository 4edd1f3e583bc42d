"""Every name field of enrollment's request bodies (people, schools, courses) and the roster rule
shared with the Excel import refuse control and format characters (issue 12 item 11)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from enrollment.domain import roster as rules
from enrollment.entrypoints.api.routers.admins import AdminIn, ProfileIn, SchoolAdminIn
from enrollment.entrypoints.api.routers.catalogue import CourseIn
from enrollment.entrypoints.api.routers.school_courses import DeclarationIn, EditIn
from enrollment.entrypoints.api.routers.schools import SchoolIn
from enrollment.entrypoints.api.routers.teachers import TeacherIn

BAD = ["陈\x00晓明", "\u202e明晓陈", "\ufeff陈晓明"]
FIELDS: list[tuple[type[BaseModel], str]] = [
    (AdminIn, "name"),
    (SchoolAdminIn, "name"),
    (ProfileIn, "name"),
    (SchoolIn, "name"),
    (SchoolIn, "seal_name"),
    (SchoolIn, "head_name"),
    (TeacherIn, "name"),
    (CourseIn, "name"),
    (DeclarationIn, "name"),
    (EditIn, "name"),
]


@pytest.mark.parametrize(("model", "field"), FIELDS)
@pytest.mark.parametrize("bad", BAD)
def test_name_fields_refuse_control_and_format_characters(model: type[BaseModel], field: str, bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({field: bad})
    assert any(error["loc"] == (field,) and "control or format" in error["msg"] for error in caught.value.errors())


@pytest.mark.parametrize(("model", "field"), FIELDS)
def test_ordinary_names_pass_the_name_check(model: type[BaseModel], field: str) -> None:
    try:
        model.model_validate({field: "欧阳 娜娜"})
    except ValidationError as exc:
        errors: list[Any] = [error for error in exc.errors() if error["loc"] == (field,)]
        assert not errors


@pytest.mark.parametrize("bad", BAD)
def test_the_roster_rule_used_by_the_import_refuses_them_too(bad: str) -> None:
    with pytest.raises(rules.InvalidField):
        rules.check_name(bad)
