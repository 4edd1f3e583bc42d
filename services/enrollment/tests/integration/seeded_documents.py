"""Seeded documents: terms, courses, selections, schools and teachers written directly into the store in
the shared data model's shapes (for billing, results, special users and statistics tests that need
data the selection endpoints would take many calls to make), plus an app/worker pair.

Test modules import it with ``sys.path`` (the suite runs in importlib mode)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from pymongo.asynchronous.database import AsyncDatabase

from enrollment.bootstrap import Container, build
from enrollment.entrypoints.api.app import create_app
from enrollment.settings import Settings
from jijiao_kit.clock import FixedClock
from jijiao_stack.pytest_plugin import api_client

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@dataclass
class Env:
    container: Container
    client: httpx.AsyncClient
    clock: FixedClock

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        return self.container.infra.db


@asynccontextmanager
async def enrollment_env(settings_env: dict[str, Any], *, now: datetime = NOW, **overrides: Any) -> AsyncIterator[Env]:
    clock = FixedClock(now)
    container = build(Settings(**{**settings_env, **overrides}), clock=clock)
    async with api_client(create_app(container)) as client:
        yield Env(container, client, clock)


async def add_school(db: Any, school_id: str, *, district: str = "天河区", name: str | None = None) -> dict[str, Any]:
    name = name or f"学校{school_id}"
    doc = {
        "_id": school_id,
        "name": name,
        "seal_name": f"广州市{name}（公章）",
        "district": district,
        "school_type": "小学",
        "town": "石牌街",
        "nature": "公办",
        "head_name": "校长",
        "head_mobile": "13800000000",
    }
    await db["schools"].insert_one(doc)
    return doc


async def add_teacher(
    db: Any, ce_number: str, school: dict[str, Any], *, subject: str = "语文", name: str | None = None, **extra: Any
) -> dict[str, Any]:
    doc = {
        "_id": ce_number,
        "name": name or f"教师{ce_number[-4:]}",
        "id_number": f"4401{uuid.uuid4().int % 10**14:014d}",
        "mobile": "13900000000",
        "school_id": school["_id"],
        "school_name": school["name"],
        "district": school["district"],
        "status": "active",
        "special_user": False,
        "special_user_times": 0,
        "subject": subject,
        "stage": "primary",
        **extra,
    }
    await db["teachers"].insert_one(doc)
    return doc


async def add_term(
    db: Any,
    code: str = "2602",
    *,
    year: int = 2026,
    closes_at: datetime = NOW - timedelta(days=30),
    payment_due_at: datetime = NOW - timedelta(days=1),
) -> dict[str, Any]:
    doc = {
        "_id": code,
        "code": code,
        "year": year,
        "selection_opens_at": closes_at - timedelta(days=14),
        "selection_closes_at": closes_at,
        "study_starts_on": "2026-10-10",
        "study_ends_on": "2026-12-10",
        "payment_due_at": payment_due_at,
    }
    await db["terms"].insert_one(doc)
    return doc


async def add_course(
    db: Any,
    term: str,
    code: str,
    *,
    programme: str = "city",
    hour_type: str = "professional",
    hours: float = 24,
    training_fee_fen: int = 12000,
    material_fee_fen: int = 0,
    course_type: str = "remote",
    payee: str = "广州市广播电视大学",
    institution_id: str | None = "inst-1",
    subject: str = "语文",
    **extra: Any,
) -> dict[str, Any]:
    doc = {
        "_id": f"{term}:{code}",
        "term": term,
        "code": code,
        "name": f"课程{code}",
        "programme": programme,
        "hour_type": hour_type,
        "hours": hours,
        "training_fee_fen": training_fee_fen,
        "material_fee_fen": material_fee_fen,
        "course_type": course_type,
        "payee": payee,
        "institution_id": institution_id,
        "subject": subject,
        "stage": "primary",
        "capacity": None,
        "taken": 0,
        **extra,
    }
    await db["courses"].insert_one(doc)
    return doc


async def add_selection(
    db: Any, teacher: dict[str, Any], course: dict[str, Any], *, paid: bool = False, **extra: Any
) -> dict[str, Any]:
    doc = {
        "_id": uuid.uuid4().hex,
        "term": course["term"],
        "ce_number": teacher["_id"],
        "name": teacher["name"],
        "school_id": teacher["school_id"],
        "district": teacher["district"],
        "subject": teacher.get("subject"),
        "course_code": course["code"],
        "course_name": course["name"],
        "programme": course["programme"],
        "hour_type": course["hour_type"],
        "hours": course["hours"],
        "training_fee_fen": course["training_fee_fen"],
        "material_fee_fen": course["material_fee_fen"],
        "payee": course["payee"],
        "status": "active",
        "active_key": f"{course['term']}:{teacher['_id']}:{course['code']}",
        "selected_by": "teacher",
        "created_at": NOW - timedelta(days=40),
        "paid": paid,
        "learning_started": False,
        "result": None,
        **extra,
    }
    await db["selections"].insert_one(doc)
    return doc


def render_pdf(content: bytes, workdir: Path) -> tuple[str, int]:
    """The PDF's extracted text (pdftotext) and how many dark pixels its first page has (pdftoppm -png)."""
    pdf = workdir / f"doc-{uuid.uuid4().hex[:6]}.pdf"
    pdf.write_bytes(content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    stem = workdir / f"page-{uuid.uuid4().hex[:6]}"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(stem)], check=True)
    page = next(workdir.glob(f"{stem.name}*.png"))
    image = Image.open(page).convert("L")
    return text, sum(image.histogram()[:128])
