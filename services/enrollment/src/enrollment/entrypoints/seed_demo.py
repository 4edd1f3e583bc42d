"""Demo data for ``make up``: a district, two schools, admins and a few teachers. Idempotent.

Every login is listed in README. Run: ``python -m enrollment.entrypoints.seed_demo``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from enrollment.adapters import mongo
from enrollment.bootstrap import Container, build
from enrollment.domain.identity import check_digit
from enrollment.service_layer.accounts import AccountService, NewAdmin
from enrollment.service_layer.roster import NewSchool, NewTeacher
from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal

logger = logging.getLogger("seed_demo")

DEMO_PASSWORD = "jijiao-demo"
DISTRICT = "天河区"
SCHOOLS = [
    NewSchool(
        name="天河区第一实验小学",
        school_type="小学",
        seal_name="广州市天河区第一实验小学",
        town="天河南街",
        nature="公办",
        head_name="林校长",
        head_mobile="13800000010",
        district=DISTRICT,
    ),
    NewSchool(
        name="天河区华景中学",
        school_type="初级中学",
        seal_name="广州市天河区华景中学",
        town="棠下街",
        nature="公办",
        head_name="黄校长",
        head_mobile="13800000011",
        district=DISTRICT,
    ),
]


def demo_id_number(serial: int) -> str:
    first = f"44010619850101{serial:03d}"
    return first + check_digit(first)


TEACHERS = [
    (
        0,
        NewTeacher(
            name="陈晓明",
            id_number=demo_id_number(11),
            mobile="13900000001",
            subject="语文",
            stage="primary",
            title="一级教师",
            email="chenxm@example.com",
        ),
    ),
    (
        0,
        NewTeacher(
            name="李静",
            id_number=demo_id_number(12),
            mobile="13900000002",
            subject="数学",
            stage="primary",
            title="高级教师",
        ),
    ),
    (
        1,
        NewTeacher(
            name="王海燕",
            id_number=demo_id_number(13),
            mobile="13900000003",
            subject="英语",
            stage="junior",
            title="二级教师",
            email="wanghy@example.com",
        ),
    ),
    (
        1,
        NewTeacher(
            name="张伟",
            id_number=demo_id_number(14),
            mobile="13900000004",
            subject="物理",
            stage="junior",
            title="一级教师",
        ),
    ),
]

#: Demo logins of the research-base programme: the centre, a zone contact and a trainee (ids of
#: baseline's ``entrypoints/seed_demo.py``).
PROGRAMME_ADMINS = [
    NewAdmin("centreadmin", "课程教材中心实验区管理办公室", "13800000009", DEMO_PASSWORD, [Role.BASE_ADMIN.value]),
    NewAdmin(
        "zonecontact",
        "南沙联系人",
        "13800000010",
        DEMO_PASSWORD,
        [Role.ZONE_CONTACT.value],
        {"zone_id": "de0000000201"},
    ),
    NewAdmin(
        "trainee",
        "陈研修",
        "13800000011",
        DEMO_PASSWORD,
        [Role.TRAINEE.value],
        {"trainee_id": "de0000000401", "batch_id": "de0000000301", "zone_id": "de0000000201"},
    ),
]

SYSTEM = Principal(subject="system:seed", roles=frozenset({Role.CITY_ADMIN.value}), name="seed")


async def seed(container: Container) -> dict[str, str]:
    await mongo.ensure_indexes(container.infra.db)
    accounts = AccountService(container.accounts, container.hasher, container.clock)

    async def admin(new: NewAdmin) -> None:
        if await container.accounts.by_username(new.username) is None:
            # the demo's documented passwords (README) are not temporary: no change at first sign-in
            await accounts.create_admin(replace(new, temporary_password=False))

    await admin(NewAdmin("cityadmin", "市继教中心管理员", "13800000000", DEMO_PASSWORD, [Role.CITY_ADMIN.value]))
    await admin(
        NewAdmin(
            "districtadmin",
            "天河区培训管理员",
            "13800000001",
            DEMO_PASSWORD,
            [Role.DISTRICT_ADMIN.value],
            {"district": DISTRICT},
        )
    )
    # The research-base programme (baseline's seed holds the zone, batch and trainee of these scopes).
    for programme_admin in PROGRAMME_ADMINS:
        await admin(programme_admin)
    school_ids: list[str] = []
    for new in SCHOOLS:
        existing = await container.infra.db[mongo.SCHOOLS].find_one({"district": new.district, "name": new.name})
        school_ids.append(existing["_id"] if existing else (await container.roster.create_school(SYSTEM, new))["_id"])
    for index, username in enumerate(("schooladmin", "schooladmin2")):
        await admin(
            NewAdmin(
                username,
                f"学校继教管理员{index + 1}",
                f"1380000000{index + 2}",
                DEMO_PASSWORD,
                [Role.SCHOOL_ADMIN.value],
                {"school_id": school_ids[index], "district": DISTRICT},
            )
        )
    for school_index, teacher in TEACHERS:
        if await container.teachers.by_id_number(teacher.id_number) is None:
            await container.roster.add_teacher(SYSTEM, school_ids[school_index], teacher)
    return {"school_1": school_ids[0], "school_2": school_ids[1]}


async def main() -> None:
    container = build()
    try:
        result = await seed(container)
    finally:
        await container.infra.close()
    print(result)


if __name__ == "__main__":
    asyncio.run(main())
