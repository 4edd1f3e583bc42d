"""Credentials SMS (research-base programme logins, issue 15): the initial secret arrives sealed for
notify's key (``jijiao_kit.sealing``), is opened only in memory to render the text, and the text to send
is kept at rest sealed again (``send.sealed``) until delivery opens it; the logged text masks it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jijiao_kit.sealing import NOTIFY_CREDENTIALS_KEY, SealingKeys, load_or_create_sealing_keys, seal, unseal


@cache
def keys(keys_dir: Path) -> SealingKeys:
    return load_or_create_sealing_keys(keys_dir, NOTIFY_CREDENTIALS_KEY)


def open_values(keys_dir: Path, values: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """The template values with the sealed ones opened (in memory only)."""
    return {k: unseal(keys(keys_dir), v) if k in fields and isinstance(v, str) else v for k, v in values.items()}


def seal_send(keys_dir: Path, send: dict[str, Any]) -> dict[str, Any]:
    return {"sealed": seal(keys(keys_dir).public, json.dumps(send, ensure_ascii=False))}


def opener(keys_dir: Path) -> Any:
    def open_send(send: dict[str, Any]) -> dict[str, Any]:
        if "sealed" not in send:
            return send
        opened: dict[str, Any] = json.loads(unseal(keys(keys_dir), send["sealed"]))
        return opened

    return open_send
