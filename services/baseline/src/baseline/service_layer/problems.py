"""Refusal codes of the domain as problem+json errors (one table: ``domain.programme.PROBLEMS``)."""

from __future__ import annotations

from typing import Any

from baseline.domain.programme import PROBLEMS
from jijiao_kit.errors import AppError


def problem(code: str, **extra: Any) -> AppError:
    status, title, detail = PROBLEMS.get(code, (409, "操作与当前状态冲突", code))
    return AppError(detail, code=code, title=title, status=status, extra=extra or None)


def refuse(code: str | None, **extra: Any) -> None:
    if code is not None:
        raise problem(code, **extra)
