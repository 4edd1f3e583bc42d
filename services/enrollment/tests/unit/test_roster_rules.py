"""Roster rules (DOMAIN §1): ID numbers, teacher fields, info-change review, archiving, the principal."""

from __future__ import annotations

from typing import ClassVar

import pytest

from enrollment.domain import identity
from enrollment.domain import roster as rules


def valid_id(first_seventeen: str = "44010619850101001") -> str:
    return first_seventeen + identity.check_digit(first_seventeen)


def id_with_x() -> str:
    for serial in range(1000):
        first = f"44010619900307{serial:03d}"
        if identity.check_digit(first) == "X":
            return first + "X"
    raise AssertionError("no X check digit found")


class TestIdNumber:
    def test_valid_number_passes_unchanged(self) -> None:
        number = valid_id()
        assert identity.normalize_id_number(number) == number

    def test_lower_case_x_is_stored_upper_case(self) -> None:
        number = id_with_x()
        assert identity.normalize_id_number(number.lower()) == number
        assert rules.normalize_id(" " + number[:-1] + "x ") == number

    def test_wrong_check_digit_is_refused(self) -> None:
        number = valid_id()
        wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
        with pytest.raises(identity.InvalidIdNumber, match="check digit"):
            identity.normalize_id_number(wrong)

    @pytest.mark.parametrize(
        "raw",
        ["440106850101001", "4401061985010100", "44010619850101001Y", "A4010619850101001X", ""],
    )
    def test_only_the_18_character_form_is_accepted(self, raw: str) -> None:
        with pytest.raises(identity.InvalidIdNumber):
            identity.normalize_id_number(raw)

    @pytest.mark.parametrize("birth", ["19850230", "18990101", "19851301"])
    def test_impossible_birth_dates_are_refused(self, birth: str) -> None:
        with pytest.raises(identity.InvalidIdNumber, match="birth date"):
            identity.normalize_id_number(valid_id(f"440106{birth}001"))

    def test_known_real_world_check_digit(self) -> None:
        # GB 11643-1999 worked example
        assert identity.check_digit("11010519491231002") == "X"

    def test_invalid_id_maps_to_a_field_error(self) -> None:
        with pytest.raises(rules.InvalidField) as info:
            rules.normalize_id("123")
        assert (info.value.field, info.value.code) == ("id_number", "invalid_id_number")

    def test_gender_from_id(self) -> None:
        assert identity.gender_from_id_number(valid_id("44010619850101001")) == "male"
        assert identity.gender_from_id_number(valid_id("44010619850101002")) == "female"

    def test_ce_number_is_year_and_six_digit_sequence(self) -> None:
        assert identity.ce_number(2026, 42) == "2026000042"
        with pytest.raises(ValueError):
            identity.ce_number(2026, 1_000_000)


class TestTeacherFields:
    def test_mobile_must_be_11_digits_starting_with_1(self) -> None:
        assert rules.check_mobile(" 13900000001 ") == "13900000001"
        for bad in ("23900000001", "1390000000", "139000000012", "1390000000a"):
            with pytest.raises(rules.InvalidField):
                rules.check_mobile(bad)

    def test_name_required(self) -> None:
        with pytest.raises(rules.InvalidField):
            rules.check_name("   ")
        assert rules.check_name(" 陈晓明 ") == "陈晓明"

    @pytest.mark.parametrize(
        ("field", "value"), [("stage", "college"), ("gender", "x"), ("email", "not-an-email"), ("title", "职" * 31)]
    )
    def test_optional_fields_are_checked(self, field: str, value: str) -> None:
        with pytest.raises(rules.InvalidField):
            rules.check_optional(field, value)

    def test_empty_optional_fields_become_none(self) -> None:
        assert rules.check_optional("stage", "") is None
        assert rules.check_optional("stage", "junior") == "junior"


class TestInfoChanges:
    def test_teacher_may_change_contact_and_teaching_fields(self) -> None:
        cleaned = rules.clean_changes({"mobile": "13900000009", "title": "高级教师", "stage": "senior"}, reopened=False)
        assert cleaned == {"mobile": "13900000009", "title": "高级教师", "stage": "senior"}

    @pytest.mark.parametrize("field", ["id_number", "name"])
    def test_name_and_id_need_a_reopened_record(self, field: str) -> None:
        value = valid_id() if field == "id_number" else "新名字"
        with pytest.raises(rules.InvalidField) as info:
            rules.clean_changes({field: value}, reopened=False)
        assert info.value.code == "record_not_reopened"
        assert rules.clean_changes({field: value}, reopened=True) == {field: value}

    def test_reopened_id_correction_is_validated_and_upper_cased(self) -> None:
        number = id_with_x()
        assert rules.clean_changes({"id_number": number.lower()}, reopened=True) == {"id_number": number}
        with pytest.raises(rules.InvalidField) as info:
            rules.clean_changes({"id_number": number[:-1] + "1"}, reopened=True)
        assert info.value.code == "invalid_id_number"

    def test_unknown_and_system_fields_are_refused(self) -> None:
        for field in ("school_id", "status", "special_user", "credentials"):
            with pytest.raises(rules.InvalidField) as info:
                rules.clean_changes({field: "x"}, reopened=True)
            assert info.value.code == "field_not_editable"

    def test_empty_submission_is_refused(self) -> None:
        with pytest.raises(rules.InvalidField):
            rules.clean_changes({}, reopened=False)

    def test_only_real_differences_count(self) -> None:
        teacher = {"mobile": "13900000001", "title": "一级教师"}
        assert rules.effective_changes(teacher, {"mobile": "13900000001", "title": "高级教师"}) == {"title": "高级教师"}


class TestArchiving:
    @pytest.mark.parametrize("target", ["left", "retired", "other"])
    def test_active_teacher_can_be_archived(self, target: str) -> None:
        assert rules.archive_allowed("active", target)

    @pytest.mark.parametrize("current", ["left", "retired", "other"])
    def test_archive_is_reversible(self, current: str) -> None:
        assert rules.archive_allowed(current, "active")

    def test_same_status_or_unknown_status_is_refused(self) -> None:
        assert not rules.archive_allowed("left", "left")
        assert not rules.archive_allowed("active", "fired")


class TestPrincipal:
    school: ClassVar[dict[str, str]] = {"_id": "s1", "district": "天河区"}

    def teacher(self, **fields: object) -> dict[str, object]:
        return {"_id": "2026000001", "school_id": "s1", "status": "active", **fields}

    def test_an_active_teacher_of_a_school_without_principal_can_be_authorised(self) -> None:
        assert rules.principal_refusal(self.school, self.teacher()) is None

    def test_one_principal_per_school(self) -> None:
        school = {**self.school, "principal_ce_number": "2026000002"}
        assert rules.principal_refusal(school, self.teacher()) == "principal_exists"

    def test_teacher_of_another_school_or_archived_teacher_cannot_be_principal(self) -> None:
        assert rules.principal_refusal(self.school, self.teacher(school_id="s2")) == "teacher_not_in_school"
        assert rules.principal_refusal(self.school, self.teacher(status="left")) == "teacher_not_active"

    def test_principal_role_follows_the_school_record(self) -> None:
        school = {**self.school, "principal_ce_number": "2026000001"}
        assert rules.is_principal(self.teacher(), school)
        assert not rules.is_principal(self.teacher(), self.school)
        assert not rules.is_principal(self.teacher(school_id="s2"), school)  # transferred away
        assert not rules.is_principal(self.teacher(status="retired"), school)
        assert not rules.is_principal(self.teacher(), None)
