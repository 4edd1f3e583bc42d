"""Term statistics over the real store: participation by district and subject, bands, export."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from jijiao_stack.pytest_plugin import bearer

sys.path.insert(0, str(Path(__file__).parent))
from seeded_documents import add_course, add_school, add_selection, add_teacher, add_term, enrollment_env


async def seed(db: Any) -> None:
    await add_term(db, "2602")
    tianhe = await add_school(db, "s1", district="天河区")
    haizhu = await add_school(db, "s2", district="海珠区")
    c1 = await add_course(db, "2602", "2602100001")
    c2 = await add_course(db, "2602", "2602100002")
    await add_course(db, "2602", "2602100003")  # nobody selects it
    district = await add_course(db, "2602", "2602200001", programme="district")
    teachers = [
        await add_teacher(db, f"2026{n:04d}", tianhe if n < 6 else haizhu, subject="语文" if n % 2 else "数学")
        for n in range(10)
    ]
    # 天河: 0..5 ; 海珠: 6..9
    plan: list[tuple[int, dict[str, Any], dict[str, Any]]] = [
        (0, c1, dict(paid=True, learning_started=True, result="passed")),
        (0, c2, dict(paid=True, learning_started=True, result="failed")),
        (1, c1, dict(paid=True, learning_started=True, result="passed")),
        (2, c1, dict(paid=True, learning_started=True)),
        (3, c1, dict(paid=True)),
        (4, c1, dict(paid=False)),
        (6, c1, dict(paid=True, learning_started=True, result="passed")),
        (7, c2, dict(paid=True, learning_started=True, result="failed")),
        (8, c2, dict(paid=True, result="passed")),
        (9, district, dict(paid=True, learning_started=True, result="passed")),
    ]
    for index, course, fields in plan:
        await add_selection(db, teachers[index], course, **fields)


async def test_participation_by_district_follows_the_definitions(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        city = bearer(make_token("city_admin"))
        response = await env.client.get(
            "/v1/terms/2602/statistics/participation",
            params={"group_by": "district", "programme": "city"},
            headers=city,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        rows = {r["group"]: r for r in body["rows"]}
        assert rows["天河区"] == {
            "group": "天河区",
            "places": 6,
            "persons": 5,
            "selected_paid": 4,
            "studied": 3,
            "learning_rate": 0.75,
            "passed": 2,
            "pass_rate": 0.6667,
        }
        assert rows["海珠区"] == {
            "group": "海珠区",
            "places": 3,
            "persons": 3,
            "selected_paid": 3,
            "studied": 3,
            "learning_rate": 1.0,
            "passed": 2,
            "pass_rate": 0.6667,
        }
        assert body["total"]["selected_paid"] == 7 and body["total"]["passed"] == 4

        all_programmes = (
            await env.client.get(
                "/v1/terms/2602/statistics/participation", params={"group_by": "district"}, headers=city
            )
        ).json()
        assert all_programmes["total"]["selected_paid"] == 8

        by_subject = (
            await env.client.get(
                "/v1/terms/2602/statistics/participation",
                params={"group_by": "subject", "programme": "city"},
                headers=city,
            )
        ).json()
        assert {r["group"]: r["selected_paid"] for r in by_subject["rows"]} == {"数学": 4, "语文": 3}

        district = (
            await env.client.get(
                "/v1/terms/2602/statistics/participation",
                headers=bearer(make_token("district_admin", district="海珠区")),
            )
        ).json()
        assert [r["group"] for r in district["rows"]] == ["海珠区"]
        bad = await env.client.get(
            "/v1/terms/2602/statistics/participation", params={"group_by": "school"}, headers=city
        )
        assert bad.status_code == 422
        teacher = await env.client.get(
            "/v1/terms/2602/statistics/participation", headers=bearer(make_token("teacher", ce_number="20260000"))
        )
        assert teacher.status_code == 403
        missing = await env.client.get("/v1/terms/2699/statistics/participation", headers=city)
        assert missing.status_code == 404


async def test_course_bands_and_export(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        city = bearer(make_token("city_admin"))
        bands = (
            await env.client.get("/v1/terms/2602/statistics/course-bands", params={"programme": "city"}, headers=city)
        ).json()
        # c1: 3 passed of 6 (50 %) → lt60; c2: 1 of 3 → lt60; c3: nobody
        assert bands["bands"] == {"ge90": 0, "ge80": 0, "ge70": 0, "ge60": 0, "lt60": 2, "no_selections": 1}
        assert bands["courses_with_selections"] == 2 and bands["overall_pass_rate"] == round(4 / 9, 4)
        everything = (await env.client.get("/v1/terms/2602/statistics/course-bands", headers=city)).json()
        assert everything["bands"]["ge90"] == 1  # the district course: 1 of 1

        export = await env.client.get("/v1/terms/2602/statistics.xlsx", params={"programme": "city"}, headers=city)
        assert export.status_code == 200
        workbook = load_workbook(io.BytesIO(export.content))
        assert workbook.sheetnames == ["各区培训学情", "各学科培训学情", "课程通过率分布", "课程通过率统计"]
        district_rows = list(workbook["各区培训学情"].values)
        assert district_rows[0] == ("区域", "选修人数", "学习人数", "学习率(%)", "通过人数", "通过率(%)")
        assert district_rows[-1][:3] == ("总计", 7, 6) and district_rows[-1][3] == 85.71
        assert next(iter(workbook["各学科培训学情"].values))[0] == "学科(教师个人信息表的学科)"
        band_rows = dict(list(workbook["课程通过率分布"].values)[1:])
        assert band_rows["通过率<60%"] == 2 and band_rows["选课人数为0"] == 1


async def test_selection_statistics_per_course(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        city = bearer(make_token("city_admin"))
        body = (
            await env.client.get("/v1/terms/2602/statistics/selections", params={"programme": "city"}, headers=city)
        ).json()
        assert (body["places"], body["persons"], body["selected_paid"]) == (9, 8, 7)
        assert [(c["course_code"], c["places"], c["paid"]) for c in body["courses"]] == [
            ("2602100001", 6, 5),
            ("2602100002", 3, 3),
        ]
        school = (
            await env.client.get(
                "/v1/terms/2602/statistics/selections", headers=bearer(make_token("school_admin", school_id="s2"))
            )
        ).json()
        assert school["places"] == 4 and school["persons"] == 4
