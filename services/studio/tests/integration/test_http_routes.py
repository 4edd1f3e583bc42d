"""The routes only translate: recruitment, decisions, members, bulletins and evaluations over HTTP, with
problem+json refusals and no data of another scope."""

from __future__ import annotations

from typing import Any

from studio_support import DAY, T0, at_round, world

from jijiao_stack.pytest_plugin import api_client, bearer
from studio.entrypoints.api.app import create_app


async def test_recruitment_members_bulletins_and_evaluations_over_http(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    w = await world(settings_env)
    sid = await w.studio("9001")
    city = bearer(make_token("city_admin"))
    host = bearer(make_token("teacher", ce_number="9001"))
    member = bearer(make_token("teacher", ce_number="1000"))
    stranger = bearer(make_token("teacher", ce_number="5555"))
    district = bearer(make_token("district_admin", district="越秀区"))
    windows: dict[str, Any] = {
        "cycle_start_year": 2026,
        "apply": {"start": T0.isoformat(), "end": (T0 + DAY).isoformat()},
        "rounds": [{"start": (T0 + DAY * k).isoformat(), "end": (T0 + DAY * (k + 1)).isoformat()} for k in (2, 4, 6)],
    }
    form = {"stage": "小学", "subject": "语文", "title": "一级教师", "age": 30, "teaching_years": 8}
    async with api_client(create_app(w.container)) as client:
        bad_windows = await client.post(
            "/v1/recruitments", json={**windows, "rounds": windows["rounds"][::-1]}, headers=city
        )
        rec = (await client.post("/v1/recruitments", json=windows, headers=city)).json()
        w.clock.set(at_round(0))
        applied = await client.post(
            f"/v1/recruitments/{rec['id']}/applications",
            json={"role": "member", "preferences": [sid], "form": form},
            headers=member,
        )
        mine = await client.get(f"/v1/recruitments/{rec['id']}/applications/mine", headers=member)
        w.clock.set(at_round(1))
        listed = await client.get(f"/v1/studios/{sid}/applications", headers=host)
        by_member = await client.post(
            f"/v1/studios/{sid}/applications/{applied.json()['id']}/decision",
            json={"decision": "admitted"},
            headers=member,
        )
        decided = await client.post(
            f"/v1/studios/{sid}/applications/{applied.json()['id']}/decision",
            json={"decision": "admitted"},
            headers=host,
        )
        again = await client.post(
            f"/v1/studios/{sid}/applications/{applied.json()['id']}/decision",
            json={"decision": "rejected"},
            headers=host,
        )
        members = await client.get(f"/v1/studios/{sid}/members", headers=host)
        hidden = await client.get(f"/v1/studios/{sid}/members", headers=stranger)
        other_district = await client.get(f"/v1/studios/{sid}", headers=district)
        regulation = await client.post(
            f"/v1/studios/{sid}/bulletins",
            json={"kind": "regulation", "title": "章程", "body": "<p>x</p>", "publish": True},
            headers=host,
        )
        second = await client.post(
            f"/v1/studios/{sid}/bulletins", json={"kind": "regulation", "title": "章程2", "body": "y"}, headers=host
        )
        home = await client.get(f"/v1/studios/{sid}/home", headers=member)
        evaluated = await client.put(
            f"/v1/studios/{sid}/evaluations/2026/1000", json={"grade": "good", "comment": "认真"}, headers=host
        )
        too_new = await client.put(
            f"/v1/studios/{sid}/evaluations/2026/1000", json={"grade": "excellent"}, headers=host
        )
        own = await client.get(f"/v1/studios/{sid}/evaluations/2026", headers=member)
        bad_period = await client.get(f"/v1/studios/{sid}/evaluations/2031", headers=host)
        cert = await client.get(f"/v1/studios/{sid}/evaluations/cycle/1000/certificate.pdf", headers=member)
        bench = await client.get("/v1/studios", params={"hosted_by": "me"}, headers=host)
    assert bad_windows.status_code == 422 and bad_windows.json()["code"] == "invalid_windows"
    assert applied.status_code == 201 and mine.json()["status"] == "pending"
    assert listed.json()["round"] == 1 and [a["id"] for a in listed.json()["applications"]] == [applied.json()["id"]]
    assert by_member.status_code == 404  # the member is not part of the studio yet: it does not exist for them
    assert decided.status_code == 200 and decided.json()["status"] == "admitted"
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert (
        again.headers["content-type"].startswith("application/problem+json")
        and again.json()["title"] == "该报名已审核，不能更改"
    )
    assert [m["ce_number"] for m in members.json()] == ["1000"]
    assert hidden.status_code == 404 and other_district.status_code == 404
    assert regulation.status_code == 201 and second.status_code == 409 and second.json()["code"] == "bulletin_limit"
    assert home.json()["regulation"]["title"] == "章程"
    assert (
        evaluated.status_code == 200
        and too_new.status_code == 409
        and too_new.json()["code"] == "too_new_for_excellent"
    )
    assert [r["grade"] for r in own.json()] == ["good"]
    assert bad_period.status_code == 422
    assert cert.status_code == 404 and cert.json()["code"] == "evaluation_not_found"
    counts = bench.json()[0]["counts"]
    assert counts["members"] == 1 and counts["pending_applications"] == 0
