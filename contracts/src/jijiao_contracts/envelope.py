"""The envelope every integration event travels in, and the base of every payload."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

E = TypeVar("E", bound="IntegrationEvent")

_REGISTRY: dict[str, type[IntegrationEvent]] = {}


def event_registry() -> dict[str, type[IntegrationEvent]]:
    """All known event classes by routing key (``<type>.v<version>``)."""
    return dict(_REGISTRY)


class IntegrationEvent(BaseModel):
    """Base of every event payload (eShop's IntegrationEvent).

    Subclasses set ``EVENT_TYPE`` (``<producer>.<subject>_<past tense>``) and ``SCHEMA_VERSION``.
    Consumers ignore unknown fields, so producers may add fields; a breaking change is a new version.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    EVENT_TYPE: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.EVENT_TYPE:
            key = cls.routing_key()
            if key in _REGISTRY and _REGISTRY[key].__qualname__ != cls.__qualname__:
                raise TypeError(f"duplicate event routing key {key}")
            _REGISTRY[key] = cls

    @classmethod
    def routing_key(cls) -> str:
        return f"{cls.EVENT_TYPE}.v{cls.SCHEMA_VERSION}"


class Actor(BaseModel):
    """Who caused the event (a user subject and role, or a system job)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    subject: str
    role: str | None = None


class Envelope(BaseModel):
    """What goes on the wire: metadata plus the payload as a plain object."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    schema_version: int
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    correlation_id: str | None = None
    actor: Actor | None = None
    payload: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: IntegrationEvent,
        *,
        producer: str,
        correlation_id: str | None = None,
        actor: Actor | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        return cls(
            event_id=event_id or str(uuid.uuid4()),
            type=event.EVENT_TYPE,
            schema_version=event.SCHEMA_VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=producer,
            correlation_id=correlation_id,
            actor=actor,
            payload=event.model_dump(mode="json"),
        )

    @property
    def routing_key(self) -> str:
        return f"{self.type}.v{self.schema_version}"

    def payload_as(self, event_class: builtins.type[E]) -> E:
        return event_class.model_validate(self.payload)
