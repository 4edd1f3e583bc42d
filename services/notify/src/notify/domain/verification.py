"""Verification codes (§1): 6 digits, stored only as a keyed hash, a few tries, then dead."""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_LENGTH = 6

PURPOSE_LABELS = {
    "export": "导出敏感数据",
    "view_sensitive": "查看敏感信息",
    "rebind_phone": "绑定新手机号",
    "reset_password": "重置密码",
}
REBIND_PHONE = "rebind_phone"


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def hash_code(code: str, *, salt: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(code: str, stored_hash: str, *, salt: str, pepper: str) -> bool:
    return hmac.compare_digest(hash_code(code, salt=salt, pepper=pepper), stored_hash)


def mask_mobile(mobile: str) -> str:
    if len(mobile) < 7:
        return "*" * len(mobile)
    return f"{mobile[:3]}{'*' * (len(mobile) - 7)}{mobile[-4:]}"


def token_purpose(purpose: str, new_mobile: str | None) -> str:
    """The purpose claim of the step-up token. A phone re-binding token names the new number, so it
    proves possession of exactly that phone (``rebind_phone:<mobile>``)."""
    return f"{purpose}:{new_mobile}" if purpose == REBIND_PHONE and new_mobile else purpose
