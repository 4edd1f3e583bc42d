"""The research community (研修社区, DOMAIN.md §7, the annex 网络研修积分兑换学时规则): workshops, shared
resources, topics. Pure rules: the thresholds at which a behaviour earns points, and which points facts a
change of state produces. The points themselves and the yearly caps live in the hours bank; here a fact
only says who did what, under which rule, about what (``reference`` expresses the rule's uniqueness)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

#: The natural year of the points bank is China's (UTC+8).
CHINA = timezone(timedelta(hours=8))


class Rule(StrEnum):
    """The rules of the points bank the community triggers (names as in PointsFactRecorded)."""

    SHARED_RESOURCE = "shared_resource"  # 共享资源 20, duplicates earn nothing
    DISCUSSION_TOPIC = "discussion_topic"  # 研讨话题, 10 or more repliers: 10
    WORKSHOP_FOUNDED = "workshop_founded"  # 创立研修工作坊 (as host): 50
    ACTIVITY_SEGMENT_CREATED = "activity_segment_created"  # 创建研修活动环节 in one's workshop: 20
    EXCELLENT_RESOURCE = "excellent_resource"  # 优秀共享资源: >= 20 ratings averaging >= 3 stars: 20
    POPULAR_TOPIC = "popular_topic"  # 话题参与度高: >= 20 participants: 10
    ACTIVITY_PARTICIPATION = "activity_participation"  # > 10 participants and outputs: each participant 10
    ASSIGNMENT_RECOMMENDED = "assignment_recommended"  # 研修作业推优: 20 each recommendation
    ACTIVE_WORKSHOP_HOST = "active_workshop_host"  # 工作坊活跃度: host 100
    ACTIVE_WORKSHOP_PARTICIPANT = "active_workshop_participant"  # each participant 20
    WORKSHOP_FEATURED_HOST = "workshop_featured_host"  # 工作坊置顶: host 500
    WORKSHOP_FEATURED_PARTICIPANT = "workshop_featured_participant"  # each participant 100


#: Thresholds of the annex.
TOPIC_REPLIERS = 10  # "有10人以上的讨论回复": ten or more distinct repliers (the author not counted)
TOPIC_PARTICIPANTS = 20  # "有20人及以上参与": twenty or more distinct participants (repliers and commenters)
EXCELLENT_RATINGS = 20  # "获得20人及以上好评"
EXCELLENT_AVERAGE = 3  # "平均好评三星级及以上"
#: "10人以上参与": in Chinese 以上 includes the number, as in the topic rules: ten or more teachers other than
#: the host (the annex: "其他教师参与").
ACTIVE_WORKSHOP_PARTICIPANTS = 10
ACTIVITY_PARTICIPANTS = 10

#: Rating scale of a shared resource (stars).
MIN_STARS, MAX_STARS = 1, 5


def points_year(at: datetime) -> int:
    """The natural year (China's) a behaviour at ``at`` earns points in."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA).year


@dataclass(frozen=True)
class Fact:
    """One points fact: ``ce_number`` earns under ``rule`` about ``reference`` (unique per teacher, year,
    rule and reference in the hours bank)."""

    ce_number: str
    rule: Rule
    reference: str

    @property
    def fact_id(self) -> str:
        """The same fact always has the same id (a replay is recognisable)."""
        return f"{self.rule.value}:{self.reference}:{self.ce_number}"


# -- workshops ----------------------------------------------------------------------------------------
class WorkshopStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


def founding_facts(workshop: Mapping[str, Any]) -> list[Fact]:
    """Founding approved: the founder (host, 坊主) earns ``workshop_founded`` once per workshop."""
    return [Fact(workshop["host_ce_number"], Rule.WORKSHOP_FOUNDED, workshop["_id"])]


def featuring_facts(workshop: Mapping[str, Any]) -> list[Fact]:
    """Featured on the community home page: host 500 and each participant 100, once per workshop."""
    wid = workshop["_id"]
    host = workshop["host_ce_number"]
    facts = [Fact(host, Rule.WORKSHOP_FEATURED_HOST, wid)]
    facts += [
        Fact(ce, Rule.WORKSHOP_FEATURED_PARTICIPANT, wid)
        for ce in sorted(workshop.get("participants") or {})
        if ce != host
    ]
    return facts


def is_active(others: int, real_activities: int) -> bool:
    """An active workshop (研修工作坊活跃度): ten or more participants other than the host ("10人以上") and
    real activities."""
    return others >= ACTIVE_WORKSHOP_PARTICIPANTS and real_activities >= 1


def other_participants(workshop: Mapping[str, Any]) -> int:
    """The workshop's participants other than its host: ``participant_count`` counts the host, who takes
    part in their workshop from its founding (or assignment) on and cannot leave it."""
    return max(int(workshop.get("participant_count", 0)) - 1, 0)


def activity_facts(workshop: Mapping[str, Any]) -> list[Fact]:
    """The workshop became active: host 100, each participant 20, once per workshop."""
    wid = workshop["_id"]
    host = workshop["host_ce_number"]
    facts = [Fact(host, Rule.ACTIVE_WORKSHOP_HOST, wid)]
    facts += [
        Fact(ce, Rule.ACTIVE_WORKSHOP_PARTICIPANT, wid)
        for ce in sorted(workshop.get("participants") or {})
        if ce != host
    ]
    return facts


def becomes_active(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """The change from ``before`` to ``after`` makes the workshop active for the first time."""
    if before.get("active") or after.get("status") != WorkshopStatus.APPROVED or after.get("hidden"):
        return False
    return is_active(other_participants(after), int(after.get("real_activities", 0)))


# -- shared resources ---------------------------------------------------------------------------------
def valid_stars(stars: object) -> bool:
    return isinstance(stars, int) and not isinstance(stars, bool) and MIN_STARS <= stars <= MAX_STARS


def is_excellent(count: int, total: int) -> bool:
    """Twenty or more ratings averaging three stars or more (sum >= 3 * count, exact in integers)."""
    return count >= EXCELLENT_RATINGS and total >= EXCELLENT_AVERAGE * count


@dataclass(frozen=True)
class Rating:
    """What one rating (new or changed) does to the resource's counters."""

    count_delta: int
    sum_delta: int
    excellent_now: bool  # the resource becomes excellent with this very write


def rate(count: int, total: int, flagged: bool, previous: int | None, stars: int, *, earns: bool = True) -> Rating:
    """A teacher rates ``stars`` (``previous`` is their earlier rating, if any). Only the earning (first)
    share of a content can become excellent (``earns``): a duplicate is rated, but its ratings earn
    nothing, so one file cannot collect the excellent-resource points once per copy."""
    count_delta = 0 if previous is not None else 1
    sum_delta = stars - (previous or 0)
    now = is_excellent(count + count_delta, total + sum_delta)
    return Rating(count_delta, sum_delta, excellent_now=now and not flagged and earns)


# -- topics -------------------------------------------------------------------------------------------
class PostKind(StrEnum):
    REPLY = "reply"  # 回复 to the topic
    COMMENT = "comment"  # 评论 on a reply


@dataclass(frozen=True)
class TopicChange:
    """What a post does to the topic's counters of distinct teachers, and the facts it makes true.
    ``counted``: the post counts at all (False for the topic's author, who counts neither way)."""

    new_participant: bool
    new_replier: bool
    facts: tuple[Fact, ...]
    counted: bool = False


def topic_earns(topic: Mapping[str, Any]) -> bool:
    """Hidden content earns nothing: neither a hidden topic nor one of a hidden workshop."""
    return not (topic.get("hidden") or topic.get("workshop_hidden"))


def post_change(topic: Mapping[str, Any], ce_number: str, kind: PostKind) -> TopicChange:
    """A (visible) post by ``ce_number``: the author of the topic counts neither as replier nor as
    participant. The counters move for every other teacher's post, also while the topic is hidden (a
    moderator shows a hidden post again); facts only come from a topic that earns (``topic_earns``)."""
    if ce_number == topic["author_ce_number"]:
        return TopicChange(False, False, ())
    new_participant = ce_number not in (topic.get("participants") or {})
    new_replier = kind == PostKind.REPLY and ce_number not in (topic.get("repliers") or {})
    facts: list[Fact] = []
    repliers = int(topic.get("replier_count", 0)) + int(new_replier)
    participants = int(topic.get("participant_count", 0)) + int(new_participant)
    earns = topic_earns(topic)
    if earns and new_replier and repliers >= TOPIC_REPLIERS and not topic.get("discussed"):
        facts.append(Fact(topic["author_ce_number"], Rule.DISCUSSION_TOPIC, topic["_id"]))
    if earns and new_participant and participants >= TOPIC_PARTICIPANTS and not topic.get("popular"):
        facts.append(Fact(topic["author_ce_number"], Rule.POPULAR_TOPIC, topic["_id"]))
    return TopicChange(new_participant, new_replier, tuple(facts), counted=True)


@dataclass(frozen=True)
class Uncount:
    """What hiding one post does to the topic's counters: each teacher's entry in ``participants`` /
    ``repliers`` is the number of their visible posts / replies, and the teacher stops counting as a
    distinct participant / replier when it drops to nothing. ``participant`` / ``replier``: the entry
    as read (None: not counted, the author or a post that never counted), the compare-and-set's value."""

    participant: int | None
    replier: int | None

    @property
    def participant_leaves(self) -> bool:
        return self.participant is not None and self.participant <= 1

    @property
    def replier_leaves(self) -> bool:
        return self.replier is not None and self.replier <= 1


def hidden_post_change(topic: Mapping[str, Any], ce_number: str, kind: str) -> Uncount:
    """A post of ``ce_number`` is hidden: it stops counting toward thresholds not yet crossed (the flags
    and the facts of a crossed line stay). The author's posts never counted."""
    if ce_number == topic["author_ce_number"]:
        return Uncount(None, None)
    participant = (topic.get("participants") or {}).get(ce_number)
    replier = (topic.get("repliers") or {}).get(ce_number) if kind == PostKind.REPLY else None
    return Uncount(int(participant) if participant is not None else None, int(replier) if replier is not None else None)


def counter_guard(count: int, threshold: int, *, moves: bool, crossing: bool) -> int | dict[str, int] | None:
    """The filter on one distinct-teacher counter (read as ``count``) under which a write that adds one
    to it (``moves``) cannot cross ``threshold`` without its fact: the crossing write itself compares
    and sets the exact count (so of simultaneous writes exactly one goes from ``threshold - 1`` up, and
    it carries the fact); a write far below the line only needs to stay below it (``$lt threshold - 1``,
    so concurrent counting writes on a busy topic do not refuse each other); past the line (its fact is
    out, the flag set) and for a counter the write does not move, nothing."""
    if not moves:
        return None
    if crossing:
        return count
    if count + 1 < threshold:
        return {"$lt": threshold - 1}
    return None


def topic_guards(topic: Mapping[str, Any], change: TopicChange) -> dict[str, Any]:
    """The filter on the topic's counters for ``change`` (from ``post_change`` of the same ``topic``).
    The crossing write also compares its flag (still unset): a hidden post takes its teacher out of the
    counts, so a count can come back down to a line crossed before and must not pay twice."""
    rules = {fact.rule for fact in change.facts}
    guards: dict[str, Any] = {}
    for field, moves, threshold, rule, flag in (
        ("participant_count", change.new_participant, TOPIC_PARTICIPANTS, Rule.POPULAR_TOPIC, "popular"),
        ("replier_count", change.new_replier, TOPIC_REPLIERS, Rule.DISCUSSION_TOPIC, "discussed"),
    ):
        guard = counter_guard(int(topic.get(field, 0)), threshold, moves=moves, crossing=rule in rules)
        if guard is not None:
            guards[field] = guard
        if rule in rules:
            guards[flag] = False
    return guards


# -- problems -----------------------------------------------------------------------------------------
PROBLEMS: dict[str, tuple[int, str]] = {
    "workshop_not_found": (404, "研修工作坊不存在"),
    "workshop_not_pending": (409, "该工作坊申请已审核"),
    "workshop_not_approved": (409, "工作坊尚未通过审核"),
    "reason_required": (422, "不通过时须填写理由"),
    "already_featured": (409, "该工作坊已置顶过，同一工作坊最多置顶一次"),
    "already_joined": (409, "已加入该工作坊"),
    "not_joined": (409, "未加入该工作坊"),
    "host_cannot_leave": (409, "坊主不能退出自己的工作坊"),
    "not_workshop_host": (403, "只有坊主可以进行此操作"),
    "resource_not_found": (404, "资源不存在"),
    "invalid_stars": (422, "评分须为1至5星"),
    "own_resource": (409, "不能给自己共享的资源评分"),
    "topic_not_found": (404, "话题不存在"),
    "post_not_found": (404, "回复不存在"),
    "not_teacher": (403, "只有教师可以进行此操作"),
    "not_moderator": (403, "无权管理该内容"),
    "busy": (409, "系统繁忙，请稍后重试"),
    "workshop_hidden": (409, "该工作坊已被屏蔽"),
    "content_hidden": (409, "该文件已被屏蔽，不能再次共享"),
}


# -- workshop activities and assignments (研修活动, 研修作业) ------------------------------------------
def segment_facts(host: str, segments: Sequence[Mapping[str, Any]]) -> list[Fact]:
    """创建研修活动环节: each segment the host creates in their own workshop earns once (by segment id)."""
    return [Fact(host, Rule.ACTIVITY_SEGMENT_CREATED, seg["id"]) for seg in segments]


def participation_facts(activity_id: str, participants: set[str], outputs: int) -> list[Fact]:
    """研修活动参与度: ten or more participants other than the host ("10人以上", ``participants`` leaves the
    host out) and research outputs: each participant 10, once per activity (judged when the host organises
    it with the summary)."""
    if len(participants) < ACTIVITY_PARTICIPANTS or outputs < 1:
        return []
    return [Fact(ce, Rule.ACTIVITY_PARTICIPATION, activity_id) for ce in sorted(participants)]


def recommendation_fact(author: str, assignment_id: str) -> Fact:
    """研修作业推优: an assignment recommended by the host earns its author 20, once per assignment (the
    assignment is the reference: recommending it again earns nothing)."""
    return Fact(author, Rule.ASSIGNMENT_RECOMMENDED, assignment_id)


PROBLEMS.update(
    {
        "activity_not_found": (404, "研修活动不存在"),
        "assignment_not_found": (404, "研修作业不存在"),
        "already_handed_in": (409, "研修作业已提交"),
        "already_recommended": (409, "该研修作业已推优"),
        "own_assignment": (409, "坊主不能推荐自己的研修作业"),
        "host_cannot_hand_in": (409, "坊主不在自己的工作坊提交研修作业"),
        "log_not_found": (404, "研修日志不存在"),
        "not_log_author": (403, "只能修改或删除自己的研修日志"),
    }
)


# -- satisfaction (满意度, the term report's five-level scale, 表5/表6) ---------------------------------
class Satisfaction(StrEnum):
    BAD = "bad"  # 差
    POOR = "poor"  # 较差
    FAIR = "fair"  # 一般
    GOOD = "good"  # 较好
    VERY_GOOD = "very_good"  # 好


SATISFACTION_LABELS = {
    Satisfaction.BAD: "差",
    Satisfaction.POOR: "较差",
    Satisfaction.FAIR: "一般",
    Satisfaction.GOOD: "较好",
    Satisfaction.VERY_GOOD: "好",
}


def percent(part: int, whole: int) -> str:
    """A rate as the seed prints it: two decimals and a percent sign (``0.27%``, ``90.00%``), but a full
    rate without decimals (``100%``: 表3 心理 20 of 20, 表13 化学 1115 of 1115); ``-`` of nothing. The
    decision is on the printed (rounded) figure, so a rate that rounds to 100.00 prints ``100%`` too."""
    if whole <= 0:
        return "-"
    text = f"{part * 100 / whole:.2f}"
    return "100%" if text == "100.00" else f"{text}%"


def satisfaction_distribution(counts: Mapping[str, int]) -> dict[str, Any]:
    """Rows of 满意程度 / 选择人次 / 总人次 / 所占百分比 and the "一般以上" rate (fair or better)."""
    total = sum(int(counts.get(level.value, 0)) for level in Satisfaction)
    rows: list[dict[str, Any]] = [
        {
            "level": level.value,
            "label": SATISFACTION_LABELS[level],
            "count": int(counts.get(level.value, 0)),
            "percent": percent(int(counts.get(level.value, 0)), total),
        }
        for level in Satisfaction
    ]
    fair_or_better = sum(r["count"] for r in rows if r["level"] in ("fair", "good", "very_good"))
    return {"total": total, "rows": rows, "fair_or_better": percent(fair_or_better, total)}


def subject_rows(
    workshops: Sequence[Mapping[str, Any]],
    resources: Mapping[str | None, int],
    topics: Mapping[str | None, int],
    assignments: Sequence[Mapping[str, Any]],
    logs: Mapping[str | None, int] | None = None,
) -> list[dict[str, Any]]:
    """The community by subject (学科): workshops, participants, the generated content of the seed's 图4
    (研修资源, 研修日志, 研修话题: visible resources, research logs and topics per workshop id), assignments
    submitted and recommended, submission rate = submitted / participants, excellent rate = recommended /
    submitted (表12, 表13). Content outside any workshop counts under 其他; content of a workshop not among
    ``workshops`` (the approved, visible ones) is not counted."""
    other = "其他"
    subject_of = {w["_id"]: (w.get("subject") or other) for w in workshops}
    rows: dict[str, dict[str, Any]] = {}

    def row(subject: str) -> dict[str, Any]:
        return rows.setdefault(
            subject,
            {
                "subject": subject,
                "workshops": 0,
                "participants": 0,
                "resources": 0,
                "logs": 0,
                "topics": 0,
                "submitted": 0,
                "recommended": 0,
            },
        )

    for w in workshops:
        r = row(subject_of[w["_id"]])
        r["workshops"] += 1
        r["participants"] += int(w.get("participant_count", 0))
    for key, counts in (("resources", resources), ("logs", logs or {}), ("topics", topics)):
        for wid, n in counts.items():
            if wid and wid not in subject_of:
                continue  # content of a workshop that is not listed (hidden): not counted
            row(subject_of[wid] if wid else other)[key] += n
    for a in assignments:
        if a["workshop_id"] in subject_of:
            r = row(subject_of[a["workshop_id"]])
            r["submitted"] += int(a["submitted"])
            r["recommended"] += int(a["recommended"])
    out = sorted(rows.values(), key=lambda r: (r["subject"] == other, r["subject"]))
    for r in out:
        r["submission_rate"] = percent(r["submitted"], r["participants"])
        r["excellent_rate"] = percent(r["recommended"], r["submitted"])
    return out


# -- the term report's learning tables (表4 by district, 表12 by district, 表13 by the teacher's subject) -----
@dataclass(frozen=True)
class Learner:
    """One participant of the community (a teacher in an approved workshop, its host not counted)."""

    group: str  # the district (区域) or the teacher's own subject (教师个人信息表的学科)
    studied: bool  # did at least one segment of a workshop activity (学习人数)
    assignments: int  # assignments handed in (研修作业提交数, 作品提交情况)
    recommended: int  # of those, recommended as excellent (推荐优秀数)
    passed: int = 0  # of those, graded 合格 by the host or the centre (研修作业合格数; ungraded: not passed)

    @classmethod
    def of(cls, person: Mapping[str, Any], by: str) -> Learner:
        """A learner from the statistics reader's record of one participant, grouped ``by`` district or
        subject."""
        return cls(
            str(person[by] or ""),
            bool(person["studied"]),
            int(person["assignments"]),
            int(person["recommended"]),
            int(person.get("passed", 0)),
        )


OTHER_GROUP = "其他"
TOTAL = "总计"  # 表4's and 表12's total row
SUBJECT_TOTAL = "合计"  # 表13's total row

#: 表4 研修社区学情分析: its columns as the seed prints them (key, header); the grouping column comes first.
LEARNING_COLUMNS = (
    ("participants", "选修人数"),
    ("studied", "学习人数"),
    ("learning_rate", "学习率(%)"),
    ("passed", "通过人数"),
    ("pass_rate", "通过率(%)"),
    ("works", "作品提交情况"),
)

#: 表12 各区研修作业提交情况 and 表13 各学科研修作业情况: their columns as the seed prints them.
ASSIGNMENT_COLUMNS = (
    ("participants", "参训人数"),
    ("submitted", "研修作业提交数"),
    ("submission_rate", "研修作业提交率"),
    ("passed", "研修作业合格数"),
    ("pass_rate", "研修作业合格率"),
    ("recommended", "推荐优秀数"),
    ("excellent_rate", "推荐优秀率"),
)


def _groups(learners: Sequence[Learner]) -> dict[str, list[Learner]]:
    groups: dict[str, list[Learner]] = {}
    for learner in learners:
        groups.setdefault(learner.group or OTHER_GROUP, []).append(learner)
    return groups


def learning_rows(learners: Sequence[Learner]) -> list[dict[str, Any]]:
    """表4 (a row per group and a 总计 row) as the seed defines it: 学习率 = 学习人数 / 选修人数; 通过人数 =
    those with an assignment graded 合格 (the seed: a research course needs its assignment, "研修课程需要完成
    研修作业", and 表4's 通过人数 53441 is below 表12's 53534 assignments 合格, never above; an ungraded or
    不合格 assignment does not pass), 通过率 = 通过人数 / 学习人数; 作品提交情况 = assignments handed in.
    Groups by 选修人数, largest first."""

    def row(group: str, members: Sequence[Learner]) -> dict[str, Any]:
        participants = len(members)
        studied = sum(1 for m in members if m.studied)
        passed = sum(1 for m in members if m.passed > 0)
        return {
            "group": group,
            "participants": participants,
            "studied": studied,
            "learning_rate": percent(studied, participants),
            "passed": passed,
            "pass_rate": percent(passed, studied),
            "works": sum(m.assignments for m in members),
        }

    rows = [row(group, members) for group, members in _groups(learners).items()]
    rows.sort(key=lambda r: (-r["participants"], r["group"]))
    return [*rows, row(TOTAL, learners)]


@dataclass(frozen=True)
class AssignmentRow:
    """One row of 表12 (by district) or 表13 (by the teacher's subject): 研修作业提交率 = 提交数 / 参训人数;
    研修作业合格率 = 合格数 / 提交数; 推荐优秀率 = 推荐优秀数 / 提交数 (the seed's note under 表12). 合格数 counts
    the assignments the host or the centre graded 合格 (the last grade; an ungraded one is not 合格)."""

    group: str
    participants: int
    submitted: int
    submission_rate: str
    passed: int
    pass_rate: str
    recommended: int
    excellent_rate: str

    @classmethod
    def of(cls, group: str, members: Sequence[Learner]) -> AssignmentRow:
        participants = len(members)
        submitted = sum(m.assignments for m in members)
        passed = sum(m.passed for m in members)
        recommended = sum(m.recommended for m in members)
        return cls(
            group=group,
            participants=participants,
            submitted=submitted,
            submission_rate=percent(submitted, participants),
            passed=passed,
            pass_rate=percent(passed, submitted),
            recommended=recommended,
            excellent_rate=percent(recommended, submitted),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def assignment_rows(learners: Sequence[Learner], total: str = TOTAL) -> list[AssignmentRow]:
    """表12 / 表13: a row per group (by 参训人数, largest first) and the total row (表12 总计, 表13 合计)."""
    rows = [AssignmentRow.of(group, members) for group, members in _groups(learners).items()]
    rows.sort(key=lambda r: (-r.participants, r.group))
    return [*rows, AssignmentRow.of(total, learners)]


# -- research assistants' work (表10 研修助理工作情况) -------------------------------------------------------
ASSISTANT_TOTAL = "合计"


def work_complete(assistant: Mapping[str, Any]) -> bool:
    """An assistant completed their work: every task assigned to them is done (and there was one)."""
    assigned = int(assistant.get("assigned", 0))
    return assigned > 0 and int(assistant.get("completed", 0)) >= assigned


def assistant_rows(assistants: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """表10 per district and a 合计 row, as the seed computes it: 配置助理数 = assistants configured, 完成工作数
    = those of them who completed their work (every assigned task done), 完成比例 = 完成工作数 / 配置助理数
    (局属学校 49 / 150 = 32.67%). The tasks assigned and completed come along."""
    rows: dict[str, dict[str, Any]] = {}

    def new(district: str) -> dict[str, Any]:
        return {"district": district, "configured": 0, "completed": 0, "tasks_assigned": 0, "tasks_completed": 0}

    def add(row: dict[str, Any], doc: Mapping[str, Any]) -> None:
        row["configured"] += 1
        row["completed"] += int(work_complete(doc))
        row["tasks_assigned"] += int(doc.get("assigned", 0))
        row["tasks_completed"] += int(doc.get("completed", 0))

    total = new(ASSISTANT_TOTAL)
    for doc in assistants:
        district = str(doc.get("district") or "")
        add(rows.setdefault(district, new(district)), doc)
        add(total, doc)
    out = [*sorted(rows.values(), key=lambda r: str(r["district"])), total]
    for row in out:
        row["completion_rate"] = percent(row["completed"], row["configured"])
    return out
