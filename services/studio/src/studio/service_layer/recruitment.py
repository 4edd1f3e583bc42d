"""Recruitment in three rounds (报名与志愿): the city admin opens it, teachers apply, hosts decide."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jijiao_contracts.enums import Role
from jijiao_contracts.events.studio import StudioApplicationDecided
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.directory import TeacherDirectory
from studio.adapters.recruitment import ApplicationRepository, RecruitmentRepository
from studio.adapters.studios import StudioRepository
from studio.domain.problems import problem
from studio.domain.recruitment import (
    ApplicantRole,
    Decision,
    preference_problems,
    seat_counter,
    short_of_minimum,
    visible_in_round,
)
from studio.domain.studios import seat_cap
from studio.service_layer import access
from studio.service_layer.studios import schedule_of

#: How long a seat may be held before its application is marked admitted; past it, a hold whose
#: application is not admitted there is a crash's leftover and the repair gives the seat back.
SEAT_HOLD_GRACE_MS = 120_000

Doc = dict[str, Any]


@dataclass(frozen=True)
class NewRecruitment:
    cycle_start_year: int
    apply: tuple[datetime, datetime]
    rounds: tuple[tuple[datetime, datetime], tuple[datetime, datetime], tuple[datetime, datetime]]


@dataclass(frozen=True)
class NewApplication:
    role: ApplicantRole
    preferences: list[str]
    form: Doc


class RecruitmentService:
    def __init__(
        self,
        recruitments: RecruitmentRepository,
        applications: ApplicationRepository,
        studios: StudioRepository,
        directory: TeacherDirectory,
        clock: Clock,
    ) -> None:
        self.recruitments = recruitments
        self.applications = applications
        self.studios = studios
        self.directory = directory
        self.clock = clock

    def _now(self) -> int:
        return epoch_ms(self.clock.now())

    async def open(self, principal: Principal, new: NewRecruitment) -> Doc:
        access.require_city_admin(principal)
        doc = {
            "_id": uuid.uuid4().hex[:12],
            "cycle_start_year": new.cycle_start_year,
            "apply_from_ms": epoch_ms(new.apply[0]),
            "apply_to_ms": epoch_ms(new.apply[1]),
            "rounds": [{"from_ms": epoch_ms(a), "to_ms": epoch_ms(b)} for a, b in new.rounds],
            "created_ms": self._now(),
        }
        if errors := schedule_of(doc).problems():
            raise problem("invalid_windows", "; ".join(errors))
        await self.recruitments.add(doc)
        return self.recruitment_view(doc)

    def recruitment_view(self, doc: Doc) -> Doc:
        schedule = schedule_of(doc)
        now = self._now()
        return {
            **doc,
            "id": doc["_id"],
            "applying": schedule.applying(now),
            "round": schedule.round_at(now),
            "finished": schedule.finished(now),
        }

    async def get(self, principal: Principal, recruitment_id: str) -> Doc:
        doc = await self.recruitments.get(recruitment_id)
        if doc is None:
            raise problem("recruitment_not_found", f"Recruitment {recruitment_id} not found.")
        return self.recruitment_view(doc)

    async def apply(self, principal: Principal, recruitment_id: str, new: NewApplication) -> Doc:
        if not (principal.has_role(Role.TEACHER) and principal.ce_number):
            raise problem("recruitment_not_found", f"Recruitment {recruitment_id} not found.")
        recruitment = await self.recruitments.get(recruitment_id)
        if recruitment is None:
            raise problem("recruitment_not_found", f"Recruitment {recruitment_id} not found.")
        if not schedule_of(recruitment).applying(self._now()):
            raise problem("application_closed", "The application window is not open.")
        if errors := preference_problems(new.preferences):
            raise problem("invalid_preferences", "; ".join(errors))
        studios = {s["_id"]: s for s in await self.studios.many(new.preferences)}
        for studio_id in new.preferences:
            studio = studios.get(studio_id)
            if studio is None or studio["cycle_start_year"] != recruitment["cycle_start_year"]:
                raise problem("invalid_preferences", f"Studio {studio_id} does not recruit in this recruitment.")
            if studio["host_ce_number"] == principal.ce_number:
                raise problem("invalid_preferences", "A host cannot apply to their own studio.")
        teacher = await self.directory.get(principal.ce_number)
        doc = {
            "_id": f"{recruitment_id}:{principal.ce_number}",
            "recruitment_id": recruitment_id,
            "cycle_start_year": recruitment["cycle_start_year"],
            "ce_number": principal.ce_number,
            "name": (teacher or {}).get("name") or principal.name,
            "role": new.role.value,
            "form": new.form,
            "preferences": new.preferences,
            "prefs": {str(i): sid for i, sid in enumerate(new.preferences, start=1)},
            "status": "pending",
            "decisions": {},
            "assistant": False,
            "applied_ms": self._now(),
        }
        if not await self.applications.add(doc):
            raise problem("already_applied", "You already applied to this recruitment.")
        return doc

    async def mine(self, principal: Principal, recruitment_id: str) -> Doc:
        doc = await self.applications.get(f"{recruitment_id}:{principal.ce_number}") if principal.ce_number else None
        if doc is None:
            raise problem("application_not_found", "No application of yours in this recruitment.")
        doc.pop("outbox", None)
        return doc

    async def _host_studio(self, principal: Principal, studio_id: str) -> Doc:
        studio = await self.studios.get(studio_id)
        if studio is None:
            raise access.not_found(studio_id)
        access.require_host(principal, studio, await self.applications.membership(studio_id, principal.ce_number))
        return studio

    async def _open_rounds(self, studio: Doc) -> list[tuple[Doc, int]]:
        now = self._now()
        out = []
        for rec in await self.recruitments.of_cycle(studio["cycle_start_year"]):
            number = schedule_of(rec).round_at(now)
            if number is not None:
                out.append((rec, number))
        return out

    async def round_applications(self, principal: Principal, studio_id: str) -> tuple[int | None, list[Doc]]:
        """The applications of the current review round to the host's studio (none outside a window)."""
        studio = await self._host_studio(principal, studio_id)
        shown: list[Doc] = []
        current: int | None = None
        for rec, number in await self._open_rounds(studio):
            current = number
            docs = await self.applications.for_round([rec["_id"]], studio_id, number)
            shown += [self._host_view(d, number) for d in docs if visible_in_round(d, studio_id, number)]
        return current, shown

    @staticmethod
    def _host_view(doc: Doc, number: int) -> Doc:
        decision = (doc.get("decisions") or {}).get(str(number))
        return {**doc, "id": doc["_id"], "round": number, "decision": decision["decision"] if decision else None}

    async def decide(self, principal: Principal, studio_id: str, application_id: str, decision: Decision) -> Doc:
        studio = await self._host_studio(principal, studio_id)
        application = await self.applications.get(application_id)
        if application is None or studio_id not in (application.get("prefs") or {}).values():
            raise problem("application_not_found", f"Application {application_id} not found.")
        rec = await self.recruitments.get(application["recruitment_id"])
        number = schedule_of(rec).round_at(self._now()) if rec else None
        if number is None:
            raise problem("not_in_review", "No review window of this recruitment is open now.")
        if not visible_in_round(application, studio_id, number):
            raise problem("application_not_found", f"Application {application_id} is not in this round of your studio.")
        if str(number) in (application.get("decisions") or {}):
            raise problem("already_decided", "This application was decided already.")
        role = ApplicantRole(application["role"])
        now = self._now()
        event = StudioApplicationDecided(
            application_id=application_id,
            ce_number=application["ce_number"],
            studio_id=studio_id,
            studio_name=studio["name"],
            role=role.value,
            round=number,
            decision=decision.value,
        )
        entry = outbox_entry(event, producer="studio")
        fields: Doc = {f"decisions.{number}": {"studio_id": studio_id, "decision": decision.value, "at_ms": now}}
        if decision is Decision.REJECTED:
            outcome = await self.applications.decide(application_id, number, fields, [entry])
            if outcome != "ok":
                raise problem("already_decided", "This application was decided already.")
            return await self._decided(application_id, number)
        counter = seat_counter(role)
        took = await self.studios.hold_seat(studio_id, counter, seat_cap(studio, role.value), application_id, now)
        if not took and not await self._holds_seat(studio_id, application_id):
            raise problem("studio_full", f"Studio {studio_id} has no {counter} seat left.")
        # Not took but held: a retry after a crash between the two writes uses the seat it already holds.
        fields |= {"status": "admitted", "studio_id": studio_id, "joined_ms": now, "joined_year": self.clock.now().year}
        if role is ApplicantRole.MEMBER:
            fields["member_key"] = f"{application['cycle_start_year']}:{application['ce_number']}"
        outcome = await self.applications.decide(application_id, number, fields, [entry])
        if outcome != "ok":
            if took:  # only the call that took the seat gives it back (a parallel duplicate must not)
                await self.studios.give_back_hold(studio_id, application_id, counter)
            if outcome == "member_elsewhere":
                raise problem("already_member", "The teacher is already a member of a studio in this cycle.")
            raise problem("already_decided", "This application was decided already.")
        # The hold stays until the repair job settles it: no third write on the decision storm's path.
        return await self._decided(application_id, number)

    async def _holds_seat(self, studio_id: str, application_id: str) -> bool:
        return await self.studios.holds_seat(studio_id, application_id)

    async def repair_seats(self, grace_ms: int = SEAT_HOLD_GRACE_MS) -> int:
        """Crash repair, idempotent (the worker runs it at start and every 30 s): a seat held for longer
        than ``grace_ms`` whose application is admitted to that studio is settled; any other is given back
        (the process died after taking the seat and before marking the application admitted). Returns
        the number of seats given back."""
        given_back = 0
        now = self._now()
        for studio in await self.studios.with_holds():
            for holder, hold in (studio.get("seat_holds") or {}).items():
                if now - int(hold.get("at_ms", 0)) < grace_ms:
                    continue  # a decision may still be between its two writes
                application = await self.applications.get(holder)
                if (
                    application
                    and application.get("status") == "admitted"
                    and application.get("studio_id") == studio["_id"]
                ):
                    await self.studios.settle_hold(studio["_id"], holder)
                elif await self.studios.give_back_hold(studio["_id"], holder, hold["counter"]):
                    given_back += 1
        return given_back

    async def _decided(self, application_id: str, number: int) -> Doc:
        doc = await self.applications.get(application_id)
        assert doc is not None
        doc.pop("outbox", None)
        return self._host_view(doc, number)

    async def short_studios(self, principal: Principal, recruitment_id: str) -> Doc:
        """Studios of the cycle still below their minimum (listed for 另行安排 once round 3 ended)."""
        access.require_city_admin(principal)
        rec = await self.recruitments.get(recruitment_id)
        if rec is None:
            raise problem("recruitment_not_found", f"Recruitment {recruitment_id} not found.")
        short = [
            {"id": s["_id"], "name": s["name"], "members": s.get("members", 0), "minimum": s["member_quota"]["min"]}
            for s in await self.studios.of_cycle(rec["cycle_start_year"])
            if short_of_minimum(s.get("members", 0), s["member_quota"]["min"])
        ]
        return {"final": schedule_of(rec).finished(self._now()), "studios": short}
