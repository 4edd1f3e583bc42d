"""Bulletins (公告简报): announcements, briefs, the regulation, cycle and annual plans."""

from __future__ import annotations

import uuid
from typing import Any

from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.bulletins import BulletinRepository
from studio.adapters.richtext import clean_html
from studio.domain import bulletins as rules
from studio.domain.bulletins import BulletinKind
from studio.domain.problems import problem
from studio.service_layer import access
from studio.service_layer.access import Standing
from studio.service_layer.studios import StudioService

Doc = dict[str, Any]


class BulletinService:
    def __init__(self, studios: StudioService, bulletins: BulletinRepository, clock: Clock) -> None:
        self.studios = studios
        self.bulletins = bulletins
        self.clock = clock

    async def _as_editor(self, principal: Principal, studio_id: str) -> Doc:
        studio, who = await self.studios.visible(principal, studio_id)
        if who not in (Standing.HOST, Standing.ASSISTANT):
            raise problem("not_host", f"Only the host or an assistant of studio {studio_id} may do this.")
        return studio

    async def create(
        self,
        principal: Principal,
        studio_id: str,
        kind: BulletinKind,
        title: str,
        body: str,
        year: int | None,
        publish: bool,
    ) -> Doc:
        studio = await self._as_editor(principal, studio_id)
        if error := rules.year_problem(kind, year, (studio["cycle_start_year"], studio["cycle_end_year"])):
            raise problem("invalid_bulletin", error)
        now = epoch_ms(self.clock.now())
        doc: Doc = {
            "_id": uuid.uuid4().hex[:12],
            "studio_id": studio_id,
            "kind": kind.value,
            "title": title,
            "body": clean_html(body),
            "year": year if kind is BulletinKind.ANNUAL_PLAN else None,
            "status": "published" if publish else "draft",
            "created_ms": now,
            "published_ms": now if publish else None,
            "author": principal.ce_number,
        }
        if (key := rules.slot(studio_id, kind, year)) is not None:
            doc["slot"] = key
        if kind is BulletinKind.ANNUAL_PLAN and not await self.bulletins.take_annual(studio_id, rules.MAX_ANNUAL_PLANS):
            raise problem("bulletin_limit", f"A studio has at most {rules.MAX_ANNUAL_PLANS} annual plans.")
        if not await self.bulletins.add(doc):
            if kind is BulletinKind.ANNUAL_PLAN:
                await self.bulletins.release_annual(studio_id)
            raise problem("bulletin_limit", f"The studio has its {kind.value} {year or ''} already.".replace("  ", " "))
        return doc

    async def listing(self, principal: Principal, studio_id: str, kind: str | None) -> list[Doc]:
        _, who = await self.studios.visible(principal, studio_id)
        if who is Standing.NONE:
            raise access.not_found(studio_id)
        return await self.bulletins.of_studio(
            studio_id, kind, published_only=who not in (Standing.HOST, Standing.ASSISTANT)
        )

    async def home(self, principal: Principal, studio_id: str) -> Doc:
        """What the studio's home page shows: the regulation, the latest cycle plan, the annual plans and
        the latest announcements and briefs."""
        items = await self.listing(principal, studio_id, None)
        published = [b for b in items if b["status"] == "published"]

        def of(kind: BulletinKind) -> list[Doc]:
            return [b for b in published if b["kind"] == kind.value]

        return {
            "regulation": next(iter(of(BulletinKind.REGULATION)), None),
            "cycle_plan": next(iter(of(BulletinKind.CYCLE_PLAN)), None),
            "annual_plans": sorted(of(BulletinKind.ANNUAL_PLAN), key=lambda b: b["year"]),
            "announcements": of(BulletinKind.ANNOUNCEMENT)[:5],
            "briefs": of(BulletinKind.BRIEF)[:5],
        }

    async def _existing(self, principal: Principal, studio_id: str, bulletin_id: str) -> Doc:
        await self._as_editor(principal, studio_id)
        doc = await self.bulletins.get(studio_id, bulletin_id)
        if doc is None:
            raise problem("bulletin_not_found", f"Bulletin {bulletin_id} not found.")
        return doc

    async def edit(self, principal: Principal, studio_id: str, bulletin_id: str, fields: Doc) -> Doc:
        doc = await self._existing(principal, studio_id, bulletin_id)
        kind = BulletinKind(doc["kind"])
        if "body" in fields:
            fields["body"] = clean_html(fields["body"])
        if fields.pop("publish", False):
            fields |= {"status": "published", "published_ms": epoch_ms(self.clock.now())}
        guard = "draft" if kind in rules.FIXED_WHEN_PUBLISHED else None
        if not rules.may_change(kind, doc["status"]) or not await self.bulletins.update_if(
            studio_id, bulletin_id, guard, fields
        ):
            raise problem("bulletin_fixed", "A published regulation or plan cannot be changed.")
        updated = await self.bulletins.get(studio_id, bulletin_id)
        assert updated is not None
        return updated

    async def delete(self, principal: Principal, studio_id: str, bulletin_id: str) -> None:
        doc = await self._existing(principal, studio_id, bulletin_id)
        kind = BulletinKind(doc["kind"])
        guard = "draft" if kind in rules.FIXED_WHEN_PUBLISHED else None
        if not rules.may_change(kind, doc["status"]) or not await self.bulletins.delete_if(
            studio_id, bulletin_id, guard
        ):
            raise problem("bulletin_fixed", "A published regulation or plan cannot be deleted.")
        if kind is BulletinKind.ANNUAL_PLAN:
            await self.bulletins.release_annual(studio_id)
