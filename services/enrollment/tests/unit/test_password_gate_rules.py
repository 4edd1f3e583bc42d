"""Which calls a caller that must still change its initial password may make."""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.entrypoints.api.password_gate import allowed_before_change

TEACHER = {"sub": "teacher:2026000001", "scopes": {"ce_number": "2026000001"}}
ADMIN = {"sub": "account:abc", "scopes": {"school_id": "s1"}}


@pytest.mark.parametrize(
    ("method", "path", "claims", "allowed"),
    [
        ("POST", "/v1/auth/password", TEACHER, True),
        ("POST", "/v1/auth/token", TEACHER, True),
        ("GET", "/v1/teachers/2026000001", TEACHER, True),
        ("GET", "/v1/teachers/2026000002", TEACHER, False),
        ("PUT", "/v1/teachers/2026000001/info-change", TEACHER, False),
        ("GET", "/v1/admins/me", ADMIN, True),
        ("PATCH", "/v1/admins/me", ADMIN, False),
        ("GET", "/v1/teachers/2026000001", ADMIN, False),
        ("POST", "/v1/terms/2602/selections", TEACHER, False),
        ("GET", "/v1/auth/password", TEACHER, False),
        ("POST", "/v1/auth/password/", TEACHER, True),
    ],
)
def test_allowed_before_change(method: str, path: str, claims: dict[str, Any], allowed: bool) -> None:
    assert allowed_before_change(method, path, claims) is allowed
