"""Login rules: what a login name may be and when an account locks."""

from __future__ import annotations

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
