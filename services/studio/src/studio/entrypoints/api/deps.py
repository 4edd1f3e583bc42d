"""Annotated dependencies of the studio API (routers import these, never bootstrap's functions). One
getter per part (``jijiao_kit.deps``), named here so tests can override it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from jijiao_kit.deps import container_getter, part
from studio.bootstrap import Container
from studio.service_layer.activities import ActivityService
from studio.service_layer.bulletins import BulletinService
from studio.service_layer.community import CommunityService
from studio.service_layer.community_people import CommunityPeople
from studio.service_layer.content import ContentService
from studio.service_layer.evaluations import EvaluationService
from studio.service_layer.recruitment import RecruitmentService
from studio.service_layer.research_logs import ResearchLogService
from studio.service_layer.studios import StudioService
from studio.service_layer.workshop_activities import WorkshopActivityService

get_container = container_getter(Container)
ContainerDep = Annotated[Container, Depends(get_container)]

get_studios = part(get_container, lambda c: c.studios)
get_recruitment = part(get_container, lambda c: c.recruitment)
get_activities = part(get_container, lambda c: c.activities)
get_community = part(get_container, lambda c: c.community)
get_workshop_activities = part(get_container, lambda c: c.workshop_activities)
get_bulletins = part(get_container, lambda c: c.bulletins)
get_evaluations = part(get_container, lambda c: c.evaluations)
get_content = part(get_container, lambda c: c.content)
get_community_people = part(get_container, lambda c: c.community_people)
get_research_logs = part(get_container, lambda c: c.research_logs)

StudiosDep = Annotated[StudioService, Depends(get_studios)]
RecruitmentDep = Annotated[RecruitmentService, Depends(get_recruitment)]
ActivitiesDep = Annotated[ActivityService, Depends(get_activities)]
CommunityDep = Annotated[CommunityService, Depends(get_community)]
WorkshopActivitiesDep = Annotated[WorkshopActivityService, Depends(get_workshop_activities)]
BulletinsDep = Annotated[BulletinService, Depends(get_bulletins)]
EvaluationsDep = Annotated[EvaluationService, Depends(get_evaluations)]
ContentDep = Annotated[ContentService, Depends(get_content)]
CommunityPeopleDep = Annotated[CommunityPeople, Depends(get_community_people)]
ResearchLogsDep = Annotated[ResearchLogService, Depends(get_research_logs)]
