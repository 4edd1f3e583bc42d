"""The channel port: every provider sends one rendered notice and either returns its id or raises.

``ProviderError`` is worth a retry (timeouts, 5xx, connection refused); ``RejectedError`` is final
(the provider refuses the recipient or the request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ProviderError(Exception):
    """A transient provider failure: retry later."""


class RejectedError(ProviderError):
    """A final refusal (bad number, refused recipient): do not retry."""


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    to: str
    text: str  # the SMS text with its signature, or the plain-text email body
    subject: str | None = None  # email only


class Channel(Protocol):
    async def send(self, message: Outgoing) -> str:
        """Send one message; returns the provider's id. Raises ``ProviderError`` on failure."""
        ...
