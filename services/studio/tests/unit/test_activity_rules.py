from studio.adapters.qr import CheckinTokens
from studio.domain.activities import (
    activity_problems,
    completed,
    is_part,
    may_write_summary,
    open_to,
    required_parts,
    uses_checkin,
)

OFFLINE = {
    "mode": "offline",
    "type": "school_sending",
    "place": "二中",
    "hours": 3,
    "starts_ms": 0,
    "ends_ms": 10,
    "options": {"checkin": {"required": True}, "materials": {"required": True}, "outputs": {"required": False}},
}
ONLINE = {
    "mode": "online",
    "type": "lesson_design",
    "starts_ms": 0,
    "ends_ms": 10,
    "segments": [{"id": "a", "kind": "article", "required": True}, {"id": "v", "kind": "video", "required": False}],
}


def test_activity_shapes() -> None:
    assert activity_problems(OFFLINE) == [] and activity_problems(ONLINE) == []
    assert activity_problems({**OFFLINE, "type": "seminar"})
    assert activity_problems({**OFFLINE, "hours": 0}) and activity_problems({**OFFLINE, "hours": 25})
    assert activity_problems({**OFFLINE, "place": ""})
    assert activity_problems({**ONLINE, "segments": []})
    assert activity_problems({**ONLINE, "segments": [{"id": "x", "kind": "podcast"}]})
    assert activity_problems({**ONLINE, "ends_ms": 0})
    assert activity_problems({**ONLINE, "mode": "hybrid"})


def test_completion_follows_required_participant_parts() -> None:
    assert required_parts(OFFLINE) == {"checkin"}  # the host's materials are not a participant's part
    assert not completed(OFFLINE, []) and completed(OFFLINE, ["checkin"])
    assert required_parts(ONLINE) == {"a"} and completed(ONLINE, ["a"]) and not completed(ONLINE, ["v"])
    assert (
        is_part(ONLINE, "v")
        and not is_part(ONLINE, "zz")
        and is_part(OFFLINE, "outputs")
        and not is_part(OFFLINE, "materials")
    )


def test_visibility_summary_and_checkin() -> None:
    assert open_to("online", "student") and not open_to("offline", "student") and open_to("offline", "member")
    assert not open_to("online", "none")
    assert may_write_summary(10, 10) and not may_write_summary(10, 9)
    assert uses_checkin(OFFLINE) and not uses_checkin(ONLINE)


def test_checkin_tokens() -> None:
    tokens = CheckinTokens(b"k" * 32, ttl_seconds=60)
    token, expires = tokens.issue("act1", "s1", now_s=1000)
    assert expires == 1060 and tokens.activity_of(token, 1059) == "act1"
    assert tokens.activity_of(token, 1060) is None  # expired
    assert CheckinTokens(b"x" * 32, 60).activity_of(token, 1000) is None  # forged (other key)
    assert tokens.activity_of("not-a-token", 1000) is None
