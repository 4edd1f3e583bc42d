"""The research community's thresholds and the facts each change produces (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from jijiao_stack import samples
from studio.adapters.community_files import check_shared_file, clean_html
from studio.domain import community as c
from studio.domain.community import Fact, PostKind, Rule


def topic(**kw: object) -> dict[str, object]:
    return {"_id": "t1", "author_ce_number": "A", "participants": {}, "repliers": {}, **kw}


def test_excellent_needs_twenty_ratings_averaging_three_stars() -> None:
    assert not c.is_excellent(19, 95)
    assert c.is_excellent(20, 60)
    assert not c.is_excellent(20, 59)
    assert c.is_excellent(30, 90) and not c.is_excellent(30, 89)


def test_the_rating_that_crosses_the_line_is_the_only_one_that_flags() -> None:
    assert c.rate(19, 57, False, None, 3).excellent_now
    assert not c.rate(19, 57, False, None, 2).excellent_now  # 59 < 60
    assert not c.rate(20, 60, True, None, 5).excellent_now  # flagged before: never twice
    changed = c.rate(20, 59, False, 1, 2)  # a changed rating counts once, raises the sum by the difference
    assert (changed.count_delta, changed.sum_delta, changed.excellent_now) == (0, 1, True)
    assert not c.valid_stars(0) and not c.valid_stars(6) and not c.valid_stars(True) and c.valid_stars(5)


def test_topic_facts_at_ten_repliers_and_twenty_participants() -> None:
    ninth = {f"r{i}": 1 for i in range(9)}
    change = c.post_change(
        topic(repliers=ninth, replier_count=9, participants=ninth, participant_count=9), "X", PostKind.REPLY
    )
    assert change.new_replier and change.facts == (Fact("A", Rule.DISCUSSION_TOPIC, "t1"),)
    # the same teacher again, or the author, counts nothing
    assert c.post_change(topic(repliers={"X": 1}, participants={"X": 1}), "X", PostKind.REPLY).facts == ()
    assert not c.post_change(topic(), "A", PostKind.REPLY).new_participant
    # a comment makes a participant, not a replier
    nineteen = {f"p{i}": 1 for i in range(19)}
    comment = c.post_change(topic(participants=nineteen, participant_count=19, replier_count=3), "Y", PostKind.COMMENT)
    assert not comment.new_replier and comment.facts == (Fact("A", Rule.POPULAR_TOPIC, "t1"),)
    assert (
        c.post_change(topic(participants=nineteen, participant_count=19, popular=True), "Y", PostKind.COMMENT).facts
        == ()
    )
    assert c.post_change(topic(hidden=True, replier_count=9), "Z", PostKind.REPLY).facts == ()


def test_workshop_facts() -> None:
    w = {"_id": "w1", "host_ce_number": "H", "participants": {"H": 1, "P1": 1, "P2": 1}}
    assert c.founding_facts(w) == [Fact("H", Rule.WORKSHOP_FOUNDED, "w1")]
    featured = c.featuring_facts(w)
    assert featured[0] == Fact("H", Rule.WORKSHOP_FEATURED_HOST, "w1")
    assert {f.ce_number for f in featured[1:]} == {"P1", "P2"}
    assert all(f.rule == Rule.WORKSHOP_FEATURED_PARTICIPANT and f.reference == "w1" for f in featured[1:])


def test_ten_or_more_teachers_other_than_the_host_make_activity_and_workshop_rules() -> None:
    """ "10人以上参与": 以上 includes the number, as 10人以上的讨论回复 of the topic rule; the host is not counted."""
    assert not c.is_active(9, 1) and not c.is_active(10, 0) and c.is_active(10, 1)
    before = {"status": "approved", "host_ce_number": "H", "participant_count": 10, "real_activities": 1}
    assert not c.becomes_active({**before, "participant_count": 9}, before)  # the host and nine others
    assert c.becomes_active(before, {**before, "participant_count": 11})  # the host and ten others
    assert not c.becomes_active({**before, "active": True}, {**before, "participant_count": 12})
    assert not c.becomes_active(before, {**before, "participant_count": 11, "real_activities": 0})
    ten = {f"P{i}" for i in range(10)}
    assert len(c.participation_facts("a1", ten, 1)) == 10
    assert c.participation_facts("a1", set(list(ten)[:9]), 9) == []
    assert c.participation_facts("a1", ten, 0) == []
    assert {f.reference for f in c.participation_facts("a1", ten, 1)} == {"a1"}


def test_a_recommended_assignment_is_its_own_reference() -> None:
    fact = c.recommendation_fact("P1", "a1:P1:assignment")
    assert fact == Fact("P1", Rule.ASSIGNMENT_RECOMMENDED, "a1:P1:assignment")
    assert fact.fact_id == c.recommendation_fact("P1", "a1:P1:assignment").fact_id  # again: the same fact


def test_points_year_is_chinas() -> None:
    assert c.points_year(datetime(2026, 12, 31, 17, tzinfo=UTC)) == 2027
    assert Fact("H", Rule.WORKSHOP_FOUNDED, "w1").fact_id == "workshop_founded:w1:H"


def test_shared_files_are_checked_by_content() -> None:
    pdf, mp4 = samples.pdf(), samples.mp4()
    checked = check_shared_file(pdf, "教案.pdf", max_document_bytes=1000, max_video_bytes=10)
    assert (checked.kind, checked.extension, checked.media_type) == ("document", "pdf", "application/pdf")
    video = check_shared_file(mp4, "课堂.mp4", max_document_bytes=10, max_video_bytes=1000)
    assert (video.kind, video.extension, video.media_type) == ("video", "mp4", "video/mp4")
    slides = check_shared_file(samples.pptx(), "课件.pptx", max_document_bytes=1000, max_video_bytes=10)
    assert (slides.kind, slides.extension) == ("document", "pptx")
    cases = [
        (b"", "f.pdf", "upload_type"),
        (b"<html><script>", "x.pdf", "upload_type"),  # the name says pdf, the content does not
        (pdf, "x.mp4", "upload_type"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 20, "x.mp4", "upload_type"),  # an ftyp box and nothing more
        (mp4, "x.pdf", "upload_type"),
        (b"MZ\x90\x00", "x.exe", "upload_type"),
        (pdf * 100, "f.pdf", "upload_too_large"),
        (b"x" * 1001, "f.pdf", "upload_too_large"),  # held to the limit before the content is parsed
        (b"x" * 2001, "v.mp4", "upload_too_large"),
    ]
    for data, name, code in cases:
        try:
            check_shared_file(data, name, max_document_bytes=1000, max_video_bytes=2000)
        except Exception as exc:
            assert getattr(exc, "code", None) == code, (name, exc)
        else:
            raise AssertionError(code)


def test_rich_text_is_sanitised() -> None:
    cleaned = clean_html('<p onclick="x()">好<script>alert(1)</script><a href="javascript:alert(1)">链接</a></p>')
    assert "script" not in cleaned and "onclick" not in cleaned and "javascript" not in cleaned
    assert "<p>好" in cleaned


def test_satisfaction_distribution_as_the_seed_prints_it() -> None:
    # 表 6 研修类课程满意度 of the 1602 term report
    counts = {"bad": 139, "poor": 325, "fair": 3355, "good": 16772, "very_good": 31422}
    table = c.satisfaction_distribution(counts)
    assert table["total"] == 52013
    assert [(r["label"], r["count"], r["percent"]) for r in table["rows"]] == [
        ("差", 139, "0.27%"),
        ("较差", 325, "0.62%"),
        ("一般", 3355, "6.45%"),
        ("较好", 16772, "32.25%"),
        ("好", 31422, "60.41%"),
    ]
    assert table["fair_or_better"] == "99.11%"  # "一般以上的满意度为 99.11%"
    assert c.satisfaction_distribution({})["fair_or_better"] == "-"


def test_percent_prints_as_the_seed() -> None:
    # 表13 of the 1602 term report: 心理 22 of 22 "100%", 图书 9 of 10 "90.00%", 特殊教育 8 of 50 "16.00%"
    assert c.percent(22, 22) == "100%"
    assert c.percent(1115, 1115) == "100%"
    assert c.percent(9, 10) == "90.00%"
    assert c.percent(8, 50) == "16.00%"
    assert c.percent(3421, 53608) == "6.38%"
    assert c.percent(99_999, 100_000) == "100%"  # decided on the printed figure
    assert c.percent(0, 5) == "0.00%"
    assert c.percent(1, 0) == "-"


def test_counting_writes_guard_exactly_the_crossing_and_only_a_range_below_it() -> None:
    assert c.counter_guard(9, 10, moves=True, crossing=True) == 9  # the crossing write: exact count
    assert c.counter_guard(3, 10, moves=True, crossing=False) == {"$lt": 9}  # stays below the line
    assert c.counter_guard(8, 10, moves=True, crossing=False) == {"$lt": 9}  # 8 -> 9, still below
    assert c.counter_guard(12, 10, moves=True, crossing=False) is None  # past the line, fact out
    assert c.counter_guard(9, 10, moves=False, crossing=False) is None  # not moved by this write


def test_topic_guards_follow_the_post_change() -> None:
    nine = {f"r{i}": 1 for i in range(9)}
    t = topic(repliers=nine, replier_count=9, participants=nine, participant_count=9)
    change = c.post_change(t, "X", PostKind.REPLY)
    # the crossing write compares the exact count and its flag still unset (a count can come back down)
    assert c.topic_guards(t, change) == {"replier_count": 9, "discussed": False, "participant_count": {"$lt": 19}}
    t = topic(participants={f"p{i}": 1 for i in range(19)}, participant_count=19, replier_count=3)
    comment = c.post_change(t, "Y", PostKind.COMMENT)
    assert c.topic_guards(t, comment) == {"participant_count": 19, "popular": False}  # repliers do not move
    t = topic(
        repliers={"X": 1}, replier_count=25, participants={"X": 1}, participant_count=25, discussed=True, popular=True
    )
    assert c.topic_guards(t, c.post_change(t, "Z", PostKind.REPLY)) == {}  # both lines crossed before


def test_only_the_earning_share_can_become_excellent() -> None:
    assert c.rate(19, 57, False, None, 3, earns=True).excellent_now
    duplicate = c.rate(19, 57, False, None, 3, earns=False)
    assert not duplicate.excellent_now and (duplicate.count_delta, duplicate.sum_delta) == (1, 3)


def test_hidden_content_counts_but_earns_nothing() -> None:
    nine = {f"r{i}": 1 for i in range(9)}
    t = topic(repliers=nine, replier_count=9, participants=nine, participant_count=9)
    for hidden in ({"hidden": True}, {"workshop_hidden": True}):
        change = c.post_change({**t, **hidden}, "X", PostKind.REPLY)
        assert change.counted and change.new_replier and change.facts == ()
    assert c.post_change(t, "X", PostKind.REPLY).facts  # visible: the tenth replier crosses the line
    assert not c.post_change(t, "A", PostKind.REPLY).counted  # the author counts neither way
    assert not c.topic_earns({"workshop_hidden": 1}) and c.topic_earns({"hidden": False})


def test_a_hidden_post_takes_its_teacher_out_with_their_last_visible_post() -> None:
    t = topic(participants={"X": 2, "Y": 1}, repliers={"X": 1, "Y": 1})
    two = c.hidden_post_change(t, "X", "reply")  # X has two posts, one of them a reply
    assert (two.participant, two.replier) == (2, 1)
    assert not two.participant_leaves and two.replier_leaves
    comment = c.hidden_post_change(t, "Y", "comment")  # a comment leaves the repliers alone
    assert (comment.participant, comment.replier, comment.participant_leaves) == (1, None, True)
    assert c.hidden_post_change(t, "A", "reply") == c.Uncount(None, None)  # the author never counted
    assert c.hidden_post_change(t, "Z", "reply") == c.Uncount(None, None)  # never counted


def test_a_line_crossed_before_does_not_pay_again_after_hidden_posts_bring_the_count_down() -> None:
    nine = {f"r{i}": 1 for i in range(9)}
    t = topic(repliers=nine, replier_count=9, participants=nine, participant_count=9, discussed=True)
    change = c.post_change(t, "X", PostKind.REPLY)
    assert change.facts == () and c.topic_guards(t, change) == {"participant_count": {"$lt": 19}}


def test_statistics_leave_out_content_of_workshops_not_listed() -> None:
    rows = c.subject_rows(
        [{"_id": "w1", "subject": "语文", "participant_count": 3}], {"w1": 2, "hidden": 5, None: 1}, {}, []
    )
    assert [(r["subject"], r["resources"]) for r in rows] == [("语文", 2), ("其他", 1)]
