"""The channel port: every provider sends one rendered notice and either returns its id or raises.

``ProviderError`` is worth a retry (timeouts, 5xx, connection refused); ``RejectedError`` is final
(the provider refuses the recipient or the request)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


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


@runtime_checkable
class StatusQuery(Protocol):
    """A provider that answers, by our message id, whether it already accepted a message (the SMS
    providers' delivery-status query; the development sink). Before sending again a notice whose
    sender died or timed out mid-send, delivery asks, and a message already accepted is not sent twice.
    Without it (the HTTP gateway here, SMTP) such a notice is sent again: at least once."""

    async def accepted(self, message_ids: Sequence[str]) -> dict[str, str]:
        """Message id -> provider id, for those of ``message_ids`` already accepted."""
        ...


@runtime_checkable
class BatchChannel(Channel, Protocol):
    """A provider that takes many messages in one call (the development sink). The HTTP gateway and
    SMTP stay one message per call."""

    async def send_many(self, messages: Sequence[Outgoing]) -> list[str | ProviderError]:
        """Send all; per message the provider's id or its error, in order. Raises ``ProviderError``
        when the whole call failed."""
        ...
