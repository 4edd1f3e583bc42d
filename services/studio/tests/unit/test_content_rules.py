from jijiao_stack import samples
from studio.adapters.uploads import EVIDENCE, check_type
from studio.domain.activities import submission_problem
from studio.domain.content import activities_organised, funds_problem, post_order, visible_post
from studio.domain.problems import PROBLEMS

ONLINE = {
    "mode": "online",
    "segments": [
        {"id": "r", "kind": "resources"},
        {"id": "d", "kind": "discussion"},
        {"id": "a", "kind": "article"},
        {
            "id": "e",
            "kind": "evaluation",
            "items": [{"id": "1", "kind": "objective", "max_score": 5}, {"id": "2", "kind": "subjective"}],
        },
    ],
}


def test_submissions_per_part_kind() -> None:
    assert submission_problem(ONLINE, "a", text="x", files=0, answers={})  # reading takes no submission
    assert submission_problem(ONLINE, "r", text=None, files=0, answers={}) and not submission_problem(
        ONLINE, "r", text=None, files=1, answers={}
    )
    assert submission_problem(ONLINE, "d", text="  ", files=0, answers={}) and not submission_problem(
        ONLINE, "d", text="好", files=0, answers={}
    )
    assert not submission_problem(ONLINE, "e", text=None, files=0, answers={"1": 5, "2": "好"})
    assert submission_problem(ONLINE, "e", text=None, files=0, answers={"1": 6, "2": "好"})
    assert submission_problem(ONLINE, "e", text=None, files=0, answers={"1": 5, "2": ""})
    assert submission_problem(ONLINE, "e", text=None, files=0, answers={"1": 5})
    offline = {"mode": "offline", "options": {"outputs": {"required": True}}}
    assert submission_problem(offline, "outputs", text=None, files=0, answers={}) and not submission_problem(
        offline, "outputs", text=None, files=2, answers={}
    )


def test_posts_visibility_and_order() -> None:
    pending = {"status": "pending", "author": "1"}
    assert not visible_post(pending, reviewer=False, ce_number="2") and visible_post(
        pending, reviewer=False, ce_number="1"
    )
    assert visible_post(pending, reviewer=True, ce_number=None) and visible_post(
        {"status": "approved"}, reviewer=False, ce_number=None
    )
    posts = [{"created_ms": 1}, {"created_ms": 2}, {"created_ms": 0, "pinned": True}]
    assert [p["created_ms"] for p in sorted(posts, key=post_order)] == [0, 2, 1]


def test_funds_and_yearly_activities() -> None:
    assert funds_problem([]) and funds_problem([{"amount": -1}]) and funds_problem([{"amount": 3}]) is None
    organised = {"mode": "offline", "status": "published", "organised": True, "starts_ms": 5, "ends_ms": 6}
    pending = {"mode": "online", "status": "published", "organised": False, "starts_ms": 5, "ends_ms": 7}
    assert activities_organised([organised], 0, 10, 8) and not activities_organised([organised, pending], 0, 10, 8)
    assert activities_organised([organised, pending], 0, 10, 6)  # not ended yet
    assert not activities_organised([], 0, 10, 8)


def test_uploads_by_content_and_every_code_has_a_chinese_title() -> None:
    assert check_type("a.pdf", samples.pdf(), frozenset({"pdf"})).extension == "pdf"
    assert check_type("扫描.JPEG", samples.image("JPEG"), EVIDENCE).extension == "jpg"
    for kind in ("doc", "xls", "ppt"):
        assert check_type(f"a.{kind}", samples.legacy_office(kind), EVIDENCE).extension == kind
    refused = [
        ("a.pdf", b"MZ\x90\x00 exe"),
        ("a.exe", samples.pdf()),
        ("a.pdf", b""),
        ("a.pdf", b"%PDF-1.4\n" + b"x" * 100),  # a PDF header on no PDF
        ("a.docx", samples.pdf()),  # the name and the content disagree
        ("a.doc", samples.legacy_office("xls")),
        ("a.png", samples.image("JPEG")),
        ("a.mp4", samples.mp4()),  # not a studio document
    ]
    for name, data in refused:
        try:
            check_type(name, data, EVIDENCE)
        except Exception as exc:
            assert getattr(exc, "code", None) == "upload_type"
        else:
            raise AssertionError(name)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in title) for _, title in PROBLEMS.values())
