"""The per-year rules document: caps, requirement, points rules. Data, not constants: these are only
the defaults (DOMAIN.md §6, §7 and the seed regulation); the city admin edits a year's rules via the API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jijiao_contracts.enums import HourCategory
from jijiao_kit.timeutil import BoundedUtcDateTime

PUBLIC, PROFESSIONAL, ELECTIVE = HourCategory.PUBLIC, HourCategory.PROFESSIONAL, HourCategory.ELECTIVE

# Rules are data the city admin edits (PUT /v1/rules/{year}): every number is finite and bounded, so an
# edit of 1e20 points or an Infinity of hours is refused as invalid_rules instead of failing in the store
# (64-bit integers) or in the JSON of every later answer (no Infinity in JSON). Unknown keys are refused
# too: a misspelt key used to be dropped silently, and the year's rules reset to the defaults.
MAX_RULE_HOURS = 10_000
MAX_RULE_POINTS = 1_000_000_000
RuleHours = Annotated[float, Field(ge=0, le=MAX_RULE_HOURS)]
RulePoints = Annotated[int, Field(ge=0, le=MAX_RULE_POINTS)]
FINITE = ConfigDict(allow_inf_nan=False, extra="forbid")


class Requirement(BaseModel):
    """Hours a year must reach to verify (configurable; the seed fixes only the 42-hour carry threshold)."""

    model_config = FINITE

    total: RuleHours = 72
    public: RuleHours = 24
    professional: RuleHours = 42
    elective: RuleHours = 0


class SourceRule(BaseModel):
    """How one source credits: its allowed categories, its yearly cap group and an optional per-item cap.

    ``cap_group`` may contain ``{category}`` (points redemption: one group per category)."""

    model_config = FINITE

    label: str
    categories: list[HourCategory]
    cap_group: str | None = None
    item_cap: RuleHours | None = None


class CapGroup(BaseModel):
    model_config = FINITE

    label: str
    cap: RuleHours


class PointsRule(BaseModel):
    """One basic or reward rule of §7: points per fact and the yearly cap of the item (None = no cap)."""

    model_config = FINITE

    label: str
    kind: str = "basic"
    points: RulePoints
    cap: RulePoints | None = None


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opens_at: BoundedUtcDateTime
    closes_at: BoundedUtcDateTime


def _sources() -> dict[str, SourceRule]:
    s = SourceRule
    return {
        "platform_course": s(label="平台网络课程", categories=[PUBLIC, PROFESSIONAL, ELECTIVE]),
        "training_class": s(label="市、区培训班", categories=[PROFESSIONAL]),
        "national_provincial_training": s(label="国家级、省级培训", categories=[PROFESSIONAL]),
        "teaching_research": s(label="市、区教研活动", categories=[PROFESSIONAL], cap_group="teaching_research"),
        "online_trainer": s(label="网络课程培训者、工作坊坊主或助理", categories=[PROFESSIONAL]),
        "studio": s(label="工作室培训", categories=[PROFESSIONAL], cap_group="studio"),
        "degree_related": s(label="学历教育(专业一致或相近)", categories=[PROFESSIONAL], cap_group="degree_related"),
        "degree_unrelated": s(label="学历教育(专业不对口)", categories=[ELECTIVE], cap_group="degree_unrelated"),
        "research_output_main": s(
            label="科研成果(主创人)", categories=[PROFESSIONAL], cap_group="research_output", item_cap=28
        ),
        "research_output_other": s(
            label="科研成果(非主创人)", categories=[PROFESSIONAL], cap_group="research_output", item_cap=14
        ),
        "vocational_qualification": s(
            label="国家职业资格证书", categories=[PROFESSIONAL], cap_group="vocational_qualification"
        ),
        "industry_training": s(label="行业培训", categories=[PROFESSIONAL], cap_group="industry_training"),
        "mental_health_certificate": s(label="心理健康教育证书", categories=[PROFESSIONAL]),
        "school_based": s(label="校本研修", categories=[ELECTIVE], cap_group="school_based"),
        "xuexi_qiangguo": s(label="学习强国积分", categories=[ELECTIVE], cap_group="xuexi_qiangguo"),
        "points_redemption": s(
            label="网络研修积分兑换", categories=[PROFESSIONAL, ELECTIVE], cap_group="points_redemption_{category}"
        ),
    }


def _cap_groups() -> dict[str, CapGroup]:
    g = CapGroup
    return {
        "teaching_research": g(label="教研活动", cap=10),
        "studio": g(label="工作室", cap=42),
        "degree_related": g(label="学历教育(专业相近)", cap=28),
        "degree_unrelated": g(label="学历教育(专业不对口)", cap=18),
        "research_output": g(label="科研成果", cap=28),
        "vocational_qualification": g(label="国家职业资格证书", cap=20),
        "industry_training": g(label="行业培训", cap=42),
        "school_based": g(label="校本研修", cap=18),
        "xuexi_qiangguo": g(label="学习强国", cap=8),
        "points_redemption_professional": g(label="积分兑换专业科目", cap=10),
        "points_redemption_elective": g(label="积分兑换个人选修科目", cap=10),
    }


def _points_rules() -> dict[str, PointsRule]:
    p = PointsRule
    return {
        # basic points
        "shared_resource": p(label="共享资源", points=20, cap=100),
        "discussion_topic": p(label="发表研讨话题(10人以上回复)", points=10, cap=100),
        "workshop_founded": p(label="创立研修工作坊", points=50, cap=100),
        "activity_segment_created": p(label="创建研修活动环节", points=20, cap=100),
        # reward points
        "excellent_resource": p(label="优秀共享资源", kind="reward", points=20, cap=100),
        "popular_topic": p(label="研讨话题参与度高", kind="reward", points=10, cap=100),
        "activity_participation": p(label="研修活动参与", kind="reward", points=10),
        "assignment_recommended": p(label="研修作业推优", kind="reward", points=20),
        "active_workshop_host": p(label="研修工作坊活跃度(坊主)", kind="reward", points=100),
        "active_workshop_participant": p(label="研修工作坊活跃度(参与者)", kind="reward", points=20),
        "workshop_featured_host": p(label="研修工作坊置顶(坊主)", kind="reward", points=500),
        "workshop_featured_participant": p(label="研修工作坊置顶(参与者)", kind="reward", points=100),
    }


#: The years the hours bank keeps rules for (and the API accepts); nothing is credited outside them.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class YearRules(BaseModel):
    """Everything that decides crediting, verification and points for one year."""

    model_config = FINITE

    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    requirement: Requirement = Field(default_factory=Requirement)
    carry_over_threshold: RuleHours = 42
    sources: dict[str, SourceRule] = Field(default_factory=_sources)
    cap_groups: dict[str, CapGroup] = Field(default_factory=_cap_groups)
    xuexi_points_per_hour: int = Field(300, ge=1, le=MAX_RULE_POINTS)
    points_per_hour: int = Field(100, ge=1, le=MAX_RULE_POINTS)
    redemption_caps: dict[HourCategory, Annotated[int, Field(ge=0, le=MAX_RULE_HOURS)]] = Field(
        default_factory=lambda: {PROFESSIONAL: 10, ELECTIVE: 10}
    )
    points_rules: dict[str, PointsRule] = Field(default_factory=_points_rules)
    complaint_period: Period | None = None

    @model_validator(mode="after")
    def _consistent(self) -> YearRules:
        for name, source in self.sources.items():
            if source.cap_group is None:
                continue
            for category in source.categories:
                group = source.cap_group.format(category=category.value)
                if group not in self.cap_groups:
                    raise ValueError(f"source {name} uses unknown cap group {group}")
        return self

    def cap_group(self, source: str, category: HourCategory) -> str | None:
        rule = self.sources[source]
        return rule.cap_group.format(category=category.value) if rule.cap_group else None

    def all_groups(self) -> list[str]:
        return sorted(self.cap_groups)


def default_rules(year: int) -> YearRules:
    return YearRules(year=year)
