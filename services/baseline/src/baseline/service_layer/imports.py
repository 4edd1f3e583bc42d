"""Excel import of bases and zones (item 1) with a per-row report: each row goes through the same use
case as a single creation, so it is refused for the same reasons with the same codes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from baseline.adapters.sheets import SheetError, read_rows
from baseline.domain import programme as rules
from baseline.domain.text import refused
from baseline.service_layer.access import require_centre
from baseline.service_layer.problems import problem
from baseline.service_layer.reference import Contact, NewBase, NewZone, ReferenceService
from jijiao_kit.auth import Principal
from jijiao_kit.errors import AppError

MOBILE = re.compile(r"^1\d{10}$")
STAGE_BY_LABEL = {label: stage for stage, label in rules.STAGES.items()} | {s: s for s in rules.STAGES}
BASE_COLUMNS = {
    "名称": "name",
    "学段": "stage",
    "地区": "region",
    "联系人": "contact",
    "联系电话": "mobile",
    "邮箱": "email",
}
ZONE_COLUMNS = {"名称": "name", "地区": "region", "联系人": "contact", "联系电话": "mobile", "邮箱": "email"}


@dataclass(frozen=True)
class RowReport:
    row: int
    name: str
    accepted: bool
    id: str | None = None
    code: str | None = None
    title: str | None = None


class RowInvalid(Exception):
    pass


def _contact(row: dict[str, str]) -> Contact:
    email = row.get("email") or None
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise RowInvalid from exc
    if not (1 <= len(row["contact"]) <= 50) or not MOBILE.match(row["mobile"]):
        raise RowInvalid
    return Contact(row["contact"], row["mobile"], email)


def _name(row: dict[str, str]) -> str:
    if not 1 <= len(row["name"]) <= 100 or not row["name"].isprintable():
        raise RowInvalid
    return row["name"]


class ImportService:
    def __init__(self, reference: ReferenceService) -> None:
        self.reference = reference

    async def _rows(self, data: bytes, columns: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
        try:
            return await read_rows(data, columns)  # parsed in the kit's worker process
        except SheetError as exc:
            raise problem(exc.code) from exc

    async def _each(
        self, rows: list[tuple[int, dict[str, str]]], create: Callable[[dict[str, str]], Awaitable[dict[str, Any]]]
    ) -> list[RowReport]:
        reports = []
        for number, row in rows:
            try:
                if any(refused(value) for value in row.values()):
                    raise RowInvalid  # a control character (an ``_x0001_`` escape in the sheet)
                created = await create(row)
            except RowInvalid:
                error = problem("import_row_invalid")
                reports.append(RowReport(number, row.get("name", ""), False, code=error.code, title=error.title))
            except AppError as error:
                reports.append(RowReport(number, row.get("name", ""), False, code=error.code, title=error.title))
            else:
                reports.append(RowReport(number, row["name"], True, id=created["_id"]))
        return reports

    async def bases(self, principal: Principal, data: bytes) -> list[RowReport]:
        require_centre(principal)
        rows = await self._rows(data, BASE_COLUMNS)

        async def create(row: dict[str, str]) -> dict[str, Any]:
            stage = STAGE_BY_LABEL.get(row["stage"])
            if stage is None or not 1 <= len(row["region"]) <= 50:
                raise RowInvalid
            return await self.reference.add_base(principal, NewBase(_name(row), stage, row["region"], _contact(row)))

        return await self._each(rows, create)

    async def zones(self, principal: Principal, data: bytes) -> list[RowReport]:
        require_centre(principal)
        rows = await self._rows(data, ZONE_COLUMNS)

        async def create(row: dict[str, str]) -> dict[str, Any]:
            region = row.get("region") or None
            if region and len(region) > 50:
                raise RowInvalid
            return await self.reference.add_zone(principal, NewZone(_name(row), _contact(row), region))

        return await self._each(rows, create)
