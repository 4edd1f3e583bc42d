"""QR codes (segno) and the signed, time-boxed check-in token bound to one activity (PyJWT, HS256)."""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path

import jwt
import segno

PURPOSE = "studio_checkin"


def qr_image(data: str, kind: str) -> bytes:
    """PNG or SVG of a QR code holding ``data``."""
    code = segno.make(data, error="m")
    out = io.BytesIO()
    code.save(out, kind=kind, scale=8 if kind == "png" else 4, border=2)
    return out.getvalue()


def load_or_create_key(path: Path) -> bytes:
    """The check-in signing key, shared by the service's processes through a file (created once)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        return path.read_bytes()


class CheckinTokens:
    def __init__(self, key: bytes, ttl_seconds: int) -> None:
        self.key = key
        self.ttl_seconds = ttl_seconds

    def issue(self, activity_id: str, studio_id: str, now_s: int) -> tuple[str, int]:
        expires = now_s + self.ttl_seconds
        claims = {"purpose": PURPOSE, "aid": activity_id, "sid": studio_id, "iat": now_s, "exp": expires}
        return jwt.encode(claims, self.key, algorithm="HS256"), expires

    def activity_of(self, token: str, now_s: int) -> str | None:
        """The activity the token is for, or None when forged, expired or not a check-in token."""
        try:
            claims = jwt.decode(
                token, self.key, algorithms=["HS256"], options={"require": ["exp", "aid"], "verify_exp": False}
            )
        except jwt.PyJWTError:
            return None
        if claims.get("purpose") != PURPOSE or not isinstance(claims.get("exp"), int) or claims["exp"] <= now_s:
            return None
        aid = claims.get("aid")
        return aid if isinstance(aid, str) else None
