"""Logins of the research-base programme (issue 15 item 7): enrollment opens a zone contact's and each
confirmed trainee's account from baseline's events, keeps only the hash of a random initial secret,
hands it to notify sealed, forces a new password at the first sign-in and retires it after 7 days."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from enrollment.bootstrap import build
from enrollment.entrypoints.api.app import create_app
from enrollment.settings import Settings
from jijiao_contracts import Envelope
from jijiao_contracts.events import baseline as bl
from jijiao_kit.clock import FixedClock
from jijiao_kit.sealing import NOTIFY_CREDENTIALS_KEY, load_or_create_sealing_keys, unseal
from jijiao_kit.timeutil import epoch_ms
from jijiao_stack.pytest_plugin import api_client, bearer

NOW = datetime(2019, 8, 1, 2, 0, tzinfo=UTC)


def envelopes() -> list[Envelope]:
    zone = bl.ZoneContactAppointed(
        zone_id="z1", zone_name="南沙实验区", contact_name="刘老师", contact_mobile="13700000001"
    )
    confirmed = bl.TraineesConfirmed(
        batch_id="b1",
        year="2019-2020",
        zone_id="z1",
        base_name="北京小学",
        starts_on="2019-09-16",
        ends_on="2019-09-29",
        report_deadline="2019-09-05T16:00:00+00:00",
        trainees=[
            bl.ConfirmedTrainee(trainee_id="t1", name="张老师", mobile="13900000001", role="leader"),
            bl.ConfirmedTrainee(trainee_id="t2", name="李老师", mobile="13900000002", role="member"),
        ],
    )
    return [Envelope.wrap(zone, producer="baseline"), Envelope.wrap(confirmed, producer="baseline")]


async def test_programme_accounts_get_sealed_initial_secrets(settings_env: dict[str, Any]) -> None:
    clock = FixedClock(NOW)
    container = build(Settings(**settings_env), clock=clock)
    keys_dir = Path(settings_env["keys_dir"])
    accounts = container.programme_accounts
    notify_keys = load_or_create_sealing_keys(keys_dir, NOTIFY_CREDENTIALS_KEY)
    batch = envelopes()
    await accounts.handle_batch(batch)
    await accounts.handle_batch(batch)  # a redelivery opens nothing new

    docs = {doc["_id"]: doc async for doc in container.infra.db["accounts"].find({"programme": True})}
    assert sorted(docs) == ["tr-t1", "tr-t2", "zc-z1"]
    secrets: dict[str, str] = {}
    for login, doc in docs.items():
        [entry] = doc["outbox"].values()
        assert entry["routing_key"] == "enrollment.credentials_issued.v1"
        payload = json.loads(entry["body"])["payload"]
        secret = unseal(notify_keys, payload["sealed_password"])
        secrets[login] = secret
        stored = json.dumps(doc, default=str)
        assert secret not in stored  # only the hash and the sealed box are at rest
        assert doc["credentials"]["must_change"] is True and doc["credentials"]["password_hash"].startswith("$argon2")
    assert docs["tr-t1"]["roles"] == ["trainee"]
    assert docs["tr-t1"]["scopes"] == {"trainee_id": "t1", "batch_id": "b1", "zone_id": "z1"}
    assert docs["zc-z1"]["roles"] == ["zone_contact"] and docs["zc-z1"]["scopes"] == {"zone_id": "z1"}

    async with api_client(create_app(container)) as client:
        first = await client.post("/v1/auth/token", json={"login": "tr-t1", "password": secrets["tr-t1"]})
        assert first.status_code == 200, first.text
        claims = container.verifier.decode(first.json()["access_token"])
        assert claims["must_change_password"] is True and claims["scopes"]["batch_id"] == "b1"
        changed = await client.post(
            "/v1/auth/password",
            json={"old_password": secrets["tr-t1"], "new_password": "Zhang2019x"},
            headers=bearer(first.json()["access_token"]),
        )
        assert changed.status_code in (200, 204), changed.text
        again = await client.post("/v1/auth/token", json={"login": "tr-t1", "password": "Zhang2019x"})
        assert again.status_code == 200 and not container.verifier.decode(again.json()["access_token"]).get(
            "must_change_password"
        )

        # Seven days later the unchanged initial secrets stop working; a changed password is untouched.
        clock.set(NOW + timedelta(days=7, minutes=1))
        assert await accounts.expire_initial_secrets() == 2
        assert await accounts.expire_initial_secrets() == 0
        expired = await client.post("/v1/auth/token", json={"login": "zc-z1", "password": secrets["zc-z1"]})
        assert expired.status_code == 401
        still = await client.post("/v1/auth/token", json={"login": "tr-t1", "password": "Zhang2019x"})
        assert still.status_code == 200

        # The centre withdraws a confirmed trainee: the login closes.
        withdrawn = bl.TraineeWithdrawn(trainee_id="t1", batch_id="b1", zone_id="z1")
        await accounts.handle_batch([Envelope.wrap(withdrawn, producer="baseline")])
        closed = await client.post("/v1/auth/token", json={"login": "tr-t1", "password": "Zhang2019x"})
        assert closed.status_code == 423
    await container.infra.close()


async def test_a_new_zone_contact_takes_over_the_zone_login(settings_env: dict[str, Any]) -> None:
    clock = FixedClock(NOW)
    container = build(Settings(**settings_env), clock=clock)
    keys_dir = Path(settings_env["keys_dir"])
    accounts = container.programme_accounts
    notify_keys = load_or_create_sealing_keys(keys_dir, NOTIFY_CREDENTIALS_KEY)

    def appointed(mobile: str, name: str) -> Envelope:
        event = bl.ZoneContactAppointed(zone_id="z9", zone_name="南沙实验区", contact_name=name, contact_mobile=mobile)
        return Envelope.wrap(event, producer="baseline")

    async def secret() -> str:
        doc = await container.infra.db["accounts"].find_one({"_id": "zc-z9"}) or {}
        entries = sorted(doc["outbox"].values(), key=lambda e: e["seq"])
        return unseal(notify_keys, json.loads(entries[-1]["body"])["payload"]["sealed_password"])

    await accounts.handle_batch([appointed("13700000001", "刘老师")])
    first = await secret()
    new_contact = appointed("13700000002", "王老师")
    await accounts.handle_batch([new_contact])
    await accounts.handle_batch([new_contact])  # a redelivery hands over once
    doc = await container.infra.db["accounts"].find_one({"_id": "zc-z9"}) or {}
    assert (doc["mobile"], doc["name"], doc["outbox_pending"]) == ("13700000002", "王老师", 2)
    second = await secret()
    async with api_client(create_app(container)) as client:
        old = await client.post("/v1/auth/token", json={"login": "zc-z9", "password": first})
        new = await client.post("/v1/auth/token", json={"login": "zc-z9", "password": second})
    assert old.status_code == 401 and new.status_code == 200
    assert container.verifier.decode(new.json()["access_token"])["must_change_password"] is True
    await container.infra.close()


# -- logins follow their people; initial secrets sent again (issue 15 item 7, review of the accounts) --


async def latest_secret(container: Any, notify_keys: Any, login: str) -> tuple[str, dict[str, Any]]:
    """The newest initial secret sent for ``login`` (opened by notify's key, as notify does) and its event."""
    doc = await container.infra.db["accounts"].find_one({"_id": login}) or {}
    entries = sorted(doc["outbox"].values(), key=lambda e: e["seq"])
    payload = json.loads(entries[-1]["body"])["payload"]
    return unseal(notify_keys, payload["sealed_password"]), payload


async def sign_in(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    return await client.post("/v1/auth/token", json={"login": login, "password": password})


async def revoked(client: httpx.AsyncClient, token: str) -> bool:
    """Whether enrollment refuses ``token`` as revoked (any other answer means it still works)."""
    answer = await client.post(
        "/v1/auth/password", json={"old_password": "x", "new_password": "y"}, headers=bearer(token)
    )
    return answer.status_code == 401 and answer.json()["code"] == "token_revoked"


def changed(trainee_id: str, *, mobile: str, version: int, name: str = "张老师", batch: str = "b1") -> Envelope:
    event = bl.TraineeChanged(
        trainee_id=trainee_id,
        batch_id=batch,
        zone_id="a1",
        year="2019-2020",
        name=name,
        mobile=mobile,
        role="leader",
        report_deadline="2019-09-05T16:00:00+00:00",
        version=version,
    )
    return Envelope.wrap(event, producer="baseline")


def confirmed(*trainees: tuple[str, str], batch: str = "b1") -> Envelope:
    event = bl.TraineesConfirmed(
        batch_id=batch,
        year="2019-2020",
        zone_id="a1",
        base_name="北京小学",
        starts_on="2019-09-16",
        ends_on="2019-09-29",
        report_deadline="2019-09-05T16:00:00+00:00",
        trainees=[bl.ConfirmedTrainee(trainee_id=t, name="张老师", mobile=m, role="member") for t, m in trainees],
    )
    return Envelope.wrap(event, producer="baseline")


def zone_appointed(mobile: str = "13700000001") -> Envelope:
    event = bl.ZoneContactAppointed(zone_id="a1", zone_name="南沙实验区", contact_name="刘老师", contact_mobile=mobile)
    return Envelope.wrap(event, producer="baseline")


async def programme_system(settings_env: dict[str, Any]) -> tuple[FixedClock, Any, Any]:
    clock = FixedClock(NOW)
    container = build(Settings(**settings_env), clock=clock)
    notify_keys = load_or_create_sealing_keys(Path(settings_env["keys_dir"]), NOTIFY_CREDENTIALS_KEY)
    return clock, container, notify_keys


async def test_a_trainee_changed_by_the_centre_moves_the_login_to_the_new_mobile(settings_env: dict[str, Any]) -> None:
    _, container, notify_keys = await programme_system(settings_env)
    accounts = container.programme_accounts
    await accounts.handle_batch([confirmed(("c1", "13900000001"))])
    first, _ = await latest_secret(container, notify_keys, "tr-c1")
    async with api_client(create_app(container)) as client:
        token = (await sign_in(client, "tr-c1", first)).json()["access_token"]
        assert not await revoked(client, token)

        # A new mobile: a new secret by SMS there, the old secret and the old token stop working.
        new_mobile = changed("c1", mobile="13900000099", version=3)
        await accounts.handle_batch([new_mobile])
        await accounts.handle_batch([new_mobile])  # a redelivery hands over once
        doc = await container.infra.db["accounts"].find_one({"_id": "tr-c1"}) or {}
        assert (doc["mobile"], doc["trainee_version"], doc["outbox_pending"]) == ("13900000099", 3, 2)
        second, event = await latest_secret(container, notify_keys, "tr-c1")
        assert event["mobile"] == "13900000099" and event["report_deadline"].startswith("2019-09-05")
        assert second != first and second not in json.dumps(doc, default=str)
        assert (await sign_in(client, "tr-c1", first)).status_code == 401
        assert (await sign_in(client, "tr-c1", second)).status_code == 200
        assert await revoked(client, token)

        # An older change arriving late changes nothing.
        await accounts.handle_batch([changed("c1", mobile="13900000050", version=2)])
        doc = await container.infra.db["accounts"].find_one({"_id": "tr-c1"}) or {}
        assert (doc["mobile"], doc["outbox_pending"]) == ("13900000099", 2)
        # A corrected name on the same mobile keeps the secret (no SMS).
        await accounts.handle_batch([changed("c1", mobile="13900000099", version=4, name="张明")])
        doc = await container.infra.db["accounts"].find_one({"_id": "tr-c1"}) or {}
        assert (doc["name"], doc["trainee_version"], doc["outbox_pending"]) == ("张明", 4, 2)
        assert (await sign_in(client, "tr-c1", second)).status_code == 200

        # A change delivered before the confirmation opens the login with the newest details; the
        # confirmation (older) then finds it and changes nothing.
        await accounts.handle_batch([changed("c2", mobile="13900000077", version=5)])
        await accounts.handle_batch([confirmed(("c2", "13900000002"))])
        doc = await container.infra.db["accounts"].find_one({"_id": "tr-c2"}) or {}
        assert (doc["mobile"], doc["trainee_version"], doc["outbox_pending"]) == ("13900000077", 5, 1)
        assert doc["scopes"] == {"trainee_id": "c2", "batch_id": "b1", "zone_id": "a1"}
    await container.infra.close()


async def test_hand_over_and_withdrawal_revoke_the_earlier_tokens(settings_env: dict[str, Any]) -> None:
    _, container, notify_keys = await programme_system(settings_env)
    accounts = container.programme_accounts
    await accounts.handle_batch([zone_appointed(), confirmed(("c1", "13900000001"))])
    async with api_client(create_app(container)) as client:
        contact = (await sign_in(client, "zc-a1", (await latest_secret(container, notify_keys, "zc-a1"))[0])).json()
        trainee_secret = (await latest_secret(container, notify_keys, "tr-c1"))[0]
        first = (await sign_in(client, "tr-c1", trainee_secret)).json()["access_token"]
        await client.post(
            "/v1/auth/password",
            json={"old_password": trainee_secret, "new_password": "Zhang2019x"},
            headers=bearer(first),
        )
        trainee = (await sign_in(client, "tr-c1", "Zhang2019x")).json()["access_token"]
        assert not await revoked(client, contact["access_token"]) and not await revoked(client, trainee)

        await accounts.handle_batch([zone_appointed("13700000002")])  # the zone's new contact
        assert await revoked(client, contact["access_token"])
        withdrawn = bl.TraineeWithdrawn(trainee_id="c1", batch_id="b1", zone_id="a1")
        await accounts.handle_batch([Envelope.wrap(withdrawn, producer="baseline")])
        assert await revoked(client, trainee)
        assert (await sign_in(client, "tr-c1", "Zhang2019x")).status_code == 423
    await container.infra.close()


async def test_an_initial_secret_past_its_days_is_refused_before_the_job_retires_it(
    settings_env: dict[str, Any],
) -> None:
    clock, container, notify_keys = await programme_system(settings_env)
    accounts = container.programme_accounts
    await accounts.handle_batch([confirmed(("c1", "13900000001"))])
    secret, _ = await latest_secret(container, notify_keys, "tr-c1")
    async with api_client(create_app(container)) as client:
        clock.set(NOW + timedelta(days=7) - timedelta(minutes=1))
        early = await sign_in(client, "tr-c1", secret)
        assert early.status_code == 200
        clock.set(NOW + timedelta(days=7, minutes=1))  # the job has not run
        late = await sign_in(client, "tr-c1", secret)
        assert late.status_code == 401 and late.json()["code"] == "initial_password_expired", late.text
        assert late.json()["title"] == "初始密码已过期，请联系实验区联系人或中心重新发送"
        # A token from before cannot keep the expired secret alive either.
        change = await client.post(
            "/v1/auth/password",
            json={"old_password": secret, "new_password": "Zhang2019x"},
            headers=bearer(early.json()["access_token"]),
        )
        assert change.status_code == 401 and change.json()["code"] == "initial_password_expired"
        assert await accounts.expire_initial_secrets() == 1
    await container.infra.close()


async def test_the_centre_or_the_zone_contact_sends_an_initial_secret_again(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    clock, container, notify_keys = await programme_system(settings_env)
    accounts = container.programme_accounts
    await accounts.handle_batch([zone_appointed(), confirmed(("c1", "13900000001"), ("c2", "13900000002"))])
    url = "/v1/batches/b1/zones/a1/trainees/c1/credentials"
    centre = bearer(make_token("base_admin"))
    contact = bearer(make_token("zone_contact", zone_id="a1"))
    async with api_client(create_app(container)) as client:
        first, _ = await latest_secret(container, notify_keys, "tr-c1")
        token = (await sign_in(client, "tr-c1", first)).json()["access_token"]
        # Nobody outside the trainee's zone reaches it, and no other batch names it.
        outsiders = [
            (url, bearer(make_token("zone_contact", zone_id="a2"))),
            (url, bearer(make_token("teacher", ce_number="2026000001", school_id="s1", district="天河区"))),
            (url, bearer(make_token("trainee", trainee_id="c1", batch_id="b1", zone_id="a1"))),
            ("/v1/batches/b2/zones/a1/trainees/c1/credentials", centre),
            ("/v1/batches/b1/zones/a1/trainees/cc/credentials", centre),
        ]
        for path, headers in outsiders:
            answer = await client.post(path, headers=headers)
            assert answer.status_code == 404 and answer.json()["code"] == "account_not_found", (path, answer.text)
        assert (await client.post(url)).status_code == 401

        # The zone contact has it sent again: a new secret to the stored mobile; the old one and its token die.
        assert (await client.post(url, headers=contact)).status_code == 202
        second, event = await latest_secret(container, notify_keys, "tr-c1")
        assert event["mobile"] == "13900000001" and event["report_deadline"].startswith("2019-09-05")
        assert (await sign_in(client, "tr-c1", first)).status_code == 401
        assert (await sign_in(client, "tr-c1", second)).status_code == 200
        assert await revoked(client, token)

        # Expired and retired by the job: the centre has it sent again, with seven new days.
        clock.set(NOW + timedelta(days=8))
        assert await accounts.expire_initial_secrets() == 3
        assert (await client.post(url, headers=centre)).status_code == 202
        assert await accounts.expire_initial_secrets() == 0  # the new secret is not retired
        # nor by a job that read the login before it was sent again
        assert not await accounts.accounts.expire_initial_secret("tr-c1", "unusable", epoch_ms(clock.now()))
        third, event = await latest_secret(container, notify_keys, "tr-c1")
        assert event["valid_until"].startswith("2019-08-16")
        assert (await sign_in(client, "tr-c1", third)).status_code == 200

        # A trainee who set a password and forgot it: the same call resets it (the own password dies).
        own = (await sign_in(client, "tr-c1", third)).json()["access_token"]
        changed_password = await client.post(
            "/v1/auth/password",
            json={"old_password": third, "new_password": "Zhang2019x"},
            headers=bearer(own),
        )
        assert changed_password.status_code == 204
        assert (await sign_in(client, "tr-c1", "Zhang2019x")).status_code == 200
        assert (await client.post(url, headers=contact)).status_code == 202
        fourth, _ = await latest_secret(container, notify_keys, "tr-c1")
        assert (await sign_in(client, "tr-c1", "Zhang2019x")).status_code == 401
        reset = await sign_in(client, "tr-c1", fourth)
        assert reset.status_code == 200 and reset.json()["must_change_password"] is True

        # At most three an hour per login.
        limited = await client.post(url, headers=centre)
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) > 0

        # A zone contact's login: by the centre only.
        zone_url = "/v1/zones/a1/credentials"
        assert (await client.post(zone_url, headers=contact)).status_code == 404
        before, _ = await latest_secret(container, notify_keys, "zc-a1")
        assert (await client.post(zone_url, headers=centre)).status_code == 202
        after, event = await latest_secret(container, notify_keys, "zc-a1")
        assert after != before and event["role"] == "zone_contact" and event["mobile"] == "13700000001"
        assert (await sign_in(client, "zc-a1", after)).status_code == 200

        # A withdrawn trainee's login is closed: nothing to send.
        withdrawn = bl.TraineeWithdrawn(trainee_id="c2", batch_id="b1", zone_id="a1")
        await accounts.handle_batch([Envelope.wrap(withdrawn, producer="baseline")])
        closed = await client.post("/v1/batches/b1/zones/a1/trainees/c2/credentials", headers=centre)
        assert closed.status_code == 404
    await container.infra.close()
