"""Terms (期): numbering, dates and the selection window (DOMAIN §2). Pure rules, no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

TERM_CODE = re.compile(r"^(\d{2})(0[1-9])$")


class TermRuleViolation(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def aware(moment: datetime | str) -> datetime:
    """A stored time as an aware datetime. The embedded store hands inserted datetimes back without
    tzinfo and datetimes written by ``$set`` as ISO strings; both mean UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TermDates:
    selection_opens_at: datetime
    selection_closes_at: datetime
    study_starts_on: date
    study_ends_on: date
    payment_due_at: datetime


def validate_term(code: str, year: int, dates: TermDates) -> None:
    """A term code is two year digits and the half (``1602`` = 2016, second half); the window opens
    before it closes, study starts before it ends and payment is due no earlier than the window's end."""
    match = TERM_CODE.match(code)
    if not match:
        raise TermRuleViolation("invalid_term_code", "Term code must be 4 digits: year (2) + number (01-09).")
    if int(match.group(1)) != year % 100:
        raise TermRuleViolation("invalid_term_code", f"Term code {code} does not belong to year {year}.")
    opens, closes = aware(dates.selection_opens_at), aware(dates.selection_closes_at)
    if opens >= closes:
        raise TermRuleViolation("invalid_term_dates", "The selection window must open before it closes.")
    if dates.study_starts_on > dates.study_ends_on:
        raise TermRuleViolation("invalid_term_dates", "The study period must start before it ends.")
    if aware(dates.payment_due_at) < closes:
        raise TermRuleViolation("invalid_term_dates", "Payment cannot be due before the selection window closes.")


def window_open(term: Mapping[str, object], now: datetime) -> bool:
    """Inside the selection window (选课时间): opens_at <= now < closes_at."""
    opens = aware(term["selection_opens_at"])  # type: ignore[arg-type]
    closes = aware(term["selection_closes_at"])  # type: ignore[arg-type]
    return opens <= aware(now) < closes


def seconds_until_close(term: Mapping[str, object], now: datetime) -> int | None:
    """The countdown shown to teachers during the window; None outside it."""
    if not window_open(term, now):
        return None
    return int((aware(term["selection_closes_at"]) - aware(now)).total_seconds())  # type: ignore[arg-type]
