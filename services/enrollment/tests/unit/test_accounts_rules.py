"""Account rules (DOMAIN §1): login names, lockout, passwords, account names, who registers admins."""

from __future__ import annotations

import pytest

from enrollment.domain import accounts as rules


class TestLogin:
    def test_login_kinds_by_shape(self) -> None:
        assert rules.login_kinds("schooladmin") == [rules.LoginKind.USERNAME]
        assert rules.login_kinds("2026000001") == [rules.LoginKind.USERNAME, rules.LoginKind.CE_NUMBER]
        assert rules.login_kinds("44010619850101001X")[-1] is rules.LoginKind.ID_NUMBER
        assert rules.login_kinds("13900000001")[-1] is rules.LoginKind.MOBILE

    def test_ten_wrong_passwords_lock(self) -> None:
        assert not rules.locks_after(9, 10)
        assert rules.locks_after(10, 10)
        assert rules.locks_after(11, 10)


class TestPasswords:
    def test_good_password(self) -> None:
        assert rules.password_problem("newpass2026", old="oldpass2025") is None
        assert rules.password_problem("jijiao-demo") is None  # letters and a symbol (the demo's admins)

    @pytest.mark.parametrize(
        ("new", "problem"),
        [
            ("a1b2c3", "too_short"),
            ("abcdefghij", "needs_letters_and_digits"),
            ("1234567890", "needs_letters_and_digits"),
            ("12345678", "needs_letters_and_digits"),
            ("password", "needs_letters_and_digits"),
            ("password1", "too_common"),
            ("Password123", "too_common"),
            ("qwerty123", "too_common"),
            ("abc12345", "too_common"),
        ],
    )
    def test_weak_passwords(self, new: str, problem: str) -> None:
        assert rules.password_problem(new, old="whatever1") == problem

    def test_must_differ_from_old_and_initial(self) -> None:
        assert rules.password_problem("samepass1", old="samepass1") == "same_as_before"
        assert rules.password_problem("abc12345X", old="other", initial="abc12345X") == "same_as_before"


class TestUsernames:
    @pytest.mark.parametrize("name", ["schooladmin", "li.jing", "admin_2", "Zhang-3"])
    def test_acceptable(self, name: str) -> None:
        assert rules.username_problem(name) is None

    @pytest.mark.parametrize(
        "name", ["2026000001", "13900000001", "44010619850101001X", "ab", "管理员", "admin 1", "a" * 33]
    )
    def test_names_that_could_shadow_a_teacher_login_or_are_malformed(self, name: str) -> None:
        assert rules.username_problem(name) is not None


class TestWhoRegistersAdmins:
    def test_city_registers_any_admin(self) -> None:
        for role in rules.ADMIN_ROLES:
            assert rules.may_create_admin({"city_admin"}, {}, role, {})

    def test_district_admin_registers_school_admins_of_its_district_only(self) -> None:
        mine = {"district": "天河区"}
        assert rules.may_create_admin(
            {"district_admin"}, mine, "school_admin", {"school_id": "s1", "district": "天河区"}
        )
        assert not rules.may_create_admin(
            {"district_admin"}, mine, "school_admin", {"school_id": "s9", "district": "越秀区"}
        )
        assert not rules.may_create_admin({"district_admin"}, mine, "district_admin", {"district": "天河区"})

    def test_school_admin_and_principal_register_more_admins_of_their_school(self) -> None:
        scopes = {"school_id": "s1", "district": "天河区"}
        for role in ("school_admin", "principal"):
            assert rules.may_create_admin({role}, scopes, "school_admin", scopes)
            assert not rules.may_create_admin({role}, scopes, "school_admin", {"school_id": "s2", "district": "天河区"})
            assert not rules.may_create_admin({role}, scopes, "city_admin", {})

    def test_teachers_and_unknown_roles(self) -> None:
        assert not rules.may_create_admin({"teacher"}, {"school_id": "s1"}, "school_admin", {"school_id": "s1"})
        assert not rules.may_create_admin({"city_admin"}, {}, "teacher", {})
