"""Term use cases (DOMAIN §2): the city schedules terms; TermScheduled goes out with the write."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from enrollment.adapters.catalogue_repository import TtlCache
from enrollment.adapters.repositories import AlreadyExists
from enrollment.adapters.terms_repository import TermRepository
from enrollment.domain.terms import TermDates, TermRuleViolation, aware, validate_term
from enrollment.service_layer.roster import actor_of
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import PRODUCER, TermScheduled
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]


@dataclass(frozen=True)
class NewTerm:
    code: str
    year: int
    selection_opens_at: datetime
    selection_closes_at: datetime
    study_starts_on: date
    study_ends_on: date
    payment_due_at: datetime
    name: str | None = None


def _stored_date(value: date) -> datetime:
    """Dates are stored as UTC midnight datetimes (BSON has no date type)."""
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def term_date(value: Any) -> date:
    """A stored study date (UTC midnight datetime, or its ISO string when written by ``$set``)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).date()
    return value.date() if isinstance(value, datetime) else value


class TermService:
    def __init__(self, terms: TermRepository, clock: Clock) -> None:
        self.terms = terms
        self.clock = clock
        self._cache = TtlCache(2.0)

    async def create_term(self, principal: Principal, new: NewTerm) -> Doc:
        if not principal.has_role(Role.CITY_ADMIN):
            raise Forbidden(
                "Only the city admin schedules terms.", code="term_forbidden", title="只有市级管理员可以设置培训期"
            )
        dates = TermDates(
            new.selection_opens_at, new.selection_closes_at, new.study_starts_on, new.study_ends_on, new.payment_due_at
        )
        try:
            validate_term(new.code, new.year, dates)
        except TermRuleViolation as exc:
            raise InvalidInput(exc.detail, code=exc.code, title="培训期的编号或日期不正确") from exc
        term = {
            "_id": new.code,
            "year": new.year,
            "name": new.name or f"{new.code} 期",
            "selection_opens_at": aware(new.selection_opens_at),
            "selection_closes_at": aware(new.selection_closes_at),
            "study_starts_on": _stored_date(new.study_starts_on),
            "study_ends_on": _stored_date(new.study_ends_on),
            "payment_due_at": aware(new.payment_due_at),
            "special_users_flagged_at": None,
            "created_at": self.clock.now(),
            "created_by": principal.subject,
        }
        event = TermScheduled(term=new.code, **{k: v for k, v in asdict(new).items() if k not in ("code", "name")})
        try:
            await self.terms.add(term, [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))])
        except AlreadyExists as exc:
            raise Conflict(f"Term {new.code} already exists.", code="term_exists", title="该培训期已存在") from exc
        return term

    async def reschedule(self, principal: Principal, code: str, changes: dict[str, Any]) -> Doc:
        """Change a term's dates (city admin); TermScheduled goes out again with the new dates."""
        if not principal.has_role(Role.CITY_ADMIN):
            raise Forbidden(
                "Only the city admin schedules terms.", code="term_forbidden", title="只有市级管理员可以设置培训期"
            )
        term = await self.get_term(code)
        merged: dict[str, Any] = {
            "selection_opens_at": aware(changes.get("selection_opens_at") or term["selection_opens_at"]),
            "selection_closes_at": aware(changes.get("selection_closes_at") or term["selection_closes_at"]),
            "study_starts_on": changes.get("study_starts_on") or term_date(term["study_starts_on"]),
            "study_ends_on": changes.get("study_ends_on") or term_date(term["study_ends_on"]),
            "payment_due_at": aware(changes.get("payment_due_at") or term["payment_due_at"]),
        }
        try:
            validate_term(code, term["year"], TermDates(**merged))
        except TermRuleViolation as exc:
            raise InvalidInput(exc.detail, code=exc.code, title="培训期的编号或日期不正确") from exc
        event = TermScheduled(term=code, year=term["year"], **merged)
        fields = {
            **merged,
            "study_starts_on": _stored_date(merged["study_starts_on"]),
            "study_ends_on": _stored_date(merged["study_ends_on"]),
            "updated_at": self.clock.now(),
            "updated_by": principal.subject,
        }
        await self.terms.reschedule(code, fields, [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))])
        self._cache = TtlCache(self._cache.ttl_seconds)
        return await self.get_term(code)

    async def get_term(self, code: str) -> Doc:
        term = await self.terms.get(code)
        if term is None:
            raise NotFound(f"Term {code} not found.", code="term_not_found", title="培训期不存在")
        return term

    async def get_term_cached(self, code: str) -> Doc:
        """The term for the selection hot path (dates may be up to 2 s old; the window itself is
        computed per request from the clock)."""
        term = self._cache.get(code)
        if term is None:
            term = await self.get_term(code)
            self._cache.put(code, term)
        return term

    async def list_terms(self, year: int | None = None) -> list[Doc]:
        return await self.terms.list(year=year)
