from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from studio.adapters.uploads import read_limited
from studio.domain.content import PostKind
from studio.entrypoints.api.deps import ContainerDep, ContentDep

router = APIRouter(prefix="/v1/studios/{studio_id}", tags=["content"])
indicators_router = APIRouter(prefix="/v1/indicators", tags=["indicators"])
MEDIA = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


class FileOut(BaseModel):
    id: str
    name: str
    ext: str
    size: int


class PostIn(BaseModel):
    kind: PostKind
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(default="", max_length=100_000, description="HTML; sanitised before it is stored")
    file_ids: list[str] = Field(default=[], max_length=20)


class ReviewIn(BaseModel):
    status: Literal["approved", "rejected"] | None = None
    featured: bool | None = None
    pinned: bool | None = None


class PostOut(BaseModel):
    id: str
    kind: PostKind
    title: str
    body: str
    files: list[FileOut]
    author: str | None
    status: str
    featured: bool
    pinned: bool
    created_ms: int


class FundItem(BaseModel):
    item: str = Field(min_length=1, max_length=100)
    amount: float = Field(ge=0, le=10_000_000)


class FundsIn(BaseModel):
    items: list[FundItem] = Field(min_length=1, max_length=200)
    evidence_file_ids: list[str] = Field(default=[], max_length=50, description="票据扫描件")


class FundsPartOut(BaseModel):
    items: list[FundItem]
    total: float
    files: list[FileOut]
    submitted_ms: int


class FundsOut(BaseModel):
    year: int
    budget: FundsPartOut | None
    report: FundsPartOut | None


class IndicatorIn(BaseModel):
    scope: Literal["yearly", "cycle"] = "yearly"
    name: str = Field(min_length=1, max_length=60)
    standard: str = Field(default="", max_length=2000)
    score: float = Field(ge=0, le=1000)
    scoring_rules: str = Field(default="", max_length=2000)
    check: str | None = Field(default=None, max_length=40, description="evidence from the studio's data")


class IndicatorOut(BaseModel):
    id: str
    scope: str
    name: str
    standard: str
    score: float
    scoring_rules: str
    check: str | None = None


class TaskOut(BaseModel):
    indicator_id: str
    name: str
    standard: str | None
    score: float | None
    check: str | None
    done: bool
    evidence: str | None = None


class TasksOut(BaseModel):
    year: int
    tasks: list[TaskOut]
    unfinished: int


def out(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "id": doc["_id"]}


@router.post(
    "/files",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    openapi_extra={
        "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
async def upload(
    studio_id: str,
    request: Request,
    principal: CurrentPrincipal,
    service: ContentDep,
    container: ContainerDep,
    name: str = Query(min_length=1, max_length=200, description="the file's name (its type must match its content)"),
    purpose: Literal["document", "evidence"] = "document",
) -> dict[str, Any]:
    data = await read_limited(request.stream(), container.settings.max_upload_bytes)
    return out(await service.upload(principal, studio_id, name, data, purpose))


@router.get("/files/{file_id}", response_class=Response)
async def download(studio_id: str, file_id: str, principal: CurrentPrincipal, service: ContentDep) -> Response:
    doc, data = await service.download(principal, studio_id, file_id)
    media = MEDIA.get(doc["ext"], "application/octet-stream")
    return Response(
        data, media_type=media, headers={"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"}
    )


@router.post("/posts", status_code=status.HTTP_201_CREATED, response_model=PostOut)
async def create_post(studio_id: str, body: PostIn, principal: CurrentPrincipal, service: ContentDep) -> dict[str, Any]:
    return out(await service.post(principal, studio_id, body.kind, body.title, body.body, body.file_ids))


@router.get("/posts", response_model=list[PostOut])
async def list_posts(
    studio_id: str, principal: CurrentPrincipal, service: ContentDep, kind: PostKind | None = None
) -> list[dict[str, Any]]:
    return [out(d) for d in await service.list_posts(principal, studio_id, kind)]


@router.patch("/posts/{post_id}", response_model=PostOut)
async def review_post(
    studio_id: str, post_id: str, body: ReviewIn, principal: CurrentPrincipal, service: ContentDep
) -> dict[str, Any]:
    return out(await service.review(principal, studio_id, post_id, body.model_dump(exclude_none=True)))


@router.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_post(studio_id: str, post_id: str, principal: CurrentPrincipal, service: ContentDep) -> None:
    await service.delete_post(principal, studio_id, post_id)


@router.get("/funds/{year}", response_model=FundsOut)
async def get_funds(studio_id: str, year: int, principal: CurrentPrincipal, service: ContentDep) -> dict[str, Any]:
    return await service.get_funds(principal, studio_id, year)


@router.put("/funds/{year}/{part}", response_model=FundsOut)
async def set_funds(
    studio_id: str,
    year: int,
    part: Literal["budget", "report"],
    body: FundsIn,
    principal: CurrentPrincipal,
    service: ContentDep,
) -> dict[str, Any]:
    items = [i.model_dump() for i in body.items]
    return await service.set_funds(principal, studio_id, year, part, items, body.evidence_file_ids)


@router.get("/tasks/{year}", response_model=TasksOut)
async def yearly_tasks(studio_id: str, year: int, principal: CurrentPrincipal, service: ContentDep) -> dict[str, Any]:
    return await service.tasks(principal, studio_id, year)


@indicators_router.get("", response_model=list[IndicatorOut])
async def list_indicators(principal: CurrentPrincipal, service: ContentDep) -> list[dict[str, Any]]:
    return [out(d) for d in await service.list_indicators()]


@indicators_router.post("", status_code=status.HTTP_201_CREATED, response_model=IndicatorOut)
async def add_indicator(body: IndicatorIn, principal: CurrentPrincipal, service: ContentDep) -> dict[str, Any]:
    return out(await service.put_indicator(principal, None, body.model_dump()))


@indicators_router.put("/{indicator_id}", response_model=IndicatorOut)
async def edit_indicator(
    indicator_id: str, body: IndicatorIn, principal: CurrentPrincipal, service: ContentDep
) -> dict[str, Any]:
    return out(await service.put_indicator(principal, indicator_id, body.model_dump()))
