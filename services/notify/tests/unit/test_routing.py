from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events import enrollment as en
from jijiao_contracts.events import hours as hr
from notify.domain.routing import ROUTES, SchoolAdmins, Subject, Teacher, local_time
from notify.domain.templates import TEMPLATES

BY_EVENT = {route.event: route for route in ROUTES}


def test_every_route_names_a_known_template_and_is_unique() -> None:
    assert len(BY_EVENT) == len(ROUTES)
    assert len({route.name for route in ROUTES}) == len(ROUTES)


def test_bill_goes_to_the_school_admins_by_sms_and_email() -> None:
    event = en.BillIssued(
        bill_id="b1",
        bill_number="B-1",
        term="2601",
        school_id="s1",
        school_name="一小",
        payee="中心",
        amount=Decimal("1200.5"),
        teacher_count=3,
        payment_due_at=datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
    )
    notice = BY_EVENT[en.BillIssued].build(event)
    assert notice is not None
    assert notice.audience == SchoolAdmins("s1") and notice.channels == ("sms", "email")
    assert notice.values["amount"] == "1200.50" and notice.values["due_at"] == "2026年03月10日 18:00"
    assert notice.template in TEMPLATES


def test_results_pass_and_fail_use_their_own_templates() -> None:
    base = dict(
        result_id="r",
        term="2601",
        year=2026,
        ce_number="c1",
        school_id="s",
        district="d",
        course_code="k",
        course_name="课",
        programme="city",
        category=HourCategory.PROFESSIONAL,
        hours=24.0,
        source="platform_course",
        registered_by="inst",
    )
    passed = BY_EVENT[en.ResultRegistered].build(en.ResultRegistered(passed=True, **base))
    failed = BY_EVENT[en.ResultRegistered].build(en.ResultRegistered(passed=False, **base))
    assert passed is not None and failed is not None
    assert (passed.template, failed.template) == ("result_passed", "result_failed")
    assert passed.audience == Teacher("c1") and passed.values["hours"] == "24"


def test_declarations_notify_returns_with_the_reason_and_the_final_approval_only() -> None:
    base = dict(declaration_id="d", ce_number="c1", year=2026, title="研修", reviewer="x")
    route = BY_EVENT[hr.DeclarationReviewed]
    assert route.build(hr.DeclarationReviewed(decision="approved", level="initial", **base)) is None
    notice = route.build(hr.DeclarationReviewed(decision="returned", level="initial", reason="材料不全", **base))
    assert notice is not None and notice.values["reason"] == "材料不全"
    final_return = route.build(hr.DeclarationReviewed(decision="returned", level="final", reason="超出范围", **base))
    assert final_return is not None and final_return.template == "declaration_returned"
    approved = route.build(hr.DeclarationReviewed(decision="approved", level="final", **base))
    assert approved is not None and approved.template == "declaration_approved"
    assert approved.audience == Teacher("c1") and approved.values == {"title": "研修", "year": 2026}


def test_only_hours_withdrawn_by_a_corrected_result_notify_with_the_course() -> None:
    base = dict(
        entry_id="e2",
        adjusts_entry_id="e1",
        ce_number="c1",
        year=2026,
        category=HourCategory.PROFESSIONAL,
        source="platform_course",
    )
    route = BY_EVENT[hr.HoursAdjusted]
    reference = {"kind": "result_correction", "course_code": "K1", "course_name": "课堂观察"}
    notice = route.build(hr.HoursAdjusted(hours=-24.0, reason="result_revoked", reference=reference, **base))
    assert notice is not None and notice.template == "hours_withdrawn" and notice.audience == Teacher("c1")
    assert notice.values == {"year": 2026, "course": "《课堂观察》", "hours": "24"}
    by_code = route.build(
        hr.HoursAdjusted(hours=-1.5, reason="result_revoked", reference={"course_code": "K1"}, **base)
    )
    assert by_code is not None and by_code.values["course"] == "K1" and by_code.values["hours"] == "1.5"
    bare = route.build(hr.HoursAdjusted(hours=-2.0, reason="result_revoked", **base))
    assert bare is not None and bare.values["course"] == ""
    assert route.build(hr.HoursAdjusted(hours=8.0, reason="cap_room_freed", reference=reference, **base)) is None
    assert route.build(hr.HoursAdjusted(hours=0.0, reason="result_revoked", reference=reference, **base)) is None


def test_points_redeemed_and_expired() -> None:
    redeemed = BY_EVENT[hr.PointsRedeemed].build(
        hr.PointsRedeemed(ce_number="c1", year=2026, category=HourCategory.ELECTIVE, hours=20, points=200, balance=1500)
    )
    assert redeemed is not None and redeemed.template == "points_redeemed" and redeemed.audience == Teacher("c1")
    assert redeemed.values == {"points": 200, "hours": "20", "category": "个人选修科目", "year": 2026, "balance": 1500}
    route = BY_EVENT[hr.PointsExpired]
    expired = route.build(hr.PointsExpired(ce_number="c1", year=2026, points=300))
    assert expired is not None and expired.values == {"year": 2026, "points": 300}
    assert route.build(hr.PointsExpired(ce_number="c1", year=2026, points=0)) is None


def test_account_locked_goes_to_the_subject_with_the_event_mobile_as_fallback() -> None:
    event = en.AccountLocked(subject="account:7", name="张三", mobile="13800000007", failed_attempts=10)
    notice = BY_EVENT[en.AccountLocked].build(event)
    assert notice is not None and notice.audience == Subject("account:7", "13800000007", "张三")


def test_special_user_routes() -> None:
    flagged = en.SpecialUserFlagged(
        ce_number="c1", term="2601", school_id="s", name="李", mobile="139", course_codes=["k"], times_flagged=1
    )
    notice = BY_EVENT[en.SpecialUserFlagged].build(flagged)
    assert (
        notice is not None
        and notice.template == "special_user_flagged"
        and notice.audience == Teacher("c1", "139", "李")
    )
    cleared = en.SpecialUserCleared(ce_number="c1", school_id="s", name="李", cleared_by="x")
    assert BY_EVENT[en.SpecialUserCleared].build(cleared) is not None


def test_local_time_is_shanghai() -> None:
    assert local_time(datetime(2026, 12, 31, 16, 0)) == "2027年01月01日 00:00"


def test_info_change_decisions_tell_the_teacher_with_the_reason_of_a_return() -> None:
    route = BY_EVENT[en.InfoChangeReviewed]
    approved = route.build(en.InfoChangeReviewed(ce_number="c1", name="陈晓明", school_id="s1", approved=True))
    returned = route.build(
        en.InfoChangeReviewed(
            ce_number="c1", name="陈晓明", school_id="s1", approved=False, reason="职称证书未上传", mobile="139"
        )
    )
    assert approved is not None and returned is not None
    assert (approved.template, returned.template) == ("info_change_approved", "info_change_returned")
    assert returned.audience == Teacher("c1", "139", "陈晓明")
    text = TEMPLATES[returned.template].render_sms({"name": "陈晓明", **returned.values})
    assert "职称证书未上传" in text and "退回" in text


def test_transfer_decisions_go_to_the_receiving_school_and_name_a_rule_in_chinese() -> None:
    base = dict(
        transfer_id="t1",
        ce_number="c1",
        teacher_name="陈晓明",
        from_school_id="s1",
        to_school_id="s2",
        to_school_name="天河二小",
    )
    route = BY_EVENT[en.TransferDecided]
    approved = route.build(en.TransferDecided(approved=True, **base))
    by_admin = route.build(en.TransferDecided(approved=False, reason="材料不全", **base))
    by_rule = route.build(en.TransferDecided(approved=False, refusal="unpaid_selections", **base))
    unknown_rule = route.build(en.TransferDecided(approved=False, refusal="something_new", **base))
    assert approved is not None and by_admin is not None and by_rule is not None and unknown_rule is not None
    assert approved.template == "transfer_approved" and approved.audience == SchoolAdmins("s2")
    assert by_admin.values["reason"] == "材料不全"
    assert by_rule.values["reason"] == "该教师有往期未缴费的选课"
    assert unknown_rule.values["reason"] == "未说明"
    text = TEMPLATES[by_rule.template].render_sms({"name": "王老师", **by_rule.values})
    assert "天河二小" in text and "陈晓明" in text and "未获通过" in text


def test_school_course_decisions_go_to_the_declaring_school() -> None:
    approved = BY_EVENT[en.SchoolCourseApproved].build(
        en.SchoolCourseApproved(term="2601", school_id="s1", course_code="S1", name="课堂观察", hours=8.0)
    )
    rejected = BY_EVENT[en.SchoolCourseRejected].build(
        en.SchoolCourseRejected(term="2601", school_id="s1", course_code="S1", name="课堂观察", comment="请补充计划")
    )
    assert approved is not None and rejected is not None
    assert approved.audience == rejected.audience == SchoolAdmins("s1")
    assert approved.values["hours"] == "8" and rejected.values["reason"] == "请补充计划"
    text = TEMPLATES[rejected.template].render_sms({"name": "王老师", **rejected.values})
    assert "课堂观察" in text and "请补充计划" in text and "未通过" in text


def test_points_expiring_reminds_the_teacher_of_the_balance() -> None:
    notice = BY_EVENT[hr.PointsExpiring].build(
        hr.PointsExpiring(ce_number="c1", year=2026, balance=350, redeemable_hours=3)
    )
    assert notice is not None and notice.template == "points_expiring" and notice.audience == Teacher("c1")
    text = TEMPLATES[notice.template].render_sms({"name": "陈晓明", **notice.values})
    assert "350积分" in text and "12月31日" in text
