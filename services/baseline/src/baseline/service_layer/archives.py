"""Archives (研修档案), statistics, the Excel export and the yearly book (item 10).

Per trainee of a year: project (batch), base, stage, zone, who reported, checked in, wrote reflections,
uploaded an outcome and recorded the sharing session in their zone. The centre sees every zone, a zone contact only their own."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date
from typing import Any

from baseline.adapters.book import Chapter, Piece, render_book
from baseline.adapters.repositories import BatchRepository, OutcomeRepository, ReflectionRepository
from baseline.adapters.rich_text import paragraphs_of
from baseline.adapters.sheets import write_sheet
from baseline.domain import programme as rules
from baseline.service_layer.access import acting_zone, is_centre, require_centre
from baseline.service_layer.personnel import PersonnelService, trainees_of
from baseline.service_layer.reference import ReferenceService
from baseline.service_layer.reflections import KINDS
from jijiao_kit.auth import Principal

Doc = dict[str, Any]
ROLE_LABELS = {"leader": "团长", "member": "成员"}
EXPORT_HEADER = (
    "学年", "批次", "研修基地", "学段", "研修学习类型", "研修开始", "研修结束", "实验区", "姓名", "角色", "工作单位",
    "已报到", "已签到", "心得篇数", "优秀心得", "已上传成果", "成果逾期", "已做分享报告", "分享日期", "分享逾期",
)  # fmt: skip


class ArchiveService:
    def __init__(
        self,
        reference: ReferenceService,
        personnel: PersonnelService,
        batches: BatchRepository,
        reflections: ReflectionRepository,
        outcomes: OutcomeRepository,
    ) -> None:
        self.reference = reference
        self.personnel = personnel
        self.batches = batches
        self.reflections = reflections
        self.outcomes = outcomes

    async def rows(
        self,
        principal: Principal,
        year: str,
        *,
        base_id: str | None = None,
        stage: str | None = None,
        demand_type: str | None = None,
    ) -> list[Doc]:
        await self.reference.existing_year(year)
        zone = None if is_centre(principal) else acting_zone(principal)
        batches = await self.batches.find(year, zone_id=zone, stage=stage)
        reflections = await self.reflections.tallies_of_year(year, zone_id=zone)  # authors and marks only
        outcomes = await self.outcomes.trainees_of_year(year, zone)
        sharings = await self.outcomes.sharings_of_year(year, zone)
        written: dict[str, int] = defaultdict(int)
        excellent: dict[str, int] = defaultdict(int)
        for reflection in reflections:
            written[reflection["trainee_id"]] += 1
            excellent[reflection["trainee_id"]] += bool(reflection.get("excellent"))
        today = self.personnel.today()
        rows = []
        for batch in batches:
            if base_id and batch["base_id"] != base_id:
                continue
            due = rules.outcome_due(date.fromisoformat(batch["ends_on"]))
            for zone_id, allocation in sorted((batch.get("zones") or {}).items()):
                if (zone and zone_id != zone) or (demand_type and allocation.get("demand_type") != demand_type):
                    continue
                for t in trainees_of(batch, zone_id):
                    tid = t["trainee_id"]
                    rows.append(
                        {
                            "year": year,
                            "batch_id": batch["_id"],
                            "base_id": batch["base_id"],
                            "base_name": batch["base_name"],
                            "stage": batch["stage"],
                            "demand_type": allocation.get("demand_type"),  # of the demand the batch answers
                            "starts_on": batch["starts_on"],
                            "ends_on": batch["ends_on"],
                            "zone_id": zone_id,
                            "zone_name": allocation.get("zone_name", ""),
                            "trainee_id": tid,
                            "name": t["name"],
                            "role": t["role"],
                            "employer": t["employer"],
                            "confirmed": bool(allocation.get("confirmed_at")),
                            "reported": bool(t.get("reported_at")),
                            "checked_in": bool(t.get("checked_in_at")),
                            "reflections": written[tid],
                            "excellent_reflections": excellent[tid],
                            "outcome_uploaded": tid in outcomes,
                            "outcome_overdue": tid not in outcomes and today > due,
                            "sharing_recorded": tid in sharings,
                            "shared_on": sharings.get(tid),
                            "sharing_overdue": tid not in sharings and today > due,
                        }
                    )
        return rows

    async def statistics(self, principal: Principal, year: str) -> list[Doc]:
        """Per base, stage and type of study (研修学习类型): trainees, reported, checked in, reflections,
        outcomes, overdue, sharing sessions."""
        totals: dict[tuple[str, str, str], Doc] = {}
        for row in await self.rows(principal, year):
            key = (row["base_name"], row["stage"], row["demand_type"] or "")
            total = totals.setdefault(
                key,
                {"base_name": key[0], "stage": key[1], "demand_type": row["demand_type"], "trainees": 0,
                 "reported": 0, "checked_in": 0,
                 "reflections": 0, "outcomes": 0, "overdue": 0, "shared": 0},
            )  # fmt: skip
            total["trainees"] += 1
            total["reported"] += row["reported"]
            total["checked_in"] += row["checked_in"]
            total["reflections"] += row["reflections"]
            total["outcomes"] += row["outcome_uploaded"]
            total["overdue"] += row["outcome_overdue"]
            total["shared"] += row["sharing_recorded"]
        return [totals[key] for key in sorted(totals)]

    async def export(self, principal: Principal, year: str) -> bytes:
        rows = await self.rows(principal, year)
        yes = {True: "是", False: "否"}
        values = [
            (
                r["year"], r["batch_id"], r["base_name"], rules.STAGES.get(r["stage"], r["stage"]),
                rules.DEMAND_TYPES.get(r["demand_type"] or "", r["demand_type"] or ""), r["starts_on"],
                r["ends_on"], r["zone_name"], r["name"], ROLE_LABELS.get(r["role"], r["role"]), r["employer"],
                yes[r["reported"]], yes[r["checked_in"]], r["reflections"], r["excellent_reflections"],
                yes[r["outcome_uploaded"]], yes[r["outcome_overdue"]], yes[r["sharing_recorded"]], r["shared_on"] or "",
                yes[r["sharing_overdue"]],
            )
            for r in rows
        ]  # fmt: skip
        return await asyncio.to_thread(write_sheet, "研修档案", EXPORT_HEADER, values)

    async def book(self, principal: Principal, year: str) -> bytes:
        """The excellent reflections by kind and stage, then the outcomes by stage, as a PDF."""
        require_centre(principal)
        await self.reference.existing_year(year)
        chapters: list[Chapter] = []
        excellent = await self.reflections.of_year(year, excellent_only=True)
        for kind, kind_label in KINDS.items():
            for stage, stage_label in rules.STAGES.items():
                pieces = [
                    Piece(r["title"], f"{r['trainee_name']}，{r['base_name']}", paragraphs_of(r["body_html"]))
                    for r in excellent
                    if r["kind"] == kind and r["stage"] == stage
                ]
                if pieces:
                    chapters.append(Chapter(f"{kind_label}（{stage_label}）", pieces))
        stages = {b["_id"]: b for b in await self.batches.find(year)}
        outcomes = await self.outcomes.of_year(year)
        for stage, stage_label in rules.STAGES.items():
            pieces = []
            for o in outcomes:
                batch = stages.get(o["batch_id"]) or {}
                if batch.get("stage") != stage:
                    continue
                trainee = ((batch.get("zones") or {}).get(o["zone_id"]) or {}).get("trainees", {}).get(o["_id"]) or {}
                author = f"{trainee.get('name', '')}，{batch.get('base_name', '')}"
                pieces.append(Piece(o["title"], author, o["summary"].splitlines()))
            if pieces:
                chapters.append(Chapter(f"学习成果（{stage_label}）", pieces))
        return await asyncio.to_thread(render_book, year, chapters)
