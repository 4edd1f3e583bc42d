"""Pure pieces of the kit: envelopes, outbox documents, problem bodies, tokens, times."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jijiao_contracts import Envelope, IntegrationEvent, event_registry
from jijiao_contracts.events.enrollment import TeacherRegistered
from jijiao_kit.auth import TokenIssuer, TokenVerifier, load_or_create_keypair
from jijiao_kit.errors import Conflict, Forbidden, Unauthorized
from jijiao_kit.http import content_disposition
from jijiao_kit.outbox import OUTBOX, PENDING, outbox_entry, outbox_update, with_outbox
from jijiao_kit.stepup import StepUpSigner, StepUpVerifier
from jijiao_kit.timeutil import as_utc, epoch_ms


def teacher() -> TeacherRegistered:
    return TeacherRegistered(
        ce_number="2026000001", name="陈", school_id="s", school_name="一小", district="天河区", registered_year=2026
    )


def test_envelope_round_trip_and_routing_key() -> None:
    envelope = Envelope.wrap(teacher(), producer="enrollment", correlation_id="c1")
    assert envelope.routing_key == "enrollment.teacher_registered.v1"
    again = Envelope.model_validate_json(envelope.model_dump_json())
    assert again.payload_as(TeacherRegistered) == teacher()
    assert again.event_id == envelope.event_id and again.correlation_id == "c1"


def test_consumers_ignore_unknown_fields() -> None:
    body = Envelope.wrap(teacher(), producer="enrollment").model_dump(mode="json")
    body["payload"]["added_later"] = 1
    body["added_to_envelope"] = True
    assert Envelope.model_validate(body).payload_as(TeacherRegistered).ce_number == "2026000001"


def test_every_event_has_a_unique_versioned_routing_key() -> None:
    registry = event_registry()
    assert "enrollment.teacher_registered.v1" in registry
    for key, event_class in registry.items():
        if not event_class.__module__.startswith("jijiao_contracts."):
            continue  # events that tests define for themselves
        assert issubclass(event_class, IntegrationEvent)
        assert key == f"{event_class.EVENT_TYPE}.v{event_class.SCHEMA_VERSION}"
        assert event_class.EVENT_TYPE.split(".")[0] in {"enrollment", "hours", "notify", "studio", "baseline"}


def test_outbox_insert_and_update_documents() -> None:
    first, second = outbox_entry(teacher(), producer="enrollment"), outbox_entry(teacher(), producer="enrollment")
    document = with_outbox({"_id": "x"}, [first])
    assert document[OUTBOX] == {first["event_id"]: first} and document[PENDING] == 1
    update = outbox_update({"$set": {"state": "b"}, "$inc": {"version": 1}}, [second])
    assert update["$set"]["state"] == "b" and update["$set"][f"{OUTBOX}.{second['event_id']}"] == second
    assert update["$inc"] == {"version": 1, PENDING: 1}
    assert outbox_update({"$set": {"a": 1}}, []) == {"$set": {"a": 1}}
    assert first["seq"] < second["seq"]


def test_problem_body_has_code_chinese_title_and_extra_fields() -> None:
    problem = Conflict("Already.", code="already_selected", title="已选过该课程", extra={"id": "1"}).to_problem("/x")
    assert problem["status"] == 409 and problem["code"] == "already_selected"
    assert problem["title"] == "已选过该课程" and problem["detail"] == "Already." and problem["id"] == "1"


def test_download_names_from_request_values_always_fit_a_header() -> None:
    """Header values go out as latin-1: a name with other characters, a quote or a CR/LF made a 500 (or a
    split header). The ASCII fallback replaces them; ``filename*`` keeps the exact name, percent-encoded."""
    value = content_disposition('verification-一小"\r\n-2026.xlsx')
    assert value == (
        'attachment; filename="verification-_____-2026.xlsx"; '
        "filename*=UTF-8''verification-%E4%B8%80%E5%B0%8F%22%0D%0A-2026.xlsx"
    )
    value.encode("latin-1")
    assert content_disposition("notice-1.pdf", inline=True) == (
        "inline; filename=\"notice-1.pdf\"; filename*=UTF-8''notice-1.pdf"
    )


def test_tokens_verify_and_reject_tampering(tmp_path: Path) -> None:
    keys = load_or_create_keypair(tmp_path, "auth")
    assert load_or_create_keypair(tmp_path, "auth") == keys  # stable once created
    issuer = TokenIssuer(keys.private_pem, issuer="i", audience="a", ttl_seconds=60)
    verifier = TokenVerifier(keys.public_pem, issuer="i", audience="a")
    token = issuer.issue("account:1", {"roles": ["city_admin"], "scopes": {"district": "天河区"}})
    principal = verifier.principal(token)
    assert principal.subject == "account:1" and principal.has_role("city_admin") and principal.district == "天河区"
    with pytest.raises(Unauthorized):
        verifier.principal(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    other = load_or_create_keypair(tmp_path / "other", "auth")
    with pytest.raises(Unauthorized):
        TokenVerifier(other.public_pem, issuer="i", audience="a").principal(token)
    expired = issuer.issue("account:1", {"roles": []}, ttl_seconds=-60)
    with pytest.raises(Unauthorized) as caught:
        verifier.principal(expired)
    assert caught.value.code == "token_expired"


def test_verified_tokens_are_remembered_but_expiry_is_checked_on_every_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = load_or_create_keypair(tmp_path, "auth")
    issuer = TokenIssuer(keys.private_pem, issuer="i", audience="a", ttl_seconds=60)
    verifier = TokenVerifier(keys.public_pem, issuer="i", audience="a", cache_size=2)
    token = issuer.issue("account:1", {"roles": ["teacher"]})
    checks = 0
    verify = verifier._verify

    def counting(token: str, leeway: float) -> dict[str, object]:
        nonlocal checks
        checks += 1
        return verify(token, leeway)

    monkeypatch.setattr(verifier, "_verify", counting)
    for _ in range(3):
        assert verifier.principal(token).subject == "account:1"
    assert checks == 1  # one signature check for repeated use
    claims = verifier.decode(token)
    claims["roles"] = ["city_admin"]  # a caller mutating its copy changes nothing cached
    assert not verifier.principal(token).has_role("city_admin")
    with pytest.raises(Unauthorized):  # a tampered token is never served from the cache
        verifier.principal(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    for other in range(3):  # bounded: older tokens are evicted and verified again
        verifier.principal(issuer.issue(f"account:{other + 2}", {"roles": []}))
    verifier.principal(token)
    assert checks == 1 + 3 + 1 + 1  # +1 for the tampered attempt, +3 new, +1 re-check
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 120)
    with pytest.raises(Unauthorized) as caught:
        verifier.principal(token)
    assert caught.value.code == "token_expired"


def test_tokens_of_initial_passwords_are_refused_except_where_the_password_is_changed(tmp_path: Path) -> None:
    keys = load_or_create_keypair(tmp_path, "auth")
    issuer = TokenIssuer(keys.private_pem, issuer="i", audience="a", ttl_seconds=60)
    initial = issuer.issue("teacher:T1", {"roles": ["teacher"], "must_change_password": True})
    with pytest.raises(Forbidden) as caught:
        TokenVerifier(keys.public_pem, issuer="i", audience="a").principal(initial)
    assert caught.value.code == "password_change_required" and caught.value.status == 403
    enrollment = TokenVerifier(keys.public_pem, issuer="i", audience="a", refuse_initial_password=False)
    assert enrollment.principal(initial).subject == "teacher:T1"
    changed = issuer.issue("teacher:T1", {"roles": ["teacher"], "must_change_password": False})
    assert TokenVerifier(keys.public_pem, issuer="i", audience="a").principal(changed).subject == "teacher:T1"


def test_step_up_tokens_bind_subject_purpose_and_30_minutes(tmp_path: Path) -> None:
    keys = load_or_create_keypair(tmp_path, "stepup")
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC).timestamp()
    token = StepUpSigner(keys.private_pem).sign("account:1", "export", now=now)
    verifier = StepUpVerifier(keys.public_pem)
    assert verifier.verify(token, subject="account:1", purpose="export", now=now + 29 * 60)["purpose"] == "export"
    for subject, purpose, at in (
        ("account:2", "export", now),
        ("account:1", "rebind_phone", now),
        ("account:1", "export", now + 30 * 60),
    ):
        with pytest.raises(Exception) as caught:
            verifier.verify(token, subject=subject, purpose=purpose, now=at)
        assert getattr(caught.value, "code", "") == "step_up_required"


def test_times_from_any_stored_form() -> None:
    moment = datetime(2026, 11, 22, 11, 3, 6, 279000, tzinfo=UTC)
    assert as_utc(moment.replace(tzinfo=None)) == moment
    assert as_utc("2026-11-22 11:03:06.279000") == moment
    assert as_utc(epoch_ms(moment)) == moment
    assert as_utc(moment.astimezone(UTC) + timedelta(hours=0)) == moment
    assert as_utc(None) is None
