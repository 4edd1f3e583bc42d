from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from jijiao_kit.access import covers
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.errors import NotFound

router = APIRouter(prefix="/v1/directory", tags=["directory"])


class DirectoryTeacherOut(BaseModel):
    ce_number: str
    name: str
    school_id: str
    school_name: str
    district: str
    subject: str | None = None
    stage: str | None = None
    title: str | None = None
    status: str | None = Field(default=None, description="active, or archived as left, retired or other")


@router.get("/teachers/{ce_number}", response_model=DirectoryTeacherOut)
async def get_directory_teacher(ce_number: str, request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    doc = await request.app.state.container.directory.get(ce_number)
    if doc is None or not covers(
        principal, ce_number=ce_number, school_id=doc.get("school_id"), district=doc.get("district")
    ):
        raise NotFound(f"Teacher {ce_number} is not in the directory.", code="teacher_not_found", title="教师不存在")
    return {**doc, "ce_number": doc["_id"]}
