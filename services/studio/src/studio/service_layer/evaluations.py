"""Member evaluation per year and per cycle, and the cycle-excellent certificate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jijiao_contracts import Actor
from jijiao_contracts.events.studio import StudioMemberEvaluated
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.activities import ActivityRepository, ParticipationRepository, checkins_of
from studio.adapters.certificates import certificate_pdf
from studio.adapters.evaluations import EvaluationRepository
from studio.adapters.recruitment import ApplicationRepository
from studio.domain import evaluation as rules
from studio.domain.evaluation import Grade
from studio.domain.problems import problem
from studio.service_layer import access
from studio.service_layer.access import Standing
from studio.service_layer.studios import StudioService

Doc = dict[str, Any]


class EvaluationService:
    def __init__(
        self,
        studios: StudioService,
        evaluations: EvaluationRepository,
        applications: ApplicationRepository,
        activities: ActivityRepository,
        parts: ParticipationRepository,
        clock: Clock,
    ) -> None:
        self.studios = studios
        self.evaluations = evaluations
        self.applications = applications
        self.activities = activities
        self.parts = parts
        self.clock = clock

    def _now(self) -> int:
        return epoch_ms(self.clock.now())

    async def _studio(self, principal: Principal, studio_id: str, period: str) -> tuple[Doc, Standing]:
        studio, who = await self.studios.visible(principal, studio_id)
        if who is Standing.NONE:
            raise access.not_found(studio_id)
        if error := rules.period_problem(period, (studio["cycle_start_year"], studio["cycle_end_year"])):
            raise problem("invalid_period", error)
        return studio, who

    async def attendance(self, studio_id: str, member: Doc, period: str) -> tuple[int, int]:
        """(required, attended) offline check-ins of the member in the period, from the check-ins."""
        now = self._now()
        required = [
            a["_id"]
            for a in await self.activities.of_studio(studio_id, published_only=True)
            if a["mode"] == "offline"
            and ((a.get("options") or {}).get("checkin") or {}).get("required")
            and a["ends_ms"] <= now
            and a["starts_ms"] >= member.get("joined_ms", 0)
            and (period == "cycle" or datetime.fromtimestamp(a["starts_ms"] / 1000, UTC).year == int(period))
        ]
        return len(required), await checkins_of(self.parts, member["ce_number"], required)

    async def sheet(self, principal: Principal, studio_id: str, period: str) -> list[Doc]:
        """The host's sheet (or a member's own row): grades with the computed attendance."""
        studio, who = await self._studio(principal, studio_id, period)
        members = await self.applications.members(studio_id, "member")
        if who not in (Standing.HOST, Standing.ADMIN):
            members = [m for m in members if m["ce_number"] == principal.ce_number]
            if who is Standing.STUDENT or not members:
                raise access.not_found(studio_id)
        grades = {e["ce_number"]: e for e in await self.evaluations.of_period(studio_id, period)}
        end = rules.period_end_ms(period, studio["cycle_end_year"])
        rows = []
        for m in members:
            required, attended = await self.attendance(studio_id, m, period)
            given = grades.get(m["ce_number"]) or {}
            rows.append(
                {
                    "ce_number": m["ce_number"],
                    "name": m.get("name"),
                    "period": period,
                    "grade": given.get("grade"),
                    "comment": given.get("comment"),
                    "required_offline": required,
                    "attended_offline": attended,
                    "must_be_unqualified": rules.too_absent(required, attended),
                    "may_be_excellent": rules.long_enough(m.get("joined_ms", 0), end),
                }
            )
        return rows

    async def evaluate(
        self, principal: Principal, studio_id: str, period: str, ce_number: str, grade: Grade, comment: str
    ) -> Doc:
        studio, who = await self._studio(principal, studio_id, period)
        if who is not Standing.HOST:
            raise problem("not_host", f"Only the host of studio {studio_id} evaluates its members.")
        if not rules.editable(self._now(), studio["cycle_end_year"]):
            raise problem("evaluation_closed", "The cycle has ended; evaluations are final.")
        member = await self.applications.membership(studio_id, ce_number)
        if member is None or member.get("role") != "member":
            raise problem("member_not_found", f"{ce_number} is not a member of studio {studio_id}.")
        required, attended = await self.attendance(studio_id, member, period)
        end = rules.period_end_ms(period, studio["cycle_end_year"])
        if code := rules.grade_problem(
            grade, joined_ms=member.get("joined_ms", 0), end_ms=end, required=required, attended=attended
        ):
            raise problem(code, f"{grade.value} is not allowed for {ce_number} in {period}.")
        evaluation_id = f"{studio_id}:{period}:{ce_number}"
        previous = await self.evaluations.get(evaluation_id)
        before = previous["grade"] if previous else None
        quota_key = f"{studio_id}:{period}"
        taking = grade is Grade.EXCELLENT and before != Grade.EXCELLENT.value
        if taking:
            cap = rules.excellent_cap(studio.get("members", 0))
            if not await self.evaluations.take_excellent(quota_key, cap):
                raise problem("excellent_quota", f"At most {cap} members of this studio are excellent.")
        doc = {
            "_id": evaluation_id,
            "studio_id": studio_id,
            "period": period,
            "ce_number": ce_number,
            "name": member.get("name"),
            "grade": grade.value,
            "comment": comment,
            "at_ms": self._now(),
        }
        event = StudioMemberEvaluated(
            evaluation_id=evaluation_id,
            ce_number=ce_number,
            studio_id=studio_id,
            studio_name=studio["name"],
            period=period,
            grade=grade.value,
        )
        entry = outbox_entry(event, producer="studio", actor=Actor(subject=principal.subject))
        if not await self.evaluations.write(doc, before, [entry]):
            if taking:
                await self.evaluations.release_excellent(quota_key)
            raise problem("already_decided", "Another edit of this evaluation came first; reload and try again.")
        if before == Grade.EXCELLENT.value and grade is not Grade.EXCELLENT:
            await self.evaluations.release_excellent(quota_key)
        return doc

    async def certificate(self, principal: Principal, studio_id: str, ce_number: str) -> bytes:
        studio, who = await self._studio(principal, studio_id, "cycle")
        if who not in (Standing.HOST, Standing.ADMIN) and principal.ce_number != ce_number:
            raise problem("evaluation_not_found", "No such evaluation.")
        doc = await self.evaluations.get(f"{studio_id}:cycle:{ce_number}")
        if doc is None:
            raise problem("evaluation_not_found", "No such evaluation.")
        if doc["grade"] != Grade.EXCELLENT.value or rules.editable(self._now(), studio["cycle_end_year"]):
            raise problem(
                "certificate_unavailable", "Certificates are issued to cycle-excellent members when the cycle ends."
            )
        issued = self.clock.now().astimezone(UTC)
        return certificate_pdf(
            name=doc.get("name") or ce_number,
            ce_number=ce_number,
            studio_name=studio["name"],
            cycle=f"{studio['cycle_start_year']}—{studio['cycle_end_year']}年",
            issued=f"{issued.year}年{issued.month}月{issued.day}日",
        )
