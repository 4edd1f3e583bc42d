"""The research community (研修社区): workshops, shared resources, topics. Routes only translate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, File, Form, Path, Query, Response, UploadFile, status
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.guard import body_limit
from jijiao_kit.http import content_disposition, xlsx_download
from studio.adapters import community_sheets as sheets
from studio.adapters.uploads import read_limited
from studio.domain.community import PostKind, Satisfaction
from studio.entrypoints.api.deps import CommunityDep, CommunityPeopleDep, WorkshopActivitiesDep
from studio.service_layer.community import NewWorkshop
from studio.settings import Settings

router = APIRouter(prefix="/v1/community", tags=["community"])

Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9a-f]+$")]


class WorkshopIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="工作坊名称")
    description: str = Field(default="", max_length=20000, description="简介(富文本)")
    subject: str | None = Field(default=None, max_length=40)
    stage: str | None = Field(default=None, max_length=20)


class DecisionIn(BaseModel):
    approve: bool
    reason: str | None = Field(default=None, max_length=500, description="不通过的理由")


class HiddenIn(BaseModel):
    hidden: bool = True


class WorkshopOut(BaseModel):
    id: str
    name: str
    description: str
    subject: str | None = None
    stage: str | None = None
    host_ce_number: str
    status: str
    reason: str | None = None
    participant_count: int
    featured: bool
    active: bool
    hidden: bool
    joined: bool = False
    created_ms: int


class ResourceOut(BaseModel):
    id: str
    title: str
    description: str
    filename: str
    kind: str
    extension: str
    media_type: str
    size: int
    fingerprint: str
    owner_ce_number: str
    workshop_id: str | None = None
    earns: bool
    rating_count: int
    average_stars: float | None = None
    my_rating: int | None = None
    excellent: bool
    hidden: bool
    created_ms: int


class RatingIn(BaseModel):
    stars: int = Field(ge=1, le=5, description="1-5 星")


class TopicIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=50000, description="正文(富文本)")
    workshop_id: Id | None = None


class PostIn(BaseModel):
    kind: PostKind = PostKind.REPLY
    body: str = Field(min_length=1, max_length=20000)
    parent_id: Id | None = Field(default=None, description="评论所针对的回复")


class PostOut(BaseModel):
    id: str
    topic_id: str
    kind: str
    parent_id: str | None = None
    ce_number: str
    body: str
    created_ms: int


class TopicOut(BaseModel):
    id: str
    title: str
    body: str
    author_ce_number: str
    workshop_id: str | None = None
    participant_count: int
    replier_count: int
    post_count: int
    discussed: bool
    popular: bool
    hidden: bool
    created_ms: int
    posts: list[PostOut] = []


def limit_uploads(app: FastAPI, settings: Settings) -> None:
    """Give this app's upload route the body limit of its settings (the largest shared file and the
    form's other fields), instead of the kit's default for uploads (12 MiB)."""
    for route in app.routes:
        if isinstance(route, APIRoute) and route.endpoint is share_resource:
            route.openapi_extra = {**(route.openapi_extra or {}), **body_limit(settings.community_upload_body_bytes())}


def _out(doc: dict[str, Any]) -> dict[str, Any]:
    out = {**doc, "id": doc["_id"]}
    if "posts" in out:
        out["posts"] = [_out(p) for p in out["posts"]]
    return out


# -- workshops ----------------------------------------------------------------------------------------
@router.post("/workshops", status_code=status.HTTP_201_CREATED, response_model=WorkshopOut)
async def apply_workshop(body: WorkshopIn, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    new = NewWorkshop(body.name, body.description, body.subject, body.stage)
    return _out(await svc.apply_workshop(principal, new))


@router.get("/workshops", response_model=list[WorkshopOut])
async def list_workshops(
    principal: CurrentPrincipal,
    svc: CommunityDep,
    status_: Annotated[Literal["pending", "approved", "refused"] | None, Query(alias="status")] = None,
) -> list[dict[str, Any]]:
    return [_out(d) for d in await svc.list_workshops(principal, status_)]


@router.get("/workshops/{workshop_id}", response_model=WorkshopOut)
async def get_workshop(workshop_id: Id, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return _out(await svc.workshop(principal, workshop_id))


@router.post("/workshops/{workshop_id}/decision", response_model=WorkshopOut)
async def decide_workshop(
    workshop_id: Id, body: DecisionIn, principal: CurrentPrincipal, svc: CommunityDep
) -> dict[str, Any]:
    return _out(await svc.decide_workshop(principal, workshop_id, body.approve, body.reason))


@router.post("/workshops/{workshop_id}/participants/me", response_model=WorkshopOut)
async def join_workshop(workshop_id: Id, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return _out(await svc.join(principal, workshop_id))


@router.delete("/workshops/{workshop_id}/participants/me", response_model=WorkshopOut)
async def leave_workshop(workshop_id: Id, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return _out(await svc.leave(principal, workshop_id))


@router.post("/workshops/{workshop_id}/featured", response_model=WorkshopOut)
async def feature_workshop(workshop_id: Id, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return _out(await svc.feature(principal, workshop_id))


@router.put("/workshops/{workshop_id}/hidden", response_model=WorkshopOut)
async def hide_workshop(
    workshop_id: Id, body: HiddenIn, principal: CurrentPrincipal, svc: CommunityDep
) -> dict[str, Any]:
    return _out(await svc.hide_workshop(principal, workshop_id, body.hidden))


# -- shared resources ---------------------------------------------------------------------------------
async def _chunks(file: UploadFile, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    while chunk := await file.read(size):
        yield chunk


@router.post(
    "/resources",
    status_code=status.HTTP_201_CREATED,
    response_model=ResourceOut,
    # the default (kit guard) would refuse anything over 12 MiB; ``limit_uploads`` sets it from the settings
    openapi_extra=body_limit(Settings.model_fields["max_video_bytes"].default + 1024 * 1024),
)
async def share_resource(
    principal: CurrentPrincipal,
    svc: CommunityDep,
    file: Annotated[UploadFile, File()],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    description: Annotated[str, Form(max_length=20000)] = "",
    workshop_id: Annotated[str | None, Form(max_length=40, pattern=r"^[0-9a-f]+$")] = None,
) -> dict[str, Any]:
    """Documents up to ``MAX_DOCUMENT_BYTES``, videos up to ``MAX_VIDEO_BYTES`` (by the kind the name
    claims; the content must agree): a larger file is a 413 ``upload_too_large``."""
    data = await read_limited(_chunks(file), svc.upload_limit(file.filename or ""))
    doc = await svc.share(
        principal,
        title=title,
        description=description,
        filename=file.filename or "file",
        data=data,
        workshop_id=workshop_id,
    )
    return _out(doc)


@router.get("/resources", response_model=list[ResourceOut])
async def list_resources(
    principal: CurrentPrincipal, svc: CommunityDep, workshop_id: Annotated[Id | None, Query()] = None
) -> list[dict[str, Any]]:
    return [_out(d) for d in await svc.list_resources(principal, workshop_id)]


@router.get("/resources/{resource_id}", response_model=ResourceOut)
async def get_resource(resource_id: Id, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return _out(await svc.resource(principal, resource_id))


@router.get("/resources/{resource_id}/file", response_class=Response)
async def download_resource(resource_id: Id, principal: CurrentPrincipal, svc: CommunityDep) -> Response:
    doc, data = await svc.download(principal, resource_id)
    headers = {"Content-Disposition": content_disposition(doc["filename"])}
    return Response(data, media_type=doc["media_type"], headers=headers)


@router.put("/resources/{resource_id}/ratings/me", response_model=ResourceOut)
async def rate_resource(
    resource_id: Id, body: RatingIn, principal: CurrentPrincipal, svc: CommunityDep
) -> dict[str, Any]:
    return _out(await svc.rate(principal, resource_id, body.stars))


@router.put("/resources/{resource_id}/hidden", response_model=ResourceOut)
async def hide_resource(
    resource_id: Id, body: HiddenIn, principal: CurrentPrincipal, svc: CommunityDep
) -> dict[str, Any]:
    return _out(await svc.hide_resource(principal, resource_id, body.hidden))


# -- topics -------------------------------------------------------------------------------------------
@router.post("/topics", status_code=status.HTTP_201_CREATED, response_model=TopicOut)
async def create_topic(body: TopicIn, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return _out(await svc.create_topic(principal, body.title, body.body, body.workshop_id))


@router.get("/topics", response_model=list[TopicOut])
async def list_topics(
    principal: CurrentPrincipal, svc: CommunityDep, workshop_id: Annotated[Id | None, Query()] = None
) -> list[dict[str, Any]]:
    return [_out(d) for d in await svc.list_topics(principal, workshop_id)]


@router.get("/topics/{topic_id}", response_model=TopicOut)
async def get_topic(topic_id: Id, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return _out(await svc.topic(principal, topic_id))


@router.post("/topics/{topic_id}/posts", status_code=status.HTTP_201_CREATED, response_model=PostOut)
async def post_to_topic(topic_id: Id, body: PostIn, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return _out(await svc.post(principal, topic_id, body.kind, body.body, body.parent_id))


@router.put("/topics/{topic_id}/hidden", response_model=TopicOut)
async def hide_topic(topic_id: Id, body: HiddenIn, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return _out(await svc.hide_topic(principal, topic_id, body.hidden))


@router.put("/topics/{topic_id}/posts/{post_id}/hidden", status_code=status.HTTP_204_NO_CONTENT)
async def hide_post(
    topic_id: Id, post_id: Id, body: HiddenIn, principal: CurrentPrincipal, svc: CommunityDep
) -> Response:
    await svc.hide_post(principal, topic_id, post_id, body.hidden)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- workshop activities and assignments --------------------------------------------------------------
class SegmentIn(BaseModel):
    kind: Literal["article", "documents", "video", "resources", "discussion", "evaluation"]
    title: str = Field(min_length=1, max_length=200)
    required: bool = True


class WorkshopActivityIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    type: Literal["online_research", "observation", "seminar", "lesson_design"] = "online_research"
    description: str = Field(default="", max_length=20000)
    starts_ms: int = Field(ge=0, le=4_102_444_800_000)
    ends_ms: int = Field(ge=0, le=4_102_444_800_000)
    segments: list[SegmentIn] = Field(min_length=1, max_length=20)


class AssignmentIn(BaseModel):
    text: str = Field(min_length=1, max_length=50000)


class RecommendIn(BaseModel):
    ce_number: str = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z]+$")


class SummaryIn(BaseModel):
    text: str = Field(min_length=1, max_length=20000)


@router.post("/workshops/{workshop_id}/activities", status_code=status.HTTP_201_CREATED)
async def create_workshop_activity(
    workshop_id: Id, body: WorkshopActivityIn, principal: CurrentPrincipal, svc: WorkshopActivitiesDep
) -> dict[str, Any]:
    doc = await svc.create(principal, workshop_id, {**body.model_dump(), "mode": "online"})
    return {k: v for k, v in _out(doc).items() if k not in ("outbox", "_id")}


@router.get("/workshops/{workshop_id}/activities")
async def list_workshop_activities(
    workshop_id: Id, principal: CurrentPrincipal, svc: WorkshopActivitiesDep
) -> list[dict[str, Any]]:
    return [{k: v for k, v in _out(d).items() if k != "_id"} for d in await svc.listing(principal, workshop_id)]


@router.post("/workshops/{workshop_id}/activities/{activity_id}/segments", status_code=status.HTTP_201_CREATED)
async def add_workshop_activity_segment(
    workshop_id: Id, activity_id: Id, body: SegmentIn, principal: CurrentPrincipal, svc: WorkshopActivitiesDep
) -> dict[str, Any]:
    return await svc.add_segment(principal, workshop_id, activity_id, body.model_dump())


@router.post("/workshops/{workshop_id}/activities/{activity_id}/parts/{part}", status_code=status.HTTP_201_CREATED)
async def do_workshop_activity_part(
    workshop_id: Id, activity_id: Id, part: Id, principal: CurrentPrincipal, svc: WorkshopActivitiesDep
) -> dict[str, Any]:
    return await svc.do_part(principal, workshop_id, activity_id, part)


@router.post("/workshops/{workshop_id}/activities/{activity_id}/assignments", status_code=status.HTTP_201_CREATED)
async def hand_in_assignment(
    workshop_id: Id, activity_id: Id, body: AssignmentIn, principal: CurrentPrincipal, svc: WorkshopActivitiesDep
) -> dict[str, Any]:
    return await svc.hand_in(principal, workshop_id, activity_id, body.text)


@router.get("/workshops/{workshop_id}/activities/{activity_id}/assignments")
async def list_workshop_activity_assignments(
    workshop_id: Id, activity_id: Id, principal: CurrentPrincipal, svc: WorkshopActivitiesDep
) -> list[dict[str, Any]]:
    """The assignments handed in to the activity, each with whether it is recommended (the host, the centre)."""
    return await svc.assignments(principal, workshop_id, activity_id)


AssignmentId = Annotated[
    str,
    Path(
        min_length=3,
        max_length=80,
        pattern=r"^[0-9a-f]+:[0-9A-Za-z]+:assignment$",
        description="研修作业编号: <activity_id>:<ce_number>:assignment",
    ),
]


class GradeIn(BaseModel):
    passed: bool = Field(description="true 合格 / false 不合格 (the last grade counts)")


@router.post("/workshops/{workshop_id}/activities/{activity_id}/assignments/{assignment_id}/grade")
async def grade_assignment(
    workshop_id: Id,
    activity_id: Id,
    assignment_id: AssignmentId,
    body: GradeIn,
    principal: CurrentPrincipal,
    svc: WorkshopActivitiesDep,
) -> dict[str, Any]:
    """研修作业合格: the workshop's host or the centre grades a handed-in assignment; a later grade replaces it."""
    return await svc.grade(principal, workshop_id, activity_id, assignment_id, body.passed)


@router.post("/workshops/{workshop_id}/activities/{activity_id}/recommendations", status_code=status.HTTP_201_CREATED)
async def recommend_assignment(
    workshop_id: Id, activity_id: Id, body: RecommendIn, principal: CurrentPrincipal, svc: WorkshopActivitiesDep
) -> dict[str, Any]:
    return await svc.recommend(principal, workshop_id, activity_id, body.ce_number)


@router.put("/workshops/{workshop_id}/activities/{activity_id}/summary")
async def organise_workshop_activity(
    workshop_id: Id, activity_id: Id, body: SummaryIn, principal: CurrentPrincipal, svc: WorkshopActivitiesDep
) -> dict[str, Any]:
    doc = await svc.organise(principal, workshop_id, activity_id, body.text)
    return {"id": doc["_id"], "organised": True, "participants": doc["participants"], "outputs": doc["outputs"]}


# -- satisfaction (满意度) ------------------------------------------------------------------------------
class SatisfactionIn(BaseModel):
    level: Satisfaction = Field(description="差 bad / 较差 poor / 一般 fair / 较好 good / 好 very_good")


@router.put("/workshops/{workshop_id}/satisfaction/me")
async def rate_workshop_satisfaction(
    workshop_id: Id, body: SatisfactionIn, principal: CurrentPrincipal, svc: CommunityDep
) -> dict[str, Any]:
    return await svc.rate_satisfaction(principal, workshop_id, body.level)


@router.get("/workshops/{workshop_id}/satisfaction")
async def workshop_satisfaction(workshop_id: Id, principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    return await svc.satisfaction(principal, workshop_id)


@router.get("/statistics/satisfaction")
async def community_satisfaction(principal: CurrentPrincipal, svc: CommunityDep) -> dict[str, Any]:
    """表6 研修类课程满意度 over every approved workshop (the centre)."""
    return await svc.satisfaction(principal)


@router.get("/statistics/subjects")
async def community_by_subject(principal: CurrentPrincipal, svc: CommunityDep) -> list[dict[str, Any]]:
    """Per subject: workshops, participants, resources, topics, assignments submitted / recommended and
    their rates (the centre)."""
    return await svc.statistics(principal)


# -- the people the term report counts (研修主持人, 研修助理, 督学) -----------------------------------------
CeNumber = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z]+$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
AssistantId = Annotated[str, Path(min_length=3, max_length=90, description="<school_id>:<subject>")]


class AssignedWorkshopIn(BaseModel):
    name: Name
    host_ce_number: CeNumber
    course_code: str = Field(min_length=1, max_length=40)
    subject: str | None = Field(default=None, max_length=40)


class AssistantIn(BaseModel):
    ce_number: CeNumber
    school_id: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")
    subject: str = Field(min_length=1, max_length=40)
    workshop_id: Id | None = Field(default=None, description="坊主推荐时填写其工作坊")


class TaskIn(BaseModel):
    title: Name


class SupervisorRecommendationIn(BaseModel):
    kind: Literal["host", "assistant", "resource", "school", "class_brief"]
    target: str = Field(min_length=1, max_length=100)
    reason: str = Field(default="", max_length=2000)


@router.post("/assigned-workshops", status_code=status.HTTP_201_CREATED, response_model=WorkshopOut)
async def assign_workshop(
    body: AssignedWorkshopIn, principal: CurrentPrincipal, people: CommunityPeopleDep
) -> dict[str, Any]:
    doc = await people.assign_workshop(
        principal,
        name=body.name,
        host_ce_number=body.host_ce_number,
        course_code=body.course_code,
        subject=body.subject,
    )
    return _out(doc)


@router.post("/assistants", status_code=status.HTTP_201_CREATED)
async def select_assistant(
    body: AssistantIn, principal: CurrentPrincipal, people: CommunityPeopleDep
) -> dict[str, Any]:
    doc = await people.select_assistant(
        principal,
        ce_number=body.ce_number,
        school_id=body.school_id,
        subject=body.subject,
        workshop_id=body.workshop_id,
    )
    return {k: v for k, v in _out(doc).items() if k not in ("_id", "tasks")}


@router.post("/assistants/{assistant_id}/tasks", status_code=status.HTTP_201_CREATED)
async def assign_assistant_task(
    assistant_id: AssistantId,
    body: TaskIn,
    principal: CurrentPrincipal,
    people: CommunityPeopleDep,
) -> dict[str, Any]:
    return await people.assign_task(principal, assistant_id, body.title)


@router.put("/assistants/{assistant_id}/tasks/{task_id}/done", status_code=status.HTTP_204_NO_CONTENT)
async def complete_assistant_task(
    assistant_id: AssistantId,
    task_id: Id,
    principal: CurrentPrincipal,
    people: CommunityPeopleDep,
) -> Response:
    await people.complete_task(principal, assistant_id, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/statistics/assistants")
async def assistant_statistics(principal: CurrentPrincipal, people: CommunityPeopleDep) -> list[dict[str, Any]]:
    """表10: research assistants configured, work completed and completion rate, per district."""
    return await people.assistant_statistics(principal)


@router.post("/supervisor-recommendations", status_code=status.HTTP_201_CREATED)
async def supervisor_recommend(
    body: SupervisorRecommendationIn, principal: CurrentPrincipal, people: CommunityPeopleDep
) -> dict[str, Any]:
    return _out(await people.recommend(principal, body.kind, body.target, body.reason))


@router.get("/supervisor-recommendations")
async def supervisor_recommendations(
    principal: CurrentPrincipal,
    people: CommunityPeopleDep,
    kind: Annotated[Literal["host", "assistant", "resource", "school", "class_brief"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    return [_out(d) for d in await people.list_recommendations(principal, kind)]


# -- the term report as .xlsx (the same access as the JSON tables: aggregates, no one's personal data) ----
Grouping = Annotated[Literal["district", "subject"], Query(description="district: 区域; subject: 教师个人信息表的学科")]


@router.get("/statistics/learning")
async def community_learning(
    principal: CurrentPrincipal, svc: CommunityDep, by: Grouping = "district"
) -> list[dict[str, Any]]:
    """表4 研修社区学情分析 by district or by the teacher's own subject, and a 总计 row (the centre: the city;
    a district admin: their district)."""
    return await svc.learning(principal, by)


@router.get("/statistics/assignments")
async def community_assignments(
    principal: CurrentPrincipal, svc: WorkshopActivitiesDep, by: Grouping = "district"
) -> list[dict[str, Any]]:
    """表12 各区研修作业提交情况 (by district, 总计) or 表13 各学科研修作业情况 (by the teacher's own subject, 合计):
    参训人数, 研修作业提交数 / 提交率, 合格数 / 合格率, 推荐优秀数 / 推荐优秀率 (the same access as 表4)."""
    return await svc.assignment_statistics(principal, by)


@router.get("/statistics/learning.xlsx", response_class=Response)
async def community_learning_xlsx(
    principal: CurrentPrincipal, svc: CommunityDep, by: Grouping = "district"
) -> Response:
    return xlsx_download(sheets.learning_xlsx(await svc.learning(principal, by), by), f"community-learning-{by}.xlsx")


@router.get("/statistics/assignments.xlsx", response_class=Response)
async def community_assignments_xlsx(
    principal: CurrentPrincipal, svc: WorkshopActivitiesDep, by: Grouping = "district"
) -> Response:
    rows = await svc.assignment_statistics(principal, by)
    return xlsx_download(sheets.assignments_xlsx(rows, by), f"community-assignments-{by}.xlsx")


@router.get("/statistics/subjects.xlsx", response_class=Response)
async def community_by_subject_xlsx(principal: CurrentPrincipal, svc: CommunityDep) -> Response:
    return xlsx_download(sheets.subjects_xlsx(await svc.statistics(principal)), "community-subjects.xlsx")


@router.get("/statistics/satisfaction.xlsx", response_class=Response)
async def community_satisfaction_xlsx(principal: CurrentPrincipal, svc: CommunityDep) -> Response:
    return xlsx_download(sheets.satisfaction_xlsx(await svc.satisfaction(principal)), "community-satisfaction.xlsx")


@router.get("/statistics/assistants.xlsx", response_class=Response)
async def assistant_statistics_xlsx(principal: CurrentPrincipal, people: CommunityPeopleDep) -> Response:
    return xlsx_download(
        sheets.assistants_xlsx(await people.assistant_statistics(principal)), "community-assistants.xlsx"
    )


@router.get("/supervisor-recommendations.xlsx", response_class=Response)
async def supervisor_recommendations_xlsx(principal: CurrentPrincipal, people: CommunityPeopleDep) -> Response:
    return xlsx_download(
        sheets.recommendations_xlsx(await people.list_recommendations(principal)), "supervisor-recommendations.xlsx"
    )
