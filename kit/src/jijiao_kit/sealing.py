"""Sealed boxes: a secret encrypted by one service for another service's public key, so that nothing
between them (the broker, the outbox, the store, a log) can read it.

X25519 key agreement with a fresh ephemeral key per message, HKDF-SHA256, ChaCha20-Poly1305 (all
from ``cryptography``). A token is ``base64url(ephemeral public key || ciphertext)``. The key pair is
created once in the shared keys directory (race-safe, like the token signing keys); the receiving
service keeps the private half."""

from __future__ import annotations

import base64
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"jijiao-sealed-box-v1"
_NONCE = b"\x00" * 12  # every message has its own key (fresh ephemeral key pair)
_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class SealError(ValueError):
    pass


@dataclass(frozen=True)
class SealingKeys:
    private: bytes
    public: bytes


def _key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=INFO).derive(shared)


def seal(recipient_public: bytes, plaintext: str) -> str:
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(*_RAW)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    box = ChaCha20Poly1305(_key(shared, ephemeral_public, recipient_public))
    sealed = box.encrypt(_NONCE, plaintext.encode(), None)
    return base64.urlsafe_b64encode(ephemeral_public + sealed).decode()


def unseal(keys: SealingKeys, token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        ephemeral_public, sealed = raw[:32], raw[32:]
        shared = X25519PrivateKey.from_private_bytes(keys.private).exchange(
            X25519PublicKey.from_public_bytes(ephemeral_public)
        )
        box = ChaCha20Poly1305(_key(shared, ephemeral_public, keys.public))
        return box.decrypt(_NONCE, sealed, None).decode()
    except Exception as exc:  # wrong key, tampered or truncated token
        raise SealError("cannot open the sealed box") from exc


def load_or_create_sealing_keys(keys_dir: Path, name: str) -> SealingKeys:
    """``<name>_x25519.key`` (private, 0600) and ``<name>_x25519.pub`` in ``keys_dir``, created on first use."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    private_path, public_path = keys_dir / f"{name}_x25519.key", keys_dir / f"{name}_x25519.pub"
    if not private_path.exists():
        key = X25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        tmp_public = keys_dir / f".{name}.{uuid.uuid4().hex}.tmp"
        tmp_public.write_bytes(key.public_key().public_bytes(*_RAW))
        try:
            fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(private)
            os.replace(tmp_public, public_path)
        except FileExistsError:
            tmp_public.unlink(missing_ok=True)
    for _ in range(50):  # the winner may still be writing the public half
        if public_path.exists():
            break
        time.sleep(0.02)
    return SealingKeys(private_path.read_bytes(), public_path.read_bytes())


def load_public_sealing_key(keys_dir: Path, name: str) -> bytes:
    return load_or_create_sealing_keys(keys_dir, name).public


#: The key pair notify opens credential SMS with (enrollment seals initial secrets for it).
NOTIFY_CREDENTIALS_KEY = "notify_credentials"
