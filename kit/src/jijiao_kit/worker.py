"""The worker process of a service: its queue consumer, the outbox relay and scheduled jobs,
as one FastStream application (with an AsyncAPI document)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import uvloop
from faststream import FastStream
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI

from jijiao_contracts import IntegrationEvent
from jijiao_kit.consuming import EventDispatcher, Inbox, subscribe_service_queue
from jijiao_kit.jobs import PeriodicJob, run_periodic
from jijiao_kit.messaging import EventPublisher, declare_topology, events_exchange, make_broker
from jijiao_kit.outbox import OutboxRelay
from jijiao_kit.runtime import Infrastructure

logger = logging.getLogger(__name__)


class Worker:
    """Holds what the worker runs, so tests can start and stop it in-process."""

    def __init__(
        self,
        infra: Infrastructure,
        dispatcher: EventDispatcher,
        *,
        title: str,
        outbox_collections: Sequence[str] = (),
        produces: Sequence[type[IntegrationEvent]] = (),
        jobs: Sequence[PeriodicJob] = (),
        on_startup: Sequence[Callable[[], Awaitable[Any]]] = (),
        on_shutdown: Sequence[Callable[[], Awaitable[Any]]] = (),
    ) -> None:
        settings = infra.settings
        self.infra = infra
        self.settings = settings
        self.dispatcher = dispatcher
        self.broker: RabbitBroker = make_broker(
            settings.rabbitmq_url, prefetch_count=settings.prefetch_count, app_id=settings.service_name
        )
        self.inbox = Inbox(infra.db)
        self.relay = OutboxRelay(
            infra.db,
            outbox_collections,
            EventPublisher(self.broker, settings.topology),
            batch_size=settings.relay_batch_size,
            interval_seconds=settings.relay_interval_seconds,
        )
        self.jobs = list(jobs)
        self._on_startup = list(on_startup)
        self._on_shutdown = list(on_shutdown)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        if dispatcher.routing_keys():
            subscribe_service_queue(
                self.broker,
                settings.topology,
                settings.service_name,
                dispatcher,
                self.inbox,
                delivery_limit=settings.delivery_limit,
            )
        for event_class in produces:  # documents what this service publishes (AsyncAPI)
            self.broker.publisher(
                events_exchange(settings.topology).name,
                routing_key=event_class.routing_key(),
                title=event_class.routing_key(),
                schema=event_class,
                description=(event_class.__doc__ or "").strip() or None,
            )
        self.app = FastStream(
            self.broker,
            specification=AsyncAPI(title=title, version="0.1.0"),
            on_startup=[self._startup],
            after_startup=[self._start_background],
            on_shutdown=[self._shutdown],
        )

    async def _startup(self) -> None:
        await self.broker.connect()
        await declare_topology(
            self.broker,
            self.settings.topology,
            service=self.settings.service_name if self.dispatcher.routing_keys() else None,
            routing_keys=self.dispatcher.routing_keys(),
            delivery_limit=self.settings.delivery_limit,
        )
        for hook in self._on_startup:
            await hook()

    async def _heartbeat(self) -> None:
        """Touch a file while the broker connection is up: the container liveness probe reads it."""
        path = Path(self.settings.worker_heartbeat_file)
        while not self._stop.is_set():
            if await self.broker.ping(timeout=3):
                await asyncio.to_thread(path.touch)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=5)

    async def _start_background(self) -> None:
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self._heartbeat()))
        if self.relay.collections:
            self._tasks.append(asyncio.create_task(self.relay.run_forever(self._stop)))
        for job in self.jobs:
            self._tasks.append(
                asyncio.create_task(run_periodic(job, self.infra.redis, self.settings.redis_prefix, self._stop))
            )
        logger.info("worker %s started", self.settings.service_name)

    async def _shutdown(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for hook in self._on_shutdown:
            try:
                await hook()
            except Exception:
                logger.exception("worker shutdown hook failed")

    async def start(self) -> None:
        """Start in-process (tests): the same hooks as ``run`` without signal handling."""
        await self.app.start()

    async def stop(self) -> None:
        await self.app.stop()

    def asyncapi_json(self) -> str:
        return self.app.schema.to_specification().to_json()


def run_worker(worker: Worker) -> None:
    """Run a worker process on uvloop (installed with uvicorn[standard], which the APIs already run
    on): the relay and the consumers spend much of their time in the event loop's socket handling."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(worker.app.run())
