"""Login rules: what a login name may be and when an account locks."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import StrEnum


class LoginKind(StrEnum):
    USERNAME = "username"
    CE_NUMBER = "ce_number"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"


def login_kinds(login: str) -> list[LoginKind]:
    """Which fields a login text may name, most specific first (§1: account, CE number, ID, mobile)."""
    text = login.strip()
    kinds = [LoginKind.USERNAME]
    if text.isdigit() and len(text) == 10:
        kinds.append(LoginKind.CE_NUMBER)
    if len(text) == 18:
        kinds.append(LoginKind.ID_NUMBER)
    if text.isdigit() and len(text) == 11 and text.startswith("1"):
        kinds.append(LoginKind.MOBILE)
    return kinds


def locks_after(failed_attempts: int, limit: int) -> bool:
    return failed_attempts >= limit


# --- passwords and account names -------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 8

#: Titles of the password problems (Chinese user text), one policy for teachers and admins.
PASSWORD_TITLES = {
    "too_short": "新密码至少8位",
    "needs_letters_and_digits": "新密码须包含字母，以及数字或符号",
    "too_common": "该密码过于常见，容易被猜中，请换一个",
    "same_as_before": "新密码不能与原密码或初始密码相同",
}


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of public leaks, as shipped by zxcvbn (Dropbox's maintained
    strength estimator), lower-cased."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def is_common_password(password: str) -> bool:
    return password.lower() in _common_passwords()


def password_problem(new: str, *, old: str | None = None, initial: str | None = None) -> str | None:
    """Why ``new`` is not acceptable as a password, or None. The one policy for every account, at
    creation and at change: at least 8 characters, letters plus digits or symbols, not one of the most
    common passwords (``password1``, ``12345678``), different from the old one and from the initial
    password (the last six ID characters a teacher is told by SMS)."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if not any(ch.isalpha() for ch in new) or all(ch.isalpha() for ch in new):
        return "needs_letters_and_digits"
    if is_common_password(new):
        return "too_common"
    if new == old or (initial is not None and new == initial):
        return "same_as_before"
    return None


def username_problem(username: str) -> str | None:
    """Admin account names start with a letter, so they never shadow a CE number, ID number or mobile
    in the login lookup (which tries the account name first)."""
    text = username.strip()
    if not 3 <= len(text) <= 32:
        return "length"
    if not text[0].isascii() or not text[0].isalpha():
        return "must_start_with_letter"
    if not all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in text):
        return "characters"
    return None


ADMIN_ROLES = ("city_admin", "district_admin", "school_admin")


def may_create_admin(
    creator_roles: frozenset[str] | set[str],
    creator_scopes: Mapping[str, object],
    role: str,
    scopes: Mapping[str, object],
) -> bool:
    """Who may register which admin: the city any; a district admin school admins of its district;
    a school admin (or the principal) more school admins of its own school."""
    if role not in ADMIN_ROLES:
        return False
    if "city_admin" in creator_roles:
        return True
    if role != "school_admin":
        return False
    if "district_admin" in creator_roles and scopes.get("district") == creator_scopes.get("district"):
        return True
    return bool(creator_roles & {"school_admin", "principal"}) and scopes.get("school_id") == creator_scopes.get(
        "school_id"
    )
