from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from hours.entrypoints.api.deps import ContainerDep
from hours.entrypoints.api.schemas import DeclarationOut, DeclarationPageOut, binary
from hours.service_layer.declarations import STATUSES
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.errors import InvalidInput
from jijiao_kit.guard import body_limit
from jijiao_kit.http import content_disposition
from jijiao_kit.paging import Skip

router = APIRouter(prefix="/v1/declarations", tags=["declarations"])
#: A declaration carries up to 5 attachments of 5 MB (the settings' defaults) and its form fields.
DECLARATION_BODY_LIMIT = 5 * 5 * 1024 * 1024 + 1024 * 1024


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "return"]
    reason: str | None = Field(None, max_length=1000, description="mandatory when returning")


def view(doc: dict[str, Any]) -> DeclarationOut:
    out = {key: value for key, value in doc.items() if key not in ("_id", "outbox", "outbox_pending")}
    out["id"] = doc["_id"]
    out["attachments"] = list((doc.get("attachments") or {}).values())
    out["rounds"] = [
        {"round": int(n), **r} for n, r in sorted((doc.get("rounds") or {}).items(), key=lambda i: int(i[0]))
    ]
    return DeclarationOut.model_validate(out)


async def _files(c: ContainerDep, files: list[UploadFile] | None) -> list[tuple[str, bytes]]:
    out = []
    for upload in files or []:
        data = await upload.read(c.settings.max_attachment_bytes + 1)
        if len(data) > c.settings.max_attachment_bytes:
            raise InvalidInput(
                f"{upload.filename} is too large.",
                code="file_too_large",
                title="文件过大",
                extra={"max_bytes": c.settings.max_attachment_bytes},
            )
        out.append((upload.filename or "file", data))
    return out


@router.post("", status_code=201, response_model=DeclarationOut, openapi_extra=body_limit(DECLARATION_BODY_LIMIT))
async def submit_declaration(
    principal: CurrentPrincipal,
    c: ContainerDep,
    year: Annotated[int, Form(ge=2000, le=2100)],
    training_type: Annotated[str, Form()],
    hours: Annotated[float, Form(gt=0, le=1000)],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    institution: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    files: Annotated[list[UploadFile] | None, File(description="PDF or images")] = None,
) -> DeclarationOut:
    """A teacher declares training outside the platform (学时申报), with certificates as attachments."""
    fields = {
        "year": year,
        "training_type": training_type,
        "hours": hours,
        "title": title,
        "institution": institution,
        "description": description,
    }
    return view(await c.declarations.submit(principal, fields, await _files(c, files)))


@router.put("/{declaration_id}", response_model=DeclarationOut, openapi_extra=body_limit(DECLARATION_BODY_LIMIT))
async def resubmit_declaration(
    declaration_id: str,
    principal: CurrentPrincipal,
    c: ContainerDep,
    hours: Annotated[float | None, Form(gt=0, le=1000)] = None,
    title: Annotated[str | None, Form(max_length=200)] = None,
    institution: Annotated[str | None, Form(max_length=200)] = None,
    description: Annotated[str | None, Form(max_length=2000)] = None,
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> DeclarationOut:
    """Resubmit a returned declaration (a new round); attachments are replaced only if new ones come."""
    fields = {
        k: v
        for k, v in {"hours": hours, "title": title, "institution": institution, "description": description}.items()
        if v is not None
    }
    return view(await c.declarations.resubmit(principal, declaration_id, fields, await _files(c, files)))


@router.post("/{declaration_id}/initial-review", response_model=DeclarationOut)
async def initial_review(
    declaration_id: str, body: ReviewIn, principal: CurrentPrincipal, c: ContainerDep
) -> DeclarationOut:
    """School admin: approve, or return with a mandatory reason."""
    return view(await c.declarations.review(principal, declaration_id, "initial", body.decision, body.reason))


@router.post("/{declaration_id}/final-review", response_model=DeclarationOut)
async def final_review(
    declaration_id: str, body: ReviewIn, principal: CurrentPrincipal, c: ContainerDep
) -> DeclarationOut:
    """District (or city) admin: the final review; approval credits the hours."""
    return view(await c.declarations.review(principal, declaration_id, "final", body.decision, body.reason))


@router.get("", response_model=DeclarationPageOut)
async def list_declarations(
    principal: CurrentPrincipal,
    c: ContainerDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    training_type: str | None = None,
    status: Annotated[Literal[STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    title: Annotated[str | None, Query(max_length=100)] = None,
    institution: Annotated[str | None, Query(max_length=100)] = None,
    teacher_name: Annotated[str | None, Query(max_length=50)] = None,
    ce_number: Annotated[str | None, Query(max_length=32)] = None,
    skip: Skip = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> DeclarationPageOut:
    """Filters of §6: year, training type, status, course/project name, institution, teacher name, CE
    number; paged with ``skip`` and ``limit`` (newest first)."""
    filters = {
        "year": year,
        "training_type": training_type,
        "status": status,
        "title": title,
        "institution": institution,
        "teacher_name": teacher_name,
        "ce_number": ce_number,
    }
    docs = await c.declarations.search(principal, filters, skip=skip, limit=limit)
    return DeclarationPageOut(items=[view(doc) for doc in docs], skip=skip, limit=limit)


@router.get("/{declaration_id}", response_model=DeclarationOut)
async def get_declaration(declaration_id: str, principal: CurrentPrincipal, c: ContainerDep) -> DeclarationOut:
    return view(await c.declarations.get(principal, declaration_id))


@router.get(
    "/{declaration_id}/attachments/{attachment_id}",
    response_class=Response,
    responses=binary("application/octet-stream", "The attachment as uploaded (PDF or image)."),
)
async def get_attachment(
    declaration_id: str, attachment_id: str, principal: CurrentPrincipal, c: ContainerDep
) -> Response:
    meta, data = await c.declarations.attachment(principal, declaration_id, attachment_id)
    # An upload is served as a download, never rendered by the browser (and nosniff from the kit).
    disposition = content_disposition(str(meta.get("filename") or attachment_id))
    return Response(data, media_type=meta["content_type"], headers={"Content-Disposition": disposition})
