"""Registration of hours by organisers (登记), singly and in bulk; ``reference`` is unique per registrant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hours.adapters.files import FileStore
from hours.adapters.registrations import RegistrationRepository
from hours.adapters.repositories import Teachers
from hours.domain.crediting import RuleViolation, check_source, xuexi_hours
from hours.domain.units import to_hours
from hours.service_layer.access import ensure_can_register, require, teacher_not_found
from hours.service_layer.crediting import HourFact, HoursBank, rule_error
from hours.service_layer.rules import RulesService
from jijiao_contracts.enums import HourCategory, Role
from jijiao_kit.auth import Principal
from jijiao_kit.errors import AppError, Conflict, InvalidInput

Doc = dict[str, Any]


@dataclass(frozen=True)
class Registration:
    ce_number: str
    year: int
    source: str
    category: HourCategory
    reference: str
    hours: float | None = None
    points: int | None = None
    proof_id: str | None = None


class Registrations:
    def __init__(
        self,
        store: RegistrationRepository,
        teachers: Teachers,
        bank: HoursBank,
        rules: RulesService,
        files: FileStore,
    ) -> None:
        self.store = store
        self.files = files
        self.teachers = teachers
        self.bank = bank
        self.rules = rules

    async def register(self, principal: Principal, reg: Registration) -> tuple[Doc, bool]:
        """Returns (ledger entry, created). The same reference with the same content replays the entry."""
        teacher = await self.teachers.get(reg.ce_number)
        if teacher is None:
            raise teacher_not_found(reg.ce_number)
        ensure_can_register(principal, reg.source, teacher)
        rules = await self.rules.for_year(reg.year)
        try:
            check_source(rules, reg.source, reg.category)
        except RuleViolation as exc:
            raise rule_error(exc) from exc
        reference = reg.reference.strip()
        if not reference:
            raise InvalidInput("reference is required.", code="reference_required", title="请填写登记编号")
        detail: Doc = {}
        if reg.source == "xuexi_qiangguo":
            if reg.points is None or reg.points < 0:
                raise InvalidInput("Xuexi Qiangguo takes points.", code="points_required", title="请填写学习强国积分")
            await self._check_proof(principal, reg.proof_id, teacher)
            units, leftover = xuexi_hours(rules, reg.points)
            hours = to_hours(units)
            detail = {"points": reg.points, "points_not_converted": leftover, "proof_id": reg.proof_id}
        else:
            if reg.hours is None or reg.hours <= 0:
                raise InvalidInput("hours must be positive.", code="hours_required", title="学时必须大于0")
            hours = round(reg.hours, 2)
        payload = {
            "ce_number": reg.ce_number,
            "year": reg.year,
            "source": reg.source,
            "category": reg.category.value,
            "hours": hours,
            "points": reg.points,
        }
        claim_id = f"{principal.subject}\x1f{reference}"
        existing = await self.store.claim(
            {"_id": claim_id, "payload": payload, "registrant": principal.subject, "at": datetime.now(UTC)}
        )
        if existing is not None and existing.get("payload") != payload:
            raise Conflict(
                f"Reference {reference!r} was already used for another registration.",
                code="reference_reused",
                title="该登记编号已用于其他登记",
            ) from None
        fact = HourFact(
            source_key=f"registration:{principal.subject}\x1f{reference}",
            ce_number=reg.ce_number,
            year=reg.year,
            source=reg.source,
            category=reg.category,
            hours=hours,
            reference={"kind": "registration", "id": reference, "registrant": principal.subject},
            registered_by=principal.subject,
            school_id=teacher.get("school_id"),
            district=teacher.get("district"),
            detail=detail,
        )
        return await self.bank.credit(fact)

    async def _check_proof(self, principal: Principal, proof_id: str | None, teacher: Doc) -> None:
        if not proof_id:
            raise InvalidInput(
                "Xuexi Qiangguo hours need the sealed proof file (proof_id).",
                code="proof_required",
                title="学习强国学时登记须上传加盖单位公章的证明",
            )
        proof = await self.store.proof(proof_id)
        if proof is None or proof.get("uploaded_by") != principal.subject:
            raise InvalidInput("Unknown proof file.", code="proof_not_found", title="找不到该证明文件")

    async def upload_proof(self, principal: Principal, filename: str, data: bytes) -> Doc:
        """A sealed proof (PDF or image) of a school or the city, checked before it is stored."""
        require(principal, Role.SCHOOL_ADMIN, Role.CITY_ADMIN)
        return await self.save_proof(principal, (await self.files.save(filename, data)).as_doc())

    async def save_proof(self, principal: Principal, stored: Doc) -> Doc:
        doc = {
            "_id": stored["id"],
            **stored,
            "uploaded_by": principal.subject,
            "school_id": principal.school_id,
            "at": datetime.now(UTC),
        }
        await self.store.add_proof(doc)
        return doc

    async def register_rows(self, principal: Principal, rows: list[tuple[int, Registration | AppError]]) -> list[Doc]:
        """Bulk: one report line per row; a bad row never stops the others."""
        report: list[Doc] = []
        for row_number, item in rows:
            if isinstance(item, AppError):
                report.append(
                    {
                        "row": row_number,
                        "status": "error",
                        "code": item.code,
                        "message": item.title,
                        "detail": item.detail,
                    }
                )
                continue
            try:
                entry, created = await self.register(principal, item)
            except AppError as exc:
                report.append(
                    {"row": row_number, "status": "error", "code": exc.code, "message": exc.title, "detail": exc.detail}
                )
                continue
            report.append(
                {
                    "row": row_number,
                    "status": "credited" if created else "duplicate",
                    "ce_number": item.ce_number,
                    "entry_id": entry["_id"],
                    "credited": entry["credited"],
                    "not_credited": entry["not_credited"],
                    "reason": entry.get("reason_text"),
                }
            )
        return report
