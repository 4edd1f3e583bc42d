"""Login rules: what a login name may be and when an account locks."""

from __future__ import annotations

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


def password_problem(new: str, *, old: str, initial: str | None = None) -> str | None:
    """Why ``new`` is not acceptable as a password, or None.

    At least 8 characters with letters and digits, different from the old one and from the initial
    password (the last six ID characters a teacher is told by SMS)."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if not any(ch.isdigit() for ch in new) or not any(ch.isalpha() for ch in new):
        return "needs_letters_and_digits"
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
