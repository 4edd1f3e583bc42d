"""Signed tokens: Ed25519 key pairs, issuing (enrollment accounts, notify step-up) and verification
(every service). Object-level checks stay in each service; this module only says who is calling."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request

from jijiao_kit.errors import Forbidden, Unauthorized

ALGORITHM = "EdDSA"
#: Claim of a token issued while the account still has its initial password (DOMAIN §1).
MUST_CHANGE_PASSWORD = "must_change_password"
#: Claim: the account's token version when the token was issued (see ``TokenVersions``).
TOKEN_VERSION = "tv"


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes
    public_pem: bytes


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_or_create_keypair(keys_dir: Path, name: str) -> KeyPair:
    """Load ``<name>_private.pem``/``<name>_public.pem`` from ``keys_dir``, creating them on first use.

    Creation is race-safe: a process that loses the race to create the files reads the winner's."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    private_path = keys_dir / f"{name}_private.pem"
    public_path = keys_dir / f"{name}_public.pem"
    if not private_path.exists():
        key = Ed25519PrivateKey.generate()
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        tmp_public = keys_dir / f".{name}_public.{uuid.uuid4().hex}.tmp"
        tmp_public.write_bytes(public_pem)
        try:
            _write_exclusive(private_path, private_pem, 0o600)
            os.replace(tmp_public, public_path)
        except FileExistsError:
            tmp_public.unlink(missing_ok=True)
    for _ in range(50):  # the winner may still be writing the public half
        if public_path.exists():
            break
        time.sleep(0.02)
    return KeyPair(private_path.read_bytes(), public_path.read_bytes())


def load_public_key(keys_dir: Path, name: str, override_pem: str | None = None) -> bytes:
    if override_pem:
        return override_pem.encode()
    return load_or_create_keypair(keys_dir, name).public_pem


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the token says."""

    subject: str
    roles: frozenset[str]
    name: str | None = None
    scopes: dict[str, Any] = field(default_factory=dict)
    #: the account's token version at issue (claim ``tv``); older than the current one = revoked
    token_version: int = 0

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def school_id(self) -> str | None:
        return self.scopes.get("school_id")

    @property
    def district(self) -> str | None:
        return self.scopes.get("district")

    @property
    def ce_number(self) -> str | None:
        return self.scopes.get("ce_number")


class TokenIssuer:
    def __init__(self, private_pem: bytes, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._key = serialization.load_pem_private_key(private_pem, password=None)
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds

    def issue(self, subject: str, claims: dict[str, Any], *, ttl_seconds: int | None = None) -> str:
        now = int(time.time())
        payload = {
            **claims,
            "sub": subject,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + (ttl_seconds or self.ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)  # type: ignore[arg-type]


class TokenVerifier:
    """Verifies access tokens. A token whose signature, issuer and audience were checked once is
    remembered (bounded LRU) until it expires, so a client's repeated calls cost one signature check:
    under a selection storm each teacher sends the same token many times, and Ed25519 verification
    was the largest single cost of an API request. Expiry is checked on every use."""

    def __init__(
        self,
        public_pem: bytes,
        *,
        issuer: str,
        audience: str,
        cache_size: int = 20_000,
        refuse_initial_password: bool = True,
    ) -> None:
        self._key = serialization.load_pem_public_key(public_pem)
        self.issuer = issuer
        self.audience = audience
        self.cache_size = cache_size
        # A token issued while the account still has its initial password (claim
        # ``must_change_password``) is good only for changing it, which happens in enrollment; that
        # service lets such tokens through to its own gate (entrypoints/api/password_gate.py).
        self.refuse_initial_password = refuse_initial_password
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def decode(self, token: str, *, leeway: float = 5.0) -> dict[str, Any]:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token, leeway)
            self._remember(token, claims)
        else:
            self._verified.move_to_end(token)
        exp = claims.get("exp")
        if isinstance(exp, int | float) and exp + leeway <= time.time():
            self._verified.pop(token, None)
            raise Unauthorized("Token expired.", code="token_expired", title="登录已过期，请重新登录")
        return dict(claims)

    def _verify(self, token: str, leeway: float) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                audience=self.audience,
                leeway=leeway,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token expired.", code="token_expired", title="登录已过期，请重新登录") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Invalid token: {exc}", code="invalid_token", title="登录凭证无效") from exc

    def _remember(self, token: str, claims: dict[str, Any]) -> None:
        if self.cache_size <= 0:
            return
        self._verified[token] = claims
        while len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)

    def principal(self, token: str) -> Principal:
        claims = self.decode(token)
        if self.refuse_initial_password and claims.get(MUST_CHANGE_PASSWORD):
            raise Forbidden(
                "The initial password must be changed first (enrollment: POST /v1/auth/password), then sign in again.",
                code="password_change_required",
                title="请先修改初始密码后再使用系统",
            )
        return Principal(
            subject=str(claims["sub"]),
            roles=frozenset(claims.get("roles", [])),
            name=claims.get("name"),
            scopes=dict(claims.get("scopes", {})),
            token_version=_int_claim(claims.get(TOKEN_VERSION)),
        )


def _int_claim(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def token_version_namespace(name_prefix: str) -> str:
    """The Redis key prefix of token versions: one per system (``NAME_PREFIX``), shared by its services."""
    return f"{name_prefix}:auth:tv:"


#: Allowance for clocks that disagree (issuing host, verifying hosts, Redis) when keeping versions.
CLOCK_SKEW_SECONDS = 300

# A bump never lowers nor reuses a version, even after the key expired (read as 0): milliseconds of
# Redis's own clock, or one more than the current version if that is larger (versions of old deployments).
_BUMP_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local value = math.max(current + 1, now)
redis.call('SET', KEYS[1], string.format('%d', value), 'EX', tonumber(ARGV[1]))
return value
"""


def revocation_ttl(access_token_ttl_seconds: int, *, cache_seconds: float = 2.0) -> int:
    """How long a token version key must live: past the expiry of every token it can refuse (a token
    issued up to ``cache_seconds`` after a bump by a replica that still remembers the older version)
    plus clock skew."""
    return int(access_token_ttl_seconds + cache_seconds) + CLOCK_SKEW_SECONDS + 1


class TokenVersions:
    """Per-account token versions in Redis, so a lock, a password change, an archive or a phone
    unbinding revokes every earlier token of the account in every service within ``cache_seconds``.

    Enrollment (the only issuer) puts the current version in each token (claim ``tv``) and ``bump``s
    it on each of those events (Redis INCR under ``token_version_namespace``); every service's
    ``get_principal`` refuses a token whose ``tv`` is below the current version. Why this and not short
    tokens with refresh tokens: revocation stays one Redis key per account that every service already
    reaches, tokens and clients stay as they are, and the check costs one GET per account per few
    seconds (remembered in process), not per request. A missing key is version 0.

    Keys expire: each ``bump`` sets the key with a TTL of ``ttl_seconds`` (``revocation_ttl``: the
    longest access-token lifetime plus clock skew and this cache), so a key outlives every token it can
    refuse. Expiry is safe because a bump never lowers a version and never reuses one: the new version
    is ``max(current + 1, Redis TIME in ms)``. When the key has expired, every token issued before its
    last bump has expired too (they are older than the TTL); tokens issued after it carry that bump's
    version, which the next bump (a millisecond time later than the last one) exceeds, even though the
    key read 0 in between. Only an issuer needs ``ttl_seconds``; readers never write."""

    def __init__(
        self,
        redis: Any,
        namespace: str,
        *,
        cache_seconds: float = 2.0,
        cache_size: int = 50_000,
        ttl_seconds: int | None = None,
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[int, float]] = OrderedDict()
        # Lookups made while one MGET is in flight share the next one (no timers): a storm of first
        # requests costs a few Redis commands and never more connections than one.
        self._waiting: dict[str, asyncio.Future[int]] = {}
        self._draining: asyncio.Task[None] | None = None

    def key(self, subject: str) -> str:
        return self.namespace + subject

    async def current(self, subject: str) -> int:
        now = time.monotonic()
        hit = self._cache.get(subject)
        if hit is not None and hit[1] > now:
            return hit[0]
        future = self._waiting.get(subject)
        if future is None:
            future = self._waiting[subject] = asyncio.get_running_loop().create_future()
            if self._draining is None or self._draining.done():
                self._draining = asyncio.create_task(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            subjects = list(batch)
            try:
                raws = await self.redis.mget([self.key(subject) for subject in subjects])
            except Exception as exc:  # every waiter hears it (fail closed: the request is refused)
                for future in batch.values():
                    if not future.done():
                        future.set_exception(exc)
                continue
            expires = time.monotonic() + self.cache_seconds
            for subject, raw in zip(subjects, raws, strict=True):
                value = int(raw or 0)
                self._cache[subject] = (value, expires)
                self._cache.move_to_end(subject)
                if not batch[subject].done():
                    batch[subject].set_result(value)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    async def bump(self, subject: str) -> int:
        """Revoke every token issued so far for ``subject``; returns the new version (see the class)."""
        if self.ttl_seconds is None:
            raise RuntimeError("TokenVersions.bump needs ttl_seconds (revocation_ttl of the access-token TTL).")
        value = int(await self.redis.eval(_BUMP_SCRIPT, 1, self.key(subject), self.ttl_seconds))
        self._cache.pop(subject, None)
        return value

    async def check(self, principal: Principal) -> None:
        if principal.token_version < await self.current(principal.subject):
            raise Unauthorized(
                "The token was revoked (account locked, password changed, archived or phone unbound).",
                code="token_revoked",
                title="登录已失效，请重新登录",
            )


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Missing bearer token.", code="missing_token", title="请先登录")
    return token.strip()


def principal_from_request(request: Request) -> Principal:
    """The caller of ``request`` by its bearer token (CPU only: a verified token is remembered)."""
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.principal(_bearer(request))


async def get_principal(request: Request) -> Principal:
    """The principal dependency. Async on purpose: FastAPI runs a plain ``def`` dependency in its
    thread pool, which under a selection storm queues every request on the pool's 40 threads.

    The token must not be older than the account's token version (``TokenVersions``, set on the
    app's state by ``service.service_api``); the step-up dependency goes through here too."""
    principal = principal_from_request(request)
    versions: TokenVersions | None = getattr(request.app.state, "token_versions", None)
    if versions is not None:
        await versions.check(principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(principal: Principal, *roles: str) -> None:
    if not principal.has_role(*roles):
        raise Forbidden(f"Requires one of the roles: {', '.join(roles)}.", code="forbidden")


def verifier_from_settings(settings: Any) -> TokenVerifier:
    """The access-token verifier every service builds from its settings (public key by env or file)."""
    public_pem = load_public_key(settings.keys_dir, "auth", settings.jwt_public_key)
    return TokenVerifier(public_pem, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
