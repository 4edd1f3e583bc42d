"""Term statistics (DOMAIN §11): participation by district or subject, course pass-rate bands,
selection counts, and their .xlsx export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enrollment.adapters.statistics_repository import StatisticsRepository
from enrollment.domain import results as result_rules
from enrollment.domain import statistics as rules
from jijiao_contracts.enums import Role
from jijiao_kit.access import ADMIN_LEVELS, scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.errors import Forbidden, InvalidInput, NotFound

Doc = dict[str, Any]
GROUPS = {"district": "区域", "subject": "学科(教师个人信息表的学科)"}
PROGRAMMES = frozenset({"city", "district", "school", "special", "ability"})
PARTICIPATION_HEADERS = ["选修人数", "学习人数", "学习率(%)", "通过人数", "通过率(%)"]


@dataclass(frozen=True)
class ParticipationReport:
    term: str
    programme: str | None
    group_by: str
    rows: list[rules.Participation]
    total: rules.Participation


@dataclass(frozen=True)
class BandReport:
    term: str
    programme: str | None
    bands: dict[str, int]
    courses: list[result_rules.CoursePassStats]

    @property
    def courses_with_selections(self) -> int:
        return sum(1 for c in self.courses if c.total)

    @property
    def overall_pass_rate(self) -> float | None:
        return rules.rate(sum(c.passed for c in self.courses), sum(c.total for c in self.courses))


def percent(value: float | None) -> float | None:
    return round(value * 100, 2) if value is not None else None


class StatisticsService:
    def __init__(self, repo: StatisticsRepository) -> None:
        self.repo = repo

    async def _scope(self, principal: Principal, term: str, programme: str | None) -> Doc:
        if programme is not None and programme not in PROGRAMMES:
            raise InvalidInput(f"Unknown programme {programme!r}.", code="invalid_programme", title="培训项目不正确")
        if await self.repo.term(term) is None:
            raise NotFound(f"Term {term} not found.", code="term_not_found", title="培训期不存在")
        query: Doc = {"term": term}
        if programme:
            query["programme"] = programme
        scope = scope_filter(principal, levels=ADMIN_LEVELS, city_roles=(Role.CITY_ADMIN, Role.REMOTE_CENTRE))
        if scope is not None:
            return {**query, **scope}
        raise Forbidden("Only administrators see term statistics.", code="forbidden", title="无权查看统计数据")

    async def participation(
        self, principal: Principal, term: str, *, group_by: str, programme: str | None
    ) -> ParticipationReport:
        if group_by not in GROUPS:
            raise InvalidInput("group_by must be district or subject.", code="invalid_group_by", title="统计维度不正确")
        selections = await self.repo.selections_of(await self._scope(principal, term, programme))
        rows, total = rules.participation(selections, group_by)
        return ParticipationReport(term, programme, group_by, rows, total)

    async def bands(self, principal: Principal, term: str, *, programme: str | None) -> BandReport:
        """Course pass-rate bands. Courses nobody selected count only in the city-wide view (a district or
        school sees the courses its teachers selected)."""
        query = await self._scope(principal, term, programme)
        selections = await self.repo.selections_of(query)
        everyone = set(query) <= {"term", "programme"}
        courses = (
            await self.repo.courses_of({k: v for k, v in query.items() if k in ("term", "programme")})
            if everyone
            else []
        )
        stats = result_rules.course_pass_stats(selections, courses)
        return BandReport(term, programme, rules.band_counts((c.passed, c.total) for c in stats), stats)

    async def selections(
        self, principal: Principal, term: str, *, programme: str | None
    ) -> tuple[list[rules.CourseSelections], rules.Participation]:
        """Per-term selection statistics (选课统计) within the caller's scope, with the overall counts."""
        selections = await self.repo.selections_of(await self._scope(principal, term, programme))
        _rows, total = rules.participation(selections, "district")
        return rules.selection_counts(selections), total

    @staticmethod
    def participation_table(report: ParticipationReport) -> tuple[list[str], list[list[Any]]]:
        headers = [GROUPS[report.group_by], *PARTICIPATION_HEADERS]
        rows = [
            [r.group, r.selected_paid, r.studied, percent(r.learning_rate), r.passed, percent(r.pass_rate)]
            for r in [*report.rows, report.total]
        ]
        return headers, rows

    @staticmethod
    def band_table(report: BandReport) -> tuple[list[str], list[list[Any]]]:
        return ["通过率区间", "课程门数"], [[rules.BAND_LABELS[name], report.bands[name]] for name in rules.BANDS]

    @staticmethod
    def course_table(report: BandReport) -> tuple[list[str], list[list[Any]]]:
        headers = ["课程编号", "课程名称", "通过人数", "未通过人数", "总人数", "学员通过率(%)"]
        rows = [
            [c.course_code, c.course_name, c.passed, c.not_passed, c.total, percent(c.pass_rate)]
            for c in report.courses
        ]
        return headers, rows
