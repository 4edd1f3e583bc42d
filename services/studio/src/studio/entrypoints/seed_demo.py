"""Demo data for ``make up``: one studio with members, stages, activities and bulletins. Idempotent.

Runs after enrollment's demo seed: it waits until the studio worker has the demo teachers in its
directory (from ``TeacherRegistered``), then drives the studio's own use cases on a clock it moves
through a past recruitment, so every rule holds for the seeded data as for any other."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from jijiao_kit.clock import FixedClock
from studio.adapters import mongo
from studio.bootstrap import Container, build
from studio.domain.bulletins import BulletinKind
from studio.domain.recruitment import ApplicantRole, Decision
from studio.domain.studios import StudioType
from studio.service_layer.recruitment import NewApplication, NewRecruitment
from studio.service_layer.studios import NewStudio

logger = logging.getLogger(__name__)
SYSTEM = Principal(subject="system:seed", roles=frozenset({Role.CITY_ADMIN.value}), name="seed")
NAME = "陈晓明教育专家工作室"
FORM = {
    "stage": "小学",
    "subject": "语文",
    "title": "一级教师",
    "age": 38,
    "teaching_years": 15,
    "papers": [],
    "books": [],
    "projects": [],
}


def teacher(ce: str) -> Principal:
    return Principal(subject=f"teacher:{ce}", roles=frozenset({Role.TEACHER.value}), scopes={"ce_number": ce})


async def seed(container: Container, clock: FixedClock, wait_seconds: float = 60) -> str | None:
    await mongo.ensure_indexes(container.infra.db)
    db = container.infra.db
    if existing := await db[mongo.STUDIOS].find_one({"name": NAME}):
        return str(existing["_id"])
    teachers: list[dict[str, object]] = []
    for _ in range(int(wait_seconds * 2)):
        teachers = [d async for d in db[mongo.DIRECTORY].find({}).sort("_id", 1)]
        if len(teachers) >= 2:
            break
        await asyncio.sleep(0.5)
    if len(teachers) < 2:
        logger.warning("no demo teachers in the studio directory; studio demo data skipped")
        return None
    host, *others = [str(t["_id"]) for t in teachers]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    clock.set(start)
    year = start.year
    studio = await container.studios.found(
        SYSTEM, NewStudio(NAME, StudioType.EXPERT, host, year, 3, "小学", "语文", student_cap=50)
    )
    sid = studio["_id"]
    windows = [(start + timedelta(days=2 * k), start + timedelta(days=2 * k + 1)) for k in range(4)]
    rec = await container.recruitment.open(
        SYSTEM, NewRecruitment(year, windows[0], (windows[1], windows[2], windows[3]))
    )
    applications = []
    for n, ce in enumerate(others):
        role = ApplicantRole.MEMBER if n < len(others) - 1 or len(others) == 1 else ApplicantRole.STUDENT
        applications.append(
            (await container.recruitment.apply(teacher(ce), rec["id"], NewApplication(role, [sid], FORM)))["_id"]
        )
    clock.set(windows[1][0] + timedelta(hours=1))
    for application_id in applications:
        await container.recruitment.decide(teacher(host), sid, application_id, Decision.ADMITTED)
    if others:
        await container.studios.set_assistant(teacher(host), sid, others[0], True)
    clock.set(start + timedelta(days=10))
    acts = container.activities
    stage = await acts.add_stage(teacher(host), sid, "第一阶段：课堂观察", "围绕课堂观察开展研修")
    await acts.add_stage(teacher(host), sid, "第二阶段：同课异构", None)
    begin = clock.now() + timedelta(days=1)
    offline = await acts.create(
        teacher(host),
        sid,
        {
            "stage_id": stage["_id"],
            "mode": "offline",
            "type": "school_sending",
            "title": "送教到校：阅读教学",
            "description": "到天河一小送教",
            "place": "天河区第一实验小学",
            "hours": 3.0,
            "starts_ms": int(begin.timestamp() * 1000),
            "ends_ms": int((begin + timedelta(hours=3)).timestamp() * 1000),
            "options": {"checkin": {"required": True}, "materials": {"required": False}},
        },
    )
    online = await acts.create(
        teacher(host),
        sid,
        {
            "stage_id": stage["_id"],
            "mode": "online",
            "type": "seminar",
            "title": "专题研讨：整本书阅读",
            "description": "线上研讨",
            "starts_ms": int(begin.timestamp() * 1000),
            "ends_ms": int((begin + timedelta(days=20)).timestamp() * 1000),
            "segments": [
                {"kind": "article", "title": "阅读材料", "required": True, "content": "整本书阅读的课堂实践"},
                {"kind": "discussion", "title": "话题讨论", "required": False},
            ],
        },
    )
    for activity in (offline, online):
        await acts.publish(teacher(host), sid, activity["_id"])
    token = (await acts.checkin_token(teacher(host), sid, offline["_id"]))["token"]
    for member in await container.studios.members(teacher(host), sid, "member"):
        await acts.check_in(teacher(member["ce_number"]), sid, offline["_id"], token)
    clock.set(begin + timedelta(days=1))
    await acts.write_summary(teacher(host), sid, offline["_id"], "送教活动顺利完成，成员完成课堂观察记录。")
    bulletins = container.bulletins
    await bulletins.create(
        teacher(host), sid, BulletinKind.REGULATION, "工作室章程", "<p>第一条 本工作室……</p>", None, True
    )
    await bulletins.create(
        teacher(host), sid, BulletinKind.CYCLE_PLAN, f"{year}—{year + 2}周期发展规划", "<p>三年规划</p>", None, True
    )
    await bulletins.create(
        teacher(host), sid, BulletinKind.ANNUAL_PLAN, f"{year}年度工作计划", "<p>年度计划</p>", year, True
    )
    await bulletins.create(
        teacher(host), sid, BulletinKind.ANNOUNCEMENT, "欢迎新成员", "<p>欢迎加入工作室</p>", None, True
    )
    return str(sid)


async def main() -> None:
    clock = FixedClock(datetime.now(UTC))
    container = build(clock=clock)
    try:
        print(await seed(container, clock))
    finally:
        await container.infra.close()


if __name__ == "__main__":
    asyncio.run(main())
