"""Files, posts (resources, articles, achievements), funds, studio indicators and the yearly task view."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.activities import ActivityRepository
from studio.adapters.bulletins import BulletinRepository
from studio.adapters.content import FileRepository, FundsRepository, IndicatorRepository, PostRepository
from studio.adapters.evaluations import EvaluationRepository
from studio.adapters.recruitment import ApplicationRepository
from studio.adapters.richtext import clean_html
from studio.adapters.uploads import DOCUMENTS, EVIDENCE, FileStore, check_upload
from studio.domain import content as rules
from studio.domain.content import PostKind
from studio.domain.problems import problem
from studio.service_layer import access
from studio.service_layer.access import Standing
from studio.service_layer.studios import StudioService

Doc = dict[str, Any]
REVIEWERS = (Standing.HOST, Standing.ASSISTANT)
PURPOSES = {"document": DOCUMENTS, "evidence": EVIDENCE}


def _id() -> str:
    return uuid.uuid4().hex[:12]


def _year_bounds(year: int) -> tuple[int, int]:
    start = datetime(year, 1, 1, tzinfo=UTC)
    return epoch_ms(start), epoch_ms(datetime(year + 1, 1, 1, tzinfo=UTC))


def evidence_link(studio_id: str, check: str | None, year: int) -> str | None:
    """Where the studio's own material for an indicator is (for the front end's evidence link)."""
    base = f"/v1/studios/{studio_id}"
    return {
        "annual_plan": f"{base}/bulletins?kind=annual_plan",
        "activities_organised": f"{base}/activities",
        "evaluations_done": f"{base}/evaluations/{year}",
        "budget_planned": f"{base}/funds/{year}",
        "funds_reported": f"{base}/funds/{year}",
    }.get(check or "")


class ContentService:
    def __init__(
        self,
        studios: StudioService,
        files: FileRepository,
        store: FileStore,
        posts: PostRepository,
        funds: FundsRepository,
        indicators: IndicatorRepository,
        activities: ActivityRepository,
        bulletins: BulletinRepository,
        evaluations: EvaluationRepository,
        applications: ApplicationRepository,
        clock: Clock,
    ) -> None:
        self.studios = studios
        self.files = files
        self.store = store
        self.posts = posts
        self.funds = funds
        self.indicators = indicators
        self.activities = activities
        self.bulletins = bulletins
        self.evaluations = evaluations
        self.applications = applications
        self.clock = clock

    def _now(self) -> int:
        return epoch_ms(self.clock.now())

    async def _participant(self, principal: Principal, studio_id: str) -> tuple[Doc, Standing]:
        studio, who = await self.studios.visible(principal, studio_id)
        if who in (Standing.NONE,):
            raise access.not_found(studio_id)
        return studio, who

    # -- files ------------------------------------------------------------------------------------
    async def upload(self, principal: Principal, studio_id: str, filename: str, data: bytes, purpose: str) -> Doc:
        _, who = await self._participant(principal, studio_id)
        if who is Standing.ADMIN or not principal.ce_number:
            raise problem("not_participant", "Only the studio's participants upload files.")
        ext = await check_upload(filename, data, PURPOSES.get(purpose, DOCUMENTS))  # refused before anything is stored
        doc = {
            "_id": _id(),
            "studio_id": studio_id,
            "name": filename[-200:],
            "ext": ext,
            "size": len(data),
            "digest": self.store.put(data),
            "owner": principal.ce_number,
            "created_ms": self._now(),
        }
        await self.files.add(doc)
        return doc

    async def download(self, principal: Principal, studio_id: str, file_id: str) -> tuple[Doc, bytes]:
        await self._participant(principal, studio_id)
        doc = await self.files.get({"_id": file_id, "studio_id": studio_id})
        data = self.store.get(doc["digest"]) if doc else None
        if doc is None or data is None:
            raise problem("file_not_found", f"File {file_id} not found.")
        return doc, data

    async def _own_files(self, studio_id: str, ids: list[str]) -> list[Doc]:
        found = await self.files.find({"_id": {"$in": ids}, "studio_id": studio_id}) if ids else []
        if len(found) != len(set(ids)):
            raise problem("file_not_found", "A file named is not a file of this studio.")
        return [{"id": f["_id"], "name": f["name"], "ext": f["ext"], "size": f["size"]} for f in found]

    # -- posts ------------------------------------------------------------------------------------
    async def post(
        self, principal: Principal, studio_id: str, kind: PostKind, title: str, body: str, file_ids: list[str]
    ) -> Doc:
        _, who = await self._participant(principal, studio_id)
        if who not in (Standing.HOST, Standing.ASSISTANT, Standing.MEMBER):
            raise problem("not_participant", "Members post resources, articles and achievements.")
        doc = {
            "_id": _id(),
            "studio_id": studio_id,
            "kind": kind.value,
            "title": title,
            "body": clean_html(body),
            "files": await self._own_files(studio_id, file_ids),
            "author": principal.ce_number,
            "status": "approved" if who is Standing.HOST else "pending",  # the host's own posts need no review
            "featured": False,
            "pinned": False,
            "created_ms": self._now(),
        }
        await self.posts.add(doc)
        return doc

    async def list_posts(self, principal: Principal, studio_id: str, kind: PostKind | None) -> list[Doc]:
        _, who = await self._participant(principal, studio_id)
        query: Doc = {"studio_id": studio_id}
        if kind:
            query["kind"] = kind.value
        reviewer = who in REVIEWERS or who is Standing.ADMIN
        docs = [
            d
            for d in await self.posts.find(query)
            if rules.visible_post(d, reviewer=reviewer, ce_number=principal.ce_number)
        ]
        for d in docs:
            d["featured"], d["pinned"] = bool(d.get("featured")), bool(d.get("pinned"))
        return sorted(docs, key=rules.post_order)

    async def review(self, principal: Principal, studio_id: str, post_id: str, fields: Doc) -> Doc:
        """Approve or reject (host, assistants); featured and pinned (host)."""
        _, who = await self._participant(principal, studio_id)
        if who not in REVIEWERS or (who is not Standing.HOST and ({"featured", "pinned"} & fields.keys())):
            raise problem("not_host", "Only the host (or an assistant, for approvals) may do this.")
        if not await self.posts.update(
            {"_id": post_id, "studio_id": studio_id}, {**fields, "reviewed_by": principal.ce_number}
        ):
            raise problem("post_not_found", f"Post {post_id} not found.")
        doc = await self.posts.get({"_id": post_id})
        assert doc is not None
        doc["featured"], doc["pinned"] = bool(doc.get("featured")), bool(doc.get("pinned"))
        return doc

    async def delete_post(self, principal: Principal, studio_id: str, post_id: str) -> None:
        _, who = await self._participant(principal, studio_id)
        if who is not Standing.HOST:
            raise problem("not_host", "Only the host deletes posts.")
        if not await self.posts.delete({"_id": post_id, "studio_id": studio_id}):
            raise problem("post_not_found", f"Post {post_id} not found.")

    # -- funds ------------------------------------------------------------------------------------
    async def set_funds(
        self, principal: Principal, studio_id: str, year: int, part: str, items: list[Doc], evidence: list[str]
    ) -> Doc:
        studio, who = await self._participant(principal, studio_id)
        if who is not Standing.HOST:
            raise problem("not_host", "Only the host submits the studio's funds.")
        if not studio["cycle_start_year"] <= year <= studio["cycle_end_year"]:
            raise problem("invalid_funds", "The year lies outside the studio's cycle.")
        if error := rules.funds_problem(items):
            raise problem("invalid_funds", error)
        files = await self._own_files(studio_id, evidence)
        if part == "report" and not files:
            raise problem("invalid_funds", "A usage report carries evidence files (scans of invoices).")
        record = {
            "items": items,
            "total": float(sum(i["amount"] for i in items)),
            "files": files,
            "submitted_ms": self._now(),
        }
        await self.funds.upsert({"_id": f"{studio_id}:{year}"}, {"studio_id": studio_id, "year": year, part: record})
        return await self.get_funds(principal, studio_id, year)

    async def get_funds(self, principal: Principal, studio_id: str, year: int) -> Doc:
        _, who = await self._participant(principal, studio_id)
        if who not in (Standing.HOST, Standing.ASSISTANT, Standing.ADMIN):
            raise access.not_found(studio_id)
        doc = await self.funds.get({"_id": f"{studio_id}:{year}"})
        return {"year": year, "budget": (doc or {}).get("budget"), "report": (doc or {}).get("report")}

    # -- indicators and the yearly task view ------------------------------------------------------
    async def list_indicators(self) -> list[Doc]:
        docs = await self.indicators.find({}, sort=[("scope", 1), ("order", 1)])
        if docs:
            return docs
        return [
            {"_id": f"default-{n}", "scope": "yearly", "order": n, **i}
            for n, i in enumerate(rules.DEFAULT_YEARLY_INDICATORS)
        ]

    async def put_indicator(self, principal: Principal, indicator_id: str | None, fields: Doc) -> Doc:
        access.require_city_admin(principal)
        if fields.get("check") is not None and fields["check"] not in rules.TASK_CHECKS:
            raise problem("indicator_not_found", f"check must be one of {sorted(rules.TASK_CHECKS)}")
        if indicator_id is None:
            if not await self.indicators.count({}):  # first edit: the defaults become data
                for n, default in enumerate(rules.DEFAULT_YEARLY_INDICATORS):
                    await self.indicators.add({"_id": f"default-{n}", "scope": "yearly", "order": n, **default})
            doc = {"_id": _id(), "order": await self.indicators.count({}), **fields}
            await self.indicators.add(doc)
            return doc
        if not await self.indicators.update({"_id": indicator_id}, fields):
            raise problem("indicator_not_found", f"Indicator {indicator_id} not found.")
        updated = await self.indicators.get({"_id": indicator_id})
        assert updated is not None
        return updated

    async def _checks(self, studio: Doc, year: int) -> dict[str, bool]:
        sid = studio["_id"]
        start, end = _year_bounds(year)
        activities = await self.activities.of_studio(sid, published_only=True)
        members = await self.applications.members(sid, "member")
        evaluated = {e["ce_number"] for e in await self.evaluations.of_period(sid, str(year))}
        funds = await self.funds.get({"_id": f"{sid}:{year}"}) or {}
        plans = await self.bulletins.of_studio(sid, "annual_plan", published_only=True)
        return {
            "annual_plan": any(p.get("year") == year for p in plans),
            "activities_organised": rules.activities_organised(activities, start, end, self._now()),
            "evaluations_done": bool(members) and all(m["ce_number"] in evaluated for m in members),
            "budget_planned": bool(funds.get("budget")),
            "funds_reported": bool(funds.get("report")),
        }

    async def tasks(self, principal: Principal, studio_id: str, year: int) -> Doc:
        studio, who = await self._participant(principal, studio_id)
        if who not in (Standing.HOST, Standing.ASSISTANT, Standing.ADMIN):
            raise access.not_found(studio_id)
        checks = await self._checks(studio, year)
        rows = [
            {
                "indicator_id": i["_id"],
                "name": i["name"],
                "standard": i.get("standard"),
                "score": i.get("score"),
                "check": i.get("check"),
                "done": checks.get(i.get("check") or "", False),
                "evidence": evidence_link(studio_id, i.get("check"), year),
            }
            for i in await self.list_indicators()
            if i.get("scope", "yearly") == "yearly"
        ]
        return {"year": year, "tasks": rows, "unfinished": sum(1 for r in rows if not r["done"])}

    async def unfinished_count(self, studio: Doc) -> dict[str, int]:
        """The workbench's count for the current year of the cycle."""
        year = self.clock.now().year
        if not studio["cycle_start_year"] <= year <= studio["cycle_end_year"]:
            return {"unfinished_yearly_tasks": 0}
        checks = await self._checks(studio, year)
        yearly = [i for i in await self.list_indicators() if i.get("scope", "yearly") == "yearly"]
        return {"unfinished_yearly_tasks": sum(1 for i in yearly if not checks.get(i.get("check") or "", False))}
