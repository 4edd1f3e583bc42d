"""学时申报: a teacher declares training outside the platform with attachments; the school reviews
first (approve, or return with a mandatory reason), the district reviews last; a returned declaration
is resubmitted as a new round. Every round's reviews stay on the document. Hours are credited on the
final approval (keyed on the declaration, so once)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from hours.adapters.declarations import DeclarationRepository
from hours.adapters.files import FileStore
from hours.adapters.repositories import Teachers
from hours.service_layer.access import (
    covers_district,
    is_school_admin_of,
    is_self,
    require,
    scope_filter,
    teacher_not_found,
)
from hours.service_layer.crediting import HourFact, HoursBank
from hours.service_layer.rules import RulesService
from jijiao_contracts import Actor
from jijiao_contracts.enums import HourCategory, Role
from jijiao_contracts.events.hours import PRODUCER, DeclarationReviewed
from jijiao_kit.auth import Principal
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]

DECLARABLE = (
    "national_provincial_training",
    "degree_related",
    "degree_unrelated",
    "research_output_main",
    "research_output_other",
    "vocational_qualification",
    "industry_training",
    "mental_health_certificate",
)
STATUSES = ("submitted", "initial_approved", "approved", "returned")


def _not_found(declaration_id: str) -> NotFound:
    return NotFound(f"No declaration {declaration_id}.", code="declaration_not_found", title="找不到该学时申报")


def _state_conflict(status: str) -> Conflict:
    return Conflict(
        f"The declaration is {status}.", code="invalid_declaration_state", title="该申报当前状态不允许此操作"
    )


class Declarations:
    def __init__(
        self,
        declarations: DeclarationRepository,
        teachers: Teachers,
        bank: HoursBank,
        rules: RulesService,
        files: FileStore,
        *,
        max_files: int,
    ) -> None:
        self.declarations = declarations
        self.teachers = teachers
        self.bank = bank
        self.rules = rules
        self.files = files
        self.max_files = max_files

    async def _validated(
        self, fields: Doc, files: list[tuple[str, bytes]], *, need_files: bool
    ) -> tuple[Doc, list[Doc]]:
        training_type = fields.get("training_type")
        if training_type not in DECLARABLE:
            raise InvalidInput(
                f"training_type must be one of {', '.join(DECLARABLE)}.",
                code="invalid_training_type",
                title="培训类型无效",
            )
        hours = fields.get("hours")
        if not isinstance(hours, int | float) or not 0 < hours <= 1000:
            raise InvalidInput("hours must be between 0 and 1000.", code="invalid_hours", title="学时数无效")
        title = (fields.get("title") or "").strip()
        if not title:
            raise InvalidInput("title is required.", code="title_required", title="请填写培训或项目名称")
        if need_files and not files:
            raise InvalidInput(
                "At least one attachment is required.", code="attachment_required", title="请上传证书或证明材料"
            )
        if len(files) > self.max_files:
            raise InvalidInput(
                f"At most {self.max_files} attachments.", code="too_many_attachments", title="附件数量超过限制"
            )
        checked = [await self.files.check(name, data) for name, data in files]  # all before storing any
        rules = await self.rules.for_year(int(fields["year"]))
        category = rules.sources[training_type].categories[0]
        stored = [
            (await self.files.store(name, data, media_type)).as_doc()
            for (name, data), media_type in zip(files, checked, strict=True)
        ]
        clean = {
            "year": int(fields["year"]),
            "training_type": training_type,
            "category": category.value,
            "hours": round(float(hours), 2),
            "title": title[:200],
            "institution": (fields.get("institution") or "").strip()[:200],
            "description": (fields.get("description") or "").strip()[:2000],
        }
        return clean, stored

    async def submit(self, principal: Principal, fields: Doc, files: list[tuple[str, bytes]]) -> Doc:
        require(principal, Role.TEACHER)
        ce_number = principal.ce_number or ""
        teacher = await self.teachers.get(ce_number)
        if teacher is None:
            raise teacher_not_found(ce_number)
        clean, stored = await self._validated(fields, files, need_files=True)
        now = datetime.now(UTC)
        declaration_id = uuid.uuid4().hex
        doc = {
            "_id": declaration_id,
            "ce_number": ce_number,
            "teacher_name": teacher.get("name"),
            "school_id": teacher.get("school_id"),
            "district": teacher.get("district"),
            **clean,
            "attachments": {item["id"]: item for item in stored},
            "status": "submitted",
            "round": 1,
            "rounds": {"1": {"submitted_at": now, **clean, "attachment_ids": [item["id"] for item in stored]}},
            "version": 1,
            "created_at": now,
            "updated_at": now.isoformat(),
        }
        await self.declarations.add(doc)
        return doc

    async def resubmit(
        self, principal: Principal, declaration_id: str, fields: Doc, files: list[tuple[str, bytes]]
    ) -> Doc:
        doc = await self._own(principal, declaration_id)
        if doc["status"] != "returned":
            raise _state_conflict(doc["status"])
        clean, stored = await self._validated({**doc, **fields}, files, need_files=False)
        attachments = {item["id"]: item for item in stored} if stored else doc["attachments"]
        round_no = int(doc["round"]) + 1
        now = datetime.now(UTC)
        written = await self.declarations.resubmit(
            declaration_id,
            doc["version"],
            {**clean, "attachments": attachments, "updated_at": now.isoformat()},
            round_no,
            {"submitted_at": now, **clean, "attachment_ids": list(attachments)},
        )
        if not written:
            raise _state_conflict("changed")
        return await self.get(principal, declaration_id)

    async def review(
        self,
        principal: Principal,
        declaration_id: str,
        level: Literal["initial", "final"],
        decision: Literal["approve", "return"],
        reason: str | None,
    ) -> Doc:
        doc = await self.declarations.get(declaration_id)
        if doc is None:
            raise _not_found(declaration_id)
        if level == "initial":
            allowed = is_school_admin_of(principal, doc["school_id"])
            expected = "submitted"
        else:
            allowed = covers_district(principal, doc["district"])
            expected = "initial_approved"
        if not allowed:
            raise Forbidden("You may not review this declaration.", code="forbidden", title="无权审核该申报")
        reason = (reason or "").strip() or None
        if decision == "return" and not reason:
            raise InvalidInput(
                "A returned declaration needs a reason.", code="reason_required", title="退回时必须填写原因"
            )
        if doc["status"] != expected:
            raise _state_conflict(doc["status"])
        now = datetime.now(UTC)
        status = "returned"
        if decision == "approve":
            status = "initial_approved" if level == "initial" else "approved"
        event = DeclarationReviewed(
            declaration_id=declaration_id,
            ce_number=doc["ce_number"],
            year=doc["year"],
            title=doc["title"],
            level=level,
            decision="approved" if decision == "approve" else "returned",
            reason=reason,
            reviewer=principal.subject,
        )
        review = {
            "decision": event.decision,
            "reason": reason,
            "reviewer": principal.subject,
            "reviewer_name": principal.name,
            "at": now,
        }
        written = await self.declarations.review(
            declaration_id,
            expected=expected,
            version=doc["version"],
            status=status,
            round_no=int(doc["round"]),
            level=level,
            review=review,
            updated_at=now.isoformat(),
            events=[outbox_entry(event, producer=PRODUCER, actor=Actor(subject=principal.subject, role=level))],
        )
        if not written:
            raise _state_conflict("changed")
        if status == "approved":
            await self.credit_approved(declaration_id)
        return await self.get(principal, declaration_id)

    async def credit_approved(self, declaration_id: str) -> Doc | None:
        doc = await self.declarations.get(declaration_id)
        if doc is None or doc["status"] != "approved":
            return None
        final = doc["rounds"][str(doc["round"])].get("final") or {}
        entry, _ = await self.bank.credit(
            HourFact(
                source_key=f"declaration:{declaration_id}",
                ce_number=doc["ce_number"],
                year=doc["year"],
                source=doc["training_type"],
                category=HourCategory(doc["category"]),
                hours=float(doc["hours"]),
                reference={"kind": "declaration", "id": declaration_id, "title": doc["title"]},
                registered_by=final.get("reviewer", "system"),
                school_id=doc.get("school_id"),
                district=doc.get("district"),
            )
        )
        if doc.get("entry_id") != entry["_id"]:
            await self.declarations.set_entry(declaration_id, entry["_id"])
        return entry

    async def _own(self, principal: Principal, declaration_id: str) -> Doc:
        doc = await self.declarations.get(declaration_id)
        if doc is None or not is_self(principal, doc["ce_number"]):
            raise _not_found(declaration_id)
        return doc

    def _visible(self, principal: Principal, doc: Doc) -> bool:
        scope = scope_filter(principal)
        return all(doc.get(key) == value for key, value in scope.items())

    async def get(self, principal: Principal, declaration_id: str) -> Doc:
        doc = await self.declarations.get(declaration_id)
        if doc is None or not self._visible(principal, doc):
            raise _not_found(declaration_id)
        return doc

    async def attachment(self, principal: Principal, declaration_id: str, attachment_id: str) -> tuple[Doc, bytes]:
        doc = await self.get(principal, declaration_id)
        meta = (doc.get("attachments") or {}).get(attachment_id)
        if meta is None:
            for round_doc in (doc.get("rounds") or {}).values():  # earlier rounds stay readable
                if attachment_id in round_doc.get("attachment_ids", []):
                    meta = {"id": attachment_id, "filename": attachment_id, "content_type": "application/octet-stream"}
        data = self.files.read(attachment_id) if meta else None
        if meta is None or data is None:
            raise NotFound("No such attachment.", code="attachment_not_found", title="找不到该附件")
        return meta, data

    async def search(self, principal: Principal, filters: Doc, *, skip: int = 0, limit: int = 200) -> list[Doc]:
        """A page of the declarations matching the §6 filters in the caller's scope, newest first."""
        equal: Doc = {}
        for key in ("year", "training_type", "status", "ce_number"):
            if filters.get(key) is not None:
                equal[key] = filters[key]
        contains = {key: str(filters[key]) for key in ("title", "institution", "teacher_name") if filters.get(key)}
        scope = scope_filter(principal)
        if any(key in equal and equal[key] != value for key, value in scope.items()):
            return []  # a filter outside the caller's scope matches nothing
        equal.update(scope)
        return await self.declarations.search(equal, contains, skip=skip, limit=limit)
