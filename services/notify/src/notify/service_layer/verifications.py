"""Verification codes and step-up tokens (§1, DESIGN.md rule 7).

A code goes to the caller's bound mobile from the contact book — never to a number in the request —
except for phone re-binding, where it goes to the new number (proving the caller holds it). Codes are
stored only as a keyed hash; they and the tokens are never logged. Spending a code is one conditional
update, so parallel checks of one code mint at most one token."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import AppError, BadRequest, Conflict, InvalidInput, NotFound, TooManyRequests
from jijiao_kit.stepup import STEP_UP_TTL_SECONDS, StepUpSigner
from notify.adapters.repositories import Contacts, Messages, Verifications
from notify.adapters.throttle import SlidingLimiter
from notify.domain import verification as rules
from notify.domain.schedule import epoch
from notify.domain.templates import template
from notify.service_layer.delivery import DeliveryService
from notify.service_layer.notices import Notifier, Recipient
from notify.settings import Settings

HOUR = 3600


class Gone(AppError):
    status, code, title = 410, "gone", "验证码已失效，请重新获取"


class VerificationService:
    def __init__(
        self,
        verifications: Verifications,
        contacts: Contacts,
        messages: Messages,
        notifier: Notifier,
        delivery: DeliveryService,
        limiter: SlidingLimiter,
        signer: StepUpSigner,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self.verifications = verifications
        self.contacts = contacts
        self.messages = messages
        self.notifier = notifier
        self.delivery = delivery
        self.limiter = limiter
        self.signer = signer
        self.clock = clock
        self.settings = settings
        self.pepper = settings.verification_pepper.get_secret_value()

    async def _throttle(self, key: str, now: float) -> None:
        decision = await self.limiter.take(
            key,
            now=now,
            window=HOUR,
            cap=self.settings.verification_hourly_cap,
            min_interval=self.settings.verification_resend_seconds,
        )
        if decision.allowed:
            return
        if decision.reason == "interval":
            raise TooManyRequests(
                f"A code was sent less than {self.settings.verification_resend_seconds}s ago.",
                code="verification_resend_too_soon",
                title="验证码发送过于频繁，请稍后再试",
                headers={"Retry-After": str(decision.retry_after)},
                extra={"retry_after": decision.retry_after},
            )
        raise TooManyRequests(
            f"At most {self.settings.verification_hourly_cap} codes per hour.",
            code="verification_hourly_cap",
            title="本小时内获取验证码次数已达上限，请稍后再试",
            headers={"Retry-After": str(decision.retry_after)},
            extra={"retry_after": decision.retry_after},
        )

    async def request(self, principal: Principal, purpose: str, new_mobile: str | None) -> dict[str, Any]:
        if purpose not in rules.PURPOSE_LABELS:
            raise InvalidInput(
                f"Unknown purpose {purpose!r}; one of {sorted(rules.PURPOSE_LABELS)}.",
                code="verification_unknown_purpose",
                title="不支持的验证用途",
            )
        if purpose == rules.REBIND_PHONE and not new_mobile:
            raise InvalidInput("Re-binding needs new_mobile.", code="new_mobile_required", title="请填写新手机号")
        if purpose != rules.REBIND_PHONE and new_mobile:
            raise BadRequest(
                "Codes go to the bound mobile; new_mobile is only for rebind_phone.",
                code="verification_mobile_not_allowed",
                title="验证码只发送到已绑定的手机号",
            )
        contact = await self.contacts.get(principal.subject)
        if contact is None or not contact.get("mobile"):
            raise Conflict(
                "No bound mobile is known for this account.", code="no_bound_mobile", title="账号未绑定手机号"
            )
        mobile = new_mobile if purpose == rules.REBIND_PHONE and new_mobile else str(contact["mobile"])
        if purpose == rules.REBIND_PHONE and mobile == contact.get("mobile"):
            raise Conflict("This mobile is already bound.", code="mobile_already_bound", title="该手机号已绑定")
        now = self.clock.now()
        await self._throttle(f"code:subject:{principal.subject}", now.timestamp())
        await self._throttle(f"code:mobile:{mobile}", now.timestamp())

        verification_id = uuid.uuid4().hex
        code = rules.new_code()
        expires_at = now + timedelta(seconds=self.settings.verification_ttl_seconds)
        await self.verifications.create(
            {
                "_id": verification_id,
                "subject": principal.subject,
                "purpose": purpose,
                "token_purpose": rules.token_purpose(purpose, new_mobile),
                "mobile": mobile,
                "code_hash": rules.hash_code(code, salt=verification_id, pepper=self.pepper),
                "status": "active",
                "wrong_attempts": 0,
                "created_at": now,
                "expires_at": expires_at,
                "expires_ts": epoch(expires_at),
            }
        )
        tpl = template("verification_code")
        recipient = Recipient(
            subject=principal.subject,
            name=contact.get("name"),
            mobile=mobile,
            school_id=contact.get("school_id"),
            district=contact.get("district"),
        )
        values = {
            "code": code,
            "purpose_label": rules.PURPOSE_LABELS[purpose],
            "minutes": self.settings.verification_ttl_seconds // 60,
        }
        docs = self.notifier.build(f"verification:{verification_id}", tpl, recipient, values)
        await self.notifier.store(docs)
        # The user is waiting for this code: send it now (bounded by the send timeout); a failure is
        # recorded and the worker's delivery job retries it like any other notice.
        for doc in docs:
            await self.delivery.deliver(doc["_id"])
        return {"id": verification_id, "masked_mobile": rules.mask_mobile(mobile), "expires_at": expires_at}

    async def check(self, principal: Principal, verification_id: str, code: str) -> dict[str, Any]:
        doc = await self.verifications.get(verification_id)
        if doc is None or doc["subject"] != principal.subject:
            raise NotFound("No such verification.", code="verification_not_found", title="验证码记录不存在")
        now = self.clock.now()
        self._alive_or_raise(doc, now)
        max_wrong = self.settings.verification_max_wrong
        if not rules.code_matches(code, doc["code_hash"], salt=verification_id, pepper=self.pepper):
            state = await self.verifications.count_wrong(verification_id, max_wrong)
            if state is None:  # died meanwhile (other wrong tries or spent)
                fresh = await self.verifications.get(verification_id)
                self._alive_or_raise(fresh or doc, now)
                raise Gone("Too many wrong codes.", code="verification_dead", title="验证码错误次数过多，请重新获取")
            remaining = max_wrong - int(state["wrong_attempts"])
            if remaining <= 0:
                await self.verifications.kill(verification_id, now)
            raise InvalidInput(
                "Wrong code.",
                code="verification_code_wrong",
                title="验证码错误",
                extra={"remaining_attempts": max(remaining, 0)},
            )
        if not await self.verifications.use(verification_id, now, max_wrong):
            fresh = await self.verifications.get(verification_id)
            self._alive_or_raise(fresh or doc, now)
            raise Conflict("The code was already used.", code="verification_used", title="验证码已使用")
        token = self.signer.sign(principal.subject, doc["token_purpose"], now=now.timestamp())
        return {
            "step_up_token": token,
            "purpose": doc["token_purpose"],
            "expires_at": now + timedelta(seconds=STEP_UP_TTL_SECONDS),
        }

    def _alive_or_raise(self, doc: dict[str, Any], now: Any) -> None:
        if doc["status"] == "used":
            raise Conflict("The code was already used.", code="verification_used", title="验证码已使用")
        if doc["status"] == "dead" or int(doc.get("wrong_attempts", 0)) >= self.settings.verification_max_wrong:
            raise Gone("Too many wrong codes.", code="verification_dead", title="验证码错误次数过多，请重新获取")
        if float(doc["expires_ts"]) <= epoch(now):
            raise Gone("The code expired.", code="verification_expired", title="验证码已过期，请重新获取")
