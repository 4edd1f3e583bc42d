"""Excel import of teachers (DOMAIN §1, issue item 10): every row goes through the same use case as
``POST /v1/schools/{id}/teachers``; the report lists each accepted row and why each other row was
rejected. A rejected row writes nothing; an accepted row is a complete teacher record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from enrollment.adapters.teacher_sheet import SheetError, SheetRow, read_teacher_rows
from enrollment.domain import roster as rules
from enrollment.service_layer.roster import NewTeacher, RosterService
from jijiao_kit.auth import Principal
from jijiao_kit.errors import AppError, BadRequest

IMPORT_CONCURRENCY = 4


@dataclass
class ImportReport:
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _rejection(row: SheetRow, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "row": row.row,
        "name": row.values.get("name"),
        "id_number": row.values.get("id_number"),
        "code": code,
        "reason": title,
        "detail": detail,
        **extra,
    }


class TeacherImport:
    def __init__(self, roster: RosterService) -> None:
        self.roster = roster

    async def run(self, principal: Principal, school_id: str, content: bytes) -> ImportReport:
        await self.roster.get_school(principal, school_id)  # access first, before reading anything
        try:
            rows = await read_teacher_rows(content)
        except SheetError as exc:
            raise BadRequest(
                str(exc),
                code="invalid_sheet",
                title="文件无法读取或缺少必填列（姓名、身份证号码、手机号码）",
            ) from exc
        report = ImportReport()
        first_row_of: dict[str, int] = {}
        candidates: list[SheetRow] = []
        for row in rows:
            values = row.values
            missing = [name for name in ("name", "id_number", "mobile") if not values.get(name)]
            if missing:
                report.rejected.append(
                    _rejection(row, "missing_fields", "必填项未填写", f"missing: {', '.join(missing)}", fields=missing)
                )
                continue
            try:
                key = rules.normalize_id(str(values["id_number"]))
            except rules.InvalidField:
                key = str(values["id_number"]).upper()
            if key in first_row_of:
                report.rejected.append(
                    _rejection(
                        row,
                        "duplicate_in_file",
                        f"与第{first_row_of[key]}行身份证号码重复",
                        f"same ID number as row {first_row_of[key]}",
                        duplicate_of=first_row_of[key],
                    )
                )
                continue
            first_row_of[key] = row.row
            candidates.append(row)

        # Rows now name distinct people, so they are added side by side (password hashing dominates).
        limit = asyncio.Semaphore(IMPORT_CONCURRENCY)

        async def add(row: SheetRow) -> dict[str, Any]:
            values = row.values
            new = NewTeacher(
                name=str(values["name"]),
                id_number=str(values["id_number"]),
                mobile=str(values["mobile"]),
                gender=values.get("gender"),
                email=values.get("email"),
                subject=values.get("subject"),
                stage=values.get("stage"),
                title=values.get("title"),
            )
            async with limit:
                try:
                    teacher = await self.roster.add_teacher(principal, school_id, new)
                except AppError as exc:
                    return {"ok": False, **_rejection(row, exc.code, exc.title, exc.detail, **exc.extra)}
            return {"ok": True, "row": row.row, "ce_number": teacher["_id"], "name": teacher["name"]}

        for outcome in await asyncio.gather(*(add(row) for row in candidates)):
            ok = outcome.pop("ok")
            (report.accepted if ok else report.rejected).append(outcome)
        report.rejected.sort(key=lambda item: item["row"])
        return report
