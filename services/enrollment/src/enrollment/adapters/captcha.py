"""Image codes (图形验证码) for the web login (DOMAIN §1: login + captcha on the web), drawn by the
``captcha`` library and kept in Redis so every API replica can check them. One check per code: a
wrong answer spends it, like a right one."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from captcha.image import ImageCaptcha
from redis.asyncio import Redis

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: what people misread on a noisy image.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"


@dataclass(frozen=True)
class IssuedCaptcha:
    id: str
    png: bytes
    expires_at: datetime


class CaptchaStore:
    def __init__(self, redis: Redis, key_prefix: str, *, ttl_seconds: int = 300, length: int = 4) -> None:
        """Codes are kept under ``<key_prefix><id>``."""
        self.redis = redis
        self.key_prefix = key_prefix
        self.ttl_seconds = ttl_seconds
        self.length = length
        self._drawer = ImageCaptcha(width=160, height=60)

    def key(self, captcha_id: str) -> str:
        return self.key_prefix + captcha_id

    async def issue(self, now: datetime) -> IssuedCaptcha:
        text = "".join(secrets.choice(ALPHABET) for _ in range(self.length))
        captcha_id = uuid.uuid4().hex
        await self.redis.set(self.key(captcha_id), text, ex=self.ttl_seconds)
        png = await asyncio.to_thread(lambda: self._drawer.generate(text).getvalue())  # a few ms of drawing
        return IssuedCaptcha(captcha_id, png, now + timedelta(seconds=self.ttl_seconds))

    async def check(self, captcha_id: str, answer: str) -> bool:
        stored = await self.redis.getdel(self.key(captcha_id))
        if stored is None:
            return False
        expected = stored.decode() if isinstance(stored, bytes) else str(stored)
        return hmac.compare_digest(expected, answer.strip().upper())

    # Logins that name no account count their wrong tries here, so they ask for an image code after as
    # many tries as an account does (the answers never tell whether an account exists).

    def _unknown_key(self, login: str) -> str:
        return f"{self.key_prefix}unknown:{login}"

    async def unknown_login_failures(self, login: str) -> int:
        return int(await self.redis.get(self._unknown_key(login)) or 0)

    async def record_unknown_login_failure(self, login: str, *, ttl_seconds: int = 86_400) -> None:
        key = self._unknown_key(login)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, ttl_seconds)
            await pipe.execute()
