"""Term statistics (DOMAIN §11): participation by district/subject, course pass-rate bands, export."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from enrollment.adapters.billing_excel import sheets_to_xlsx
from enrollment.domain.statistics import Participation
from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.statistics import StatisticsService
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.http import xlsx_download
from jijiao_kit.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(tags=["statistics"])

Programme = Literal["city", "district", "school", "special", "ability"]


def service(container: ContainerDep) -> StatisticsService:
    return container.statistics


StatisticsDep = Annotated[StatisticsService, Depends(service)]


class ParticipationRow(BaseModel):
    group: str = Field(description="District or subject (总计 for the total)")
    places: int = Field(description="人次: active selections")
    persons: int = Field(description="Distinct teachers with an active selection")
    selected_paid: int = Field(description="选修人数: persons who selected and paid")
    studied: int = Field(description="学习人数: persons who actually studied")
    learning_rate: float | None = Field(description="学习率 = studied / selected_paid (0..1)")
    passed: int = Field(description="通过人数")
    pass_rate: float | None = Field(description="通过率 = passed / studied (0..1)")

    @classmethod
    def of(cls, row: Participation) -> ParticipationRow:
        return cls(
            group=row.group,
            places=row.places,
            persons=row.persons,
            selected_paid=row.selected_paid,
            studied=row.studied,
            learning_rate=row.learning_rate,
            passed=row.passed,
            pass_rate=row.pass_rate,
        )


class ParticipationOut(BaseModel):
    term: str
    programme: str | None
    group_by: str
    rows: list[ParticipationRow]
    total: ParticipationRow


class BandsOut(BaseModel):
    term: str
    programme: str | None
    bands: dict[str, int] = Field(description="ge90, ge80, ge70, ge60, lt60, no_selections → number of courses")
    courses_with_selections: int
    overall_pass_rate: float | None = Field(description="All passed / all selections of the courses (0..1)")


@router.get(
    "/v1/terms/{term}/statistics/participation",
    response_model=ParticipationOut,
    operation_id="participation_statistics",
)
async def participation(
    term: str,
    principal: CurrentPrincipal,
    svc: StatisticsDep,
    group_by: Literal["district", "subject"] = "district",
    programme: Programme | None = None,
) -> ParticipationOut:
    report = await svc.participation(principal, term, group_by=group_by, programme=programme)
    return ParticipationOut(
        term=report.term,
        programme=report.programme,
        group_by=report.group_by,
        rows=[ParticipationRow.of(r) for r in report.rows],
        total=ParticipationRow.of(report.total),
    )


@router.get("/v1/terms/{term}/statistics/course-bands", response_model=BandsOut, operation_id="course_band_statistics")
async def course_bands(
    term: str, principal: CurrentPrincipal, svc: StatisticsDep, programme: Programme | None = None
) -> BandsOut:
    report = await svc.bands(principal, term, programme=programme)
    return BandsOut(
        term=report.term,
        programme=report.programme,
        bands=report.bands,
        courses_with_selections=report.courses_with_selections,
        overall_pass_rate=report.overall_pass_rate,
    )


class CourseSelectionsOut(BaseModel):
    course_code: str
    course_name: str | None
    places: int = Field(description="选课人次 (active selections)")
    paid: int = Field(description="of which paid (or free)")


class SelectionStatsOut(BaseModel):
    term: str
    programme: str | None
    places: int
    persons: int
    selected_paid: int
    courses: list[CourseSelectionsOut]


@router.get(
    "/v1/terms/{term}/statistics/selections", response_model=SelectionStatsOut, operation_id="selection_statistics"
)
async def selection_statistics(
    term: str, principal: CurrentPrincipal, svc: StatisticsDep, programme: Programme | None = None
) -> SelectionStatsOut:
    """选课统计: per course selection counts of the term within the caller's scope."""
    courses, total = await svc.selections(principal, term, programme=programme)
    return SelectionStatsOut(
        term=term,
        programme=programme,
        places=total.places,
        persons=total.persons,
        selected_paid=total.selected_paid,
        courses=[
            CourseSelectionsOut(course_code=c.course_code, course_name=c.course_name, places=c.places, paid=c.paid)
            for c in courses
        ],
    )


@router.get(
    "/v1/terms/{term}/statistics.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
    operation_id="term_statistics_export",
)
async def export(
    term: str, principal: CurrentPrincipal, svc: StatisticsDep, programme: Programme | None = None
) -> Response:
    """The term's statistics as .xlsx: by district, by subject, pass-rate bands, per course (aggregates only)."""
    by_district = await svc.participation(principal, term, group_by="district", programme=programme)
    by_subject = await svc.participation(principal, term, group_by="subject", programme=programme)
    bands = await svc.bands(principal, term, programme=programme)
    content = sheets_to_xlsx(
        [
            ("各区培训学情", *svc.participation_table(by_district)),
            ("各学科培训学情", *svc.participation_table(by_subject)),
            ("课程通过率分布", *svc.band_table(bands)),
            ("课程通过率统计", *svc.course_table(bands)),
        ]
    )
    return xlsx_download(content, f"statistics-{term}.xlsx")
