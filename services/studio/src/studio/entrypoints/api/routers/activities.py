from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import BoundedUtcDateTime, UtcDateTime, epoch_ms
from studio.entrypoints.api.deps import ActivitiesDep

router = APIRouter(prefix="/v1/studios/{studio_id}", tags=["activities"])
MEDIA = {"png": "image/png", "svg": "image/svg+xml"}
Id = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")


class StageIn(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    description: str | None = Field(default=None, max_length=2000)


class StagePatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=60)
    description: str | None = Field(default=None, max_length=2000)


class StageOut(BaseModel):
    id: str
    name: str
    description: str | None
    order: int


class OrderIn(BaseModel):
    ids: list[str] = Field(max_length=500)


class EvaluationItem(BaseModel):
    id: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")
    kind: Literal["objective", "subjective"]
    title: str = Field(min_length=1, max_length=200)
    max_score: float | None = Field(default=None, ge=0, le=1000)


class SegmentIn(BaseModel):
    """环节: article / documents / video / resources / discussion / evaluation."""

    id: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")
    kind: Literal["article", "documents", "video", "resources", "discussion", "evaluation"]
    title: str = Field(min_length=1, max_length=100)
    required: bool = True
    content: str | None = Field(default=None, max_length=20000, description="article text")
    file_ids: list[str] = Field(default=[], max_length=20, description="documents: uploaded files of the studio")
    video_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    items: list[EvaluationItem] = Field(default=[], max_length=50, description="activity evaluation items")


class OptionIn(BaseModel):
    required: bool = False
    file_ids: list[str] = Field(default=[], max_length=20, description="materials: the host's uploaded files")
    items: list[EvaluationItem] = Field(default=[], max_length=50, description="evaluation by participants")


class ActivityIn(BaseModel):
    stage_id: str = Id
    mode: Literal["online", "offline"]
    type: str = Field(
        min_length=1,
        max_length=40,
        description="线上: online_research/observation/seminar/lesson_design; 线下: offline_research/school_sending/school_diagnosis",
    )
    title: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=20000)
    starts_at: BoundedUtcDateTime
    ends_at: BoundedUtcDateTime
    place: str | None = Field(default=None, max_length=200)
    hours: float | None = Field(default=None, ge=0, le=24)
    segments: list[SegmentIn] = Field(default=[], max_length=20)
    options: dict[Literal["checkin", "materials", "outputs", "evaluation"], OptionIn] = {}


class ActivityPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=20000)
    starts_at: BoundedUtcDateTime | None = None
    ends_at: BoundedUtcDateTime | None = None
    place: str | None = Field(default=None, max_length=200)
    hours: float | None = Field(default=None, ge=0, le=24)
    segments: list[SegmentIn] | None = Field(default=None, max_length=20)
    options: dict[Literal["checkin", "materials", "outputs", "evaluation"], OptionIn] | None = None


class SegmentOut(BaseModel):
    id: str
    kind: str
    title: str
    required: bool
    content: str | None = None
    file_ids: list[str] = []
    video_url: str | None = None
    items: list[EvaluationItem] = []


class SubmissionIn(BaseModel):
    text: str | None = Field(default=None, max_length=20000, description="discussion post or comment")
    file_ids: list[str] = Field(default=[], max_length=20, description="shared resources, outputs")
    answers: dict[str, float | str] = Field(default={}, max_length=50, description="evaluation answers by item")
    reply_to: str | None = Field(default=None, max_length=40, description="the post a comment answers")


class SubmittedFileOut(BaseModel):
    id: str
    name: str
    ext: str
    size: int


class SubmissionOut(BaseModel):
    id: str
    part: str
    kind: str
    ce_number: str
    text: str | None
    files: list[SubmittedFileOut]
    answers: dict[str, float | str]
    reply_to: str | None
    created_ms: int


class SummaryOut(BaseModel):
    text: str
    at_ms: int


class ActivityOut(BaseModel):
    id: str
    stage_id: str
    mode: str
    type: str
    title: str
    description: str | None = None
    starts_ms: int
    ends_ms: int
    place: str | None = None
    hours: float | None = None
    segments: list[SegmentOut]
    options: dict[str, OptionIn]
    status: str
    organised: bool
    summary: SummaryOut | None
    order: int
    credited: list[str] = []


class CheckinIn(BaseModel):
    token: str = Field(min_length=1, max_length=2000)


class CheckinOut(BaseModel):
    activity_id: str
    ce_number: str
    checked_in: bool


class TokenOut(BaseModel):
    token: str
    expires_at: UtcDateTime
    url: str


class ProgressOut(BaseModel):
    required: list[str]
    done: list[str]
    completed: bool


class AttendanceOut(BaseModel):
    checked_in: list[str]
    completed: list[str]


class SummaryIn(BaseModel):
    text: str = Field(min_length=1, max_length=20000, description="活动小结")


def out(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "id": doc["_id"]}


def activity_fields(body: BaseModel) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    for key, target in (("starts_at", "starts_ms"), ("ends_at", "ends_ms")):
        if key in data:
            value = data.pop(key)
            if value is not None:
                data[target] = epoch_ms(value)
    return data


@router.post("/stages", status_code=status.HTTP_201_CREATED, response_model=StageOut)
async def add_stage(
    studio_id: str, body: StageIn, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return out(await service.add_stage(principal, studio_id, body.name, body.description))


@router.get("/stages", response_model=list[StageOut])
async def list_stages(studio_id: str, principal: CurrentPrincipal, service: ActivitiesDep) -> list[dict[str, Any]]:
    return [out(d) for d in await service.list_stages(principal, studio_id)]


@router.patch("/stages/{stage_id}", response_model=StageOut)
async def edit_stage(
    studio_id: str, stage_id: str, body: StagePatch, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return out(await service.edit_stage(principal, studio_id, stage_id, body.model_dump(exclude_unset=True)))


@router.delete("/stages/{stage_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_stage(studio_id: str, stage_id: str, principal: CurrentPrincipal, service: ActivitiesDep) -> None:
    await service.delete_stage(principal, studio_id, stage_id)


@router.put("/stages-order", response_model=list[StageOut])
async def reorder_stages(
    studio_id: str, body: OrderIn, principal: CurrentPrincipal, service: ActivitiesDep
) -> list[dict[str, Any]]:
    return [out(d) for d in await service.reorder_stages(principal, studio_id, body.ids)]


@router.post("/activities", status_code=status.HTTP_201_CREATED, response_model=ActivityOut)
async def create_activity(
    studio_id: str, body: ActivityIn, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return out(await service.create(principal, studio_id, activity_fields(body)))


@router.get("/activities", response_model=list[ActivityOut])
async def list_activities(
    studio_id: str, principal: CurrentPrincipal, service: ActivitiesDep, stage_id: str | None = None
) -> list[dict[str, Any]]:
    return [out(d) for d in await service.listing(principal, studio_id, stage_id)]


@router.get("/activities/{activity_id}", response_model=ActivityOut)
async def get_activity(
    studio_id: str, activity_id: str, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return out(await service.get(principal, studio_id, activity_id))


@router.patch("/activities/{activity_id}", response_model=ActivityOut)
async def edit_activity(
    studio_id: str, activity_id: str, body: ActivityPatch, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return out(await service.edit(principal, studio_id, activity_id, activity_fields(body)))


@router.post("/activities/{activity_id}/publish", response_model=ActivityOut)
async def publish_activity(
    studio_id: str, activity_id: str, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return out(await service.publish(principal, studio_id, activity_id))


@router.delete("/activities/{activity_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_activity(
    studio_id: str, activity_id: str, principal: CurrentPrincipal, service: ActivitiesDep
) -> None:
    await service.delete(principal, studio_id, activity_id)


@router.put("/stages/{stage_id}/activities-order", response_model=list[ActivityOut])
async def reorder_activities(
    studio_id: str, stage_id: str, body: OrderIn, principal: CurrentPrincipal, service: ActivitiesDep
) -> list[dict[str, Any]]:
    return [out(d) for d in await service.reorder(principal, studio_id, stage_id, body.ids)]


@router.get(
    "/activities/{activity_id}/qr.{kind}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
async def activity_qr(
    studio_id: str, activity_id: str, kind: Literal["png", "svg"], principal: CurrentPrincipal, service: ActivitiesDep
) -> Response:
    return Response(await service.qr(principal, studio_id, activity_id, kind), media_type=MEDIA[kind])


@router.post("/activities/{activity_id}/checkin-token", response_model=TokenOut)
async def checkin_token(
    studio_id: str, activity_id: str, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return await service.checkin_token(principal, studio_id, activity_id)


@router.get(
    "/activities/{activity_id}/checkin-qr.{kind}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
async def checkin_qr(
    studio_id: str, activity_id: str, kind: Literal["png", "svg"], principal: CurrentPrincipal, service: ActivitiesDep
) -> Response:
    return Response(
        await service.checkin_qr(principal, studio_id, activity_id, kind),
        media_type=MEDIA[kind],
        headers={"Cache-Control": "no-store"},
    )


@router.post("/activities/{activity_id}/checkins", status_code=status.HTTP_201_CREATED, response_model=CheckinOut)
async def check_in(
    studio_id: str, activity_id: str, body: CheckinIn, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return await service.check_in(principal, studio_id, activity_id, body.token)


@router.put("/activities/{activity_id}/parts/{part}", response_model=ProgressOut)
async def mark_done(
    studio_id: str, activity_id: str, part: str, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return await service.mark_done(principal, studio_id, activity_id, part)


@router.get("/activities/{activity_id}/progress", response_model=ProgressOut)
async def progress(
    studio_id: str, activity_id: str, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return await service.progress(principal, studio_id, activity_id)


@router.get("/activities/{activity_id}/attendance", response_model=AttendanceOut)
async def attendance(
    studio_id: str, activity_id: str, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return await service.attendance(principal, studio_id, activity_id)


@router.post("/activities/{activity_id}/summary", response_model=ActivityOut)
async def write_summary(
    studio_id: str, activity_id: str, body: SummaryIn, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    return out(await service.write_summary(principal, studio_id, activity_id, body.text))


@router.post(
    "/activities/{activity_id}/parts/{part}/submissions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionOut,
)
async def submit(
    studio_id: str, activity_id: str, part: str, body: SubmissionIn, principal: CurrentPrincipal, service: ActivitiesDep
) -> dict[str, Any]:
    doc = await service.submit(
        principal,
        studio_id,
        activity_id,
        part,
        text=body.text,
        file_ids=body.file_ids,
        answers=body.answers,
        reply_to=body.reply_to,
    )
    return out(doc)


@router.get("/activities/{activity_id}/parts/{part}/submissions", response_model=list[SubmissionOut])
async def submissions(
    studio_id: str, activity_id: str, part: str, principal: CurrentPrincipal, service: ActivitiesDep
) -> list[dict[str, Any]]:
    return [out(d) for d in await service.list_submissions(principal, studio_id, activity_id, part)]
