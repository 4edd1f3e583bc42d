"""Logins of the research-base programme (issue 15 item 7): enrollment opens a zone contact's and each
confirmed trainee's account from baseline's events, keeps only the hash of a random initial secret,
hands it to notify sealed, forces a new password at the first sign-in and retires it after 7 days."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from enrollment.bootstrap import build
from enrollment.entrypoints.api.app import create_app
from enrollment.service_layer.programme_accounts import programme_accounts_for
from enrollment.settings import Settings
from jijiao_contracts import Envelope
from jijiao_contracts.events import baseline as bl
from jijiao_kit.clock import FixedClock
from jijiao_kit.sealing import NOTIFY_CREDENTIALS_KEY, load_or_create_sealing_keys, unseal
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
    accounts = programme_accounts_for(container.infra.db, container.hasher, clock, keys_dir)
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
    accounts = programme_accounts_for(container.infra.db, container.hasher, clock, keys_dir)
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
