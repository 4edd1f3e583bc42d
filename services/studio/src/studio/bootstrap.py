"""Composition root of studio: ``build(settings) -> Container`` (the API and the worker build on it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.ratelimit import RateLimits
from jijiao_kit.runtime import Infrastructure
from studio.adapters.activities import (
    ActivityRepository,
    ParticipationRepository,
    StageRepository,
    SubmissionRepository,
)
from studio.adapters.bulletins import BulletinRepository
from studio.adapters.community import (
    AssistantRepository,
    CommunityStatsReader,
    RecommendationRepository,
    ResourceRepository,
    TopicPostRepository,
    TopicRepository,
    WorkshopRepository,
)
from studio.adapters.content import FileRepository, FundsRepository, IndicatorRepository, PostRepository
from studio.adapters.directory import TeacherDirectory
from studio.adapters.evaluations import EvaluationRepository
from studio.adapters.qr import CheckinTokens, load_or_create_key
from studio.adapters.recruitment import ApplicationRepository, RecruitmentRepository
from studio.adapters.research_logs import ResearchLogRepository
from studio.adapters.studios import StudioRepository
from studio.adapters.uploads import FileStore
from studio.service_layer.activities import ActivityService
from studio.service_layer.bulletins import BulletinService
from studio.service_layer.community import CommunityService, Limits
from studio.service_layer.community_people import CommunityPeople
from studio.service_layer.content import ContentService
from studio.service_layer.evaluations import EvaluationService
from studio.service_layer.recruitment import RecruitmentService
from studio.service_layer.research_logs import ResearchLogService
from studio.service_layer.studios import StudioService
from studio.service_layer.workshop_activities import WorkshopActivityService
from studio.settings import Settings


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    verifier: TokenVerifier
    directory: TeacherDirectory
    studios: StudioService
    recruitment: RecruitmentService
    activities: ActivityService
    community: CommunityService
    workshop_activities: WorkshopActivityService
    community_people: CommunityPeople
    research_logs: ResearchLogService
    bulletins: BulletinService
    evaluations: EvaluationService
    content: ContentService
    clock: Clock = field(default_factory=SystemClock)


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    clock = clock or SystemClock()
    infra = Infrastructure.from_settings(settings)
    directory = TeacherDirectory(infra.db)
    studios = StudioRepository(infra.db)
    recruitments = RecruitmentRepository(infra.db)
    applications = ApplicationRepository(infra.db)
    studio_service = StudioService(studios, directory, clock, applications, recruitments)
    activity_repo = ActivityRepository(infra.db)
    tokens = CheckinTokens(load_or_create_key(settings.checkin_key_path()), settings.checkin_ttl_seconds)
    parts = ParticipationRepository(infra.db)
    file_repo = FileRepository(infra.db)
    activities = ActivityService(
        studio_service,
        StageRepository(infra.db),
        activity_repo,
        parts,
        applications,
        tokens,
        clock,
        settings.public_base_url,
        files=file_repo,
        submissions=SubmissionRepository(infra.db),
    )

    async def activity_counts(studio: dict[str, Any]) -> dict[str, int]:
        return {"published_activities": await activity_repo.count({"studio_id": studio["_id"], "status": "published"})}

    studio_service.count_hooks.append(activity_counts)
    bulletin_repo = BulletinRepository(infra.db)
    evaluation_repo = EvaluationRepository(infra.db)
    content = ContentService(
        studio_service,
        file_repo,
        FileStore(settings.files_dir),
        PostRepository(infra.db),
        FundsRepository(infra.db),
        IndicatorRepository(infra.db),
        activity_repo,
        bulletin_repo,
        evaluation_repo,
        applications,
        clock,
    )
    studio_service.count_hooks.append(content.unfinished_count)
    community = CommunityService(
        WorkshopRepository(infra.db),
        ResourceRepository(infra.db),
        TopicRepository(infra.db),
        TopicPostRepository(infra.db),
        FileStore(settings.community_files_dir),
        clock,
        Limits(
            settings.max_document_bytes,
            settings.max_video_bytes,
            uploads=settings.community_upload_rate,
            topics=settings.community_topic_rate,
            posts=settings.community_post_rate,
            ratings=settings.community_rating_rate,
            joins=settings.community_join_rate,
        ),
        CommunityStatsReader(infra.db),
        RateLimits(settings.redis_url, f"{settings.redis_prefix}ratelimit"),
    )
    activities.community = community  # online studio activities earn the community's points facts
    return Container(
        settings=settings,
        infra=infra,
        verifier=verifier_from_settings(settings),
        directory=directory,
        studios=studio_service,
        recruitment=RecruitmentService(recruitments, applications, studios, directory, clock),
        activities=activities,
        community=community,
        workshop_activities=WorkshopActivityService(community, activities),  # on the studio's activity service
        community_people=CommunityPeople(
            AssistantRepository(infra.db), RecommendationRepository(infra.db), community, clock, directory
        ),
        research_logs=ResearchLogService(ResearchLogRepository(infra.db), community, clock),
        content=content,
        bulletins=BulletinService(studio_service, bulletin_repo, clock),
        evaluations=EvaluationService(studio_service, evaluation_repo, applications, activity_repo, parts, clock),
        clock=clock,
    )
