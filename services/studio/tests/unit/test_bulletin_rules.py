from studio.domain.bulletins import BulletinKind, may_change, slot, year_problem


def test_slots_and_years() -> None:
    assert slot("s", BulletinKind.REGULATION, None) == "s:regulation"
    assert slot("s", BulletinKind.ANNUAL_PLAN, 2026) == "s:annual:2026"
    assert slot("s", BulletinKind.CYCLE_PLAN, None) is None and slot("s", BulletinKind.ANNOUNCEMENT, None) is None
    assert year_problem(BulletinKind.ANNUAL_PLAN, None, (2026, 2028))
    assert year_problem(BulletinKind.ANNUAL_PLAN, 2029, (2026, 2028))
    assert year_problem(BulletinKind.ANNUAL_PLAN, 2027, (2026, 2028)) is None


def test_fixed_once_published() -> None:
    for kind in (BulletinKind.REGULATION, BulletinKind.CYCLE_PLAN, BulletinKind.ANNUAL_PLAN):
        assert may_change(kind, "draft") and not may_change(kind, "published")
    assert may_change(BulletinKind.ANNOUNCEMENT, "published") and may_change(BulletinKind.BRIEF, "published")
