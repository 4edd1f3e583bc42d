"""Annotated dependencies of the studio API (routers import these, never bootstrap's functions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from studio.bootstrap import Container
from studio.service_layer.activities import ActivityService
from studio.service_layer.bulletins import BulletinService
from studio.service_layer.community import CommunityService
from studio.service_layer.community_people import CommunityPeople
from studio.service_layer.content import ContentService
from studio.service_layer.evaluations import EvaluationService
from studio.service_layer.recruitment import RecruitmentService
from studio.service_layer.studios import StudioService
from studio.service_layer.workshop_activities import WorkshopActivityService


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_studios(container: ContainerDep) -> StudioService:
    return container.studios


StudiosDep = Annotated[StudioService, Depends(get_studios)]


async def get_recruitment(container: ContainerDep) -> RecruitmentService:
    return container.recruitment


RecruitmentDep = Annotated[RecruitmentService, Depends(get_recruitment)]


async def get_activities(container: ContainerDep) -> ActivityService:
    return container.activities


ActivitiesDep = Annotated[ActivityService, Depends(get_activities)]


async def get_community(container: ContainerDep) -> CommunityService:
    return container.community


CommunityDep = Annotated[CommunityService, Depends(get_community)]


async def get_workshop_activities(container: ContainerDep) -> WorkshopActivityService:
    return container.workshop_activities


WorkshopActivitiesDep = Annotated[WorkshopActivityService, Depends(get_workshop_activities)]


async def get_bulletins(container: ContainerDep) -> BulletinService:
    return container.bulletins


BulletinsDep = Annotated[BulletinService, Depends(get_bulletins)]


async def get_evaluations(container: ContainerDep) -> EvaluationService:
    return container.evaluations


EvaluationsDep = Annotated[EvaluationService, Depends(get_evaluations)]


async def get_content(container: ContainerDep) -> ContentService:
    return container.content


ContentDep = Annotated[ContentService, Depends(get_content)]


async def get_community_people(container: ContainerDep) -> CommunityPeople:
    return container.community_people


CommunityPeopleDep = Annotated[CommunityPeople, Depends(get_community_people)]
