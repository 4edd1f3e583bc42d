"""Notify's own test helpers: a real SMTP server (aiosmtpd), a real HTTP SMS gateway whose answers a
test scripts, and a way to publish envelopes as producers would."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_kit.messaging import EventPublisher
from jijiao_stack.processes import free_port


class _Collect:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    handler: _Collect

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.handler.messages if m["To"] == address]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = _Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer(port, handler)
    controller.stop()


@dataclass
class Gateway:
    """A real HTTP SMS gateway: answers each request with the next scripted status (then 200)."""

    url: str
    script: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0


@pytest.fixture
async def sms_gateway() -> AsyncIterator[Gateway]:
    port = free_port()
    gateway = Gateway(url=f"http://127.0.0.1:{port}/sms/send")

    async def send(request: Request) -> JSONResponse:
        body = await request.json()
        gateway.requests.append(body)
        if gateway.delay:
            await asyncio.sleep(gateway.delay)
        status = gateway.script.pop(0) if gateway.script else 200
        if status >= 300:
            return JSONResponse({"error": "scripted failure"}, status_code=status)
        gateway.delivered.append(body)
        return JSONResponse({"message_id": f"gw-{len(gateway.delivered)}"})

    app = Starlette(routes=[Route("/sms/send", send, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    yield gateway
    server.should_exit = True
    await task


async def _publish(
    worker: Any,
    event: IntegrationEvent,
    *,
    producer: str,
    times: int = 1,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> Envelope:
    """Publish one event (``times`` deliveries of the same envelope) the way a producer's relay does."""
    envelope = Envelope.wrap(event, producer=producer, event_id=event_id, occurred_at=occurred_at)
    publisher = EventPublisher(worker.broker, worker.settings.topology)
    for _ in range(times):
        await publisher.publish_raw(
            envelope.routing_key, envelope.model_dump_json().encode(), event_id=envelope.event_id, correlation_id=None
        )
    return envelope


@pytest.fixture
def publish() -> Any:
    return _publish
