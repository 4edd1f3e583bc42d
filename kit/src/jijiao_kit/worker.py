"""The worker process of a service: its queue consumer, the outbox relay and scheduled jobs,
as one FastStream application (with an AsyncAPI document).

A worker has at most one consumer, given as a ``Consuming`` option (one by one or in batches of a
size); its handlers are registered once, before the worker is built, and nothing is attached later.

Shutdown (SIGTERM) runs in this order, bounded as a whole by ``shutdown_deadline_seconds`` (below
Kubernetes' 30 s grace period): stop consuming (the subscription is cancelled, so the broker sends
nothing more), drain (what was delivered already and the batches in flight are handled and acked;
then the consumer takes nothing more), stop the relay, the jobs and the heartbeat, then run the
service's shutdown hooks (finish sending, release handed work); the claim-holder heartbeat
(``jijiao_kit.liveness``) is renewed until the end. A watchdog ends the process if the
deadline passes anyway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import uvloop
from faststream import FastStream
from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, RabbitBroker
from faststream.specification import AsyncAPI

from jijiao_contracts import IntegrationEvent
from jijiao_kit.batching import BatchConsumer, Consuming
from jijiao_kit.consuming import the_message
from jijiao_kit.jobs import PeriodicJob, run_periodic
from jijiao_kit.liveness import Liveness
from jijiao_kit.messaging import EventPublisher, declare_topology, events_exchange, make_broker, service_queue
from jijiao_kit.outbox import OutboxRelay
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.settings import ServiceSettings

logger = logging.getLogger(__name__)


def worker_broker(settings: ServiceSettings) -> RabbitBroker:
    """The broker connection of a worker process (build it first when the composition root needs it,
    e.g. for a publisher, and hand it to ``Worker``)."""
    return make_broker(settings.rabbitmq_url, prefetch_count=settings.prefetch_count, app_id=settings.service_name)


class Worker:
    """Holds what the worker runs, so tests can start and stop it in-process."""

    def __init__(
        self,
        infra: Infrastructure,
        *,
        title: str,
        consuming: Consuming | None = None,
        broker: RabbitBroker | None = None,
        outbox_collections: Sequence[str] = (),
        produces: Sequence[type[IntegrationEvent]] = (),
        jobs: Sequence[PeriodicJob] = (),
        on_startup: Sequence[Callable[[], Awaitable[Any]]] = (),
        on_shutdown: Sequence[Callable[[], Awaitable[Any]]] = (),
        liveness: Liveness | None = None,
    ) -> None:
        settings = infra.settings
        self.infra = infra
        self.settings = settings
        self.broker: RabbitBroker = broker or worker_broker(settings)
        self.routing_keys: list[str] = sorted(consuming.routing_keys) if consuming else []
        self.relay = OutboxRelay(
            infra.db,
            outbox_collections,
            EventPublisher(self.broker, settings.topology),
            batch_size=settings.relay_batch_size,
            interval_seconds=settings.relay_interval_seconds,
        )
        self.jobs = list(jobs)
        #: This process's claim-holder heartbeat (``jijiao_kit.liveness``), given to the consumer's
        #: inboxes; a composition root that stamps claims of its own (notify's notices) passes its own.
        self.liveness = liveness or Liveness.for_worker(infra)
        for inbox in consuming.inboxes if consuming is not None else ():
            if inbox.liveness is None:
                inbox.liveness = self.liveness
        self._liveness_stop = asyncio.Event()
        self._liveness_task: asyncio.Task[None] | None = None
        self._on_startup = list(on_startup)
        self._on_shutdown = list(on_shutdown)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.consumer: BatchConsumer | None = None
        self._consumer_channel: Channel | None = None
        self._subscriber: Any = None
        #: Set when shutdown begins.
        self.stopping = asyncio.Event()
        if consuming is not None and self.routing_keys:
            self._subscribe(consuming)
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
            after_shutdown=[self._stopped],
        )

    def _subscribe(self, consuming: Consuming) -> None:
        """The service's one consumer: a subscriber on its quorum queue (manual ack, its own channel
        with a prefetch that fills the batches in flight) feeding a ``BatchConsumer``."""
        settings = self.settings
        queue = service_queue(settings.topology, settings.service_name, settings.delivery_limit)
        queue.declare = False  # declared, with its bindings and dead-lettering, at start
        consumer = BatchConsumer(
            queue.name,
            consuming.handler,
            batch_size=consuming.batch_size,
            linger_seconds=consuming.linger_seconds,
            in_flight=consuming.in_flight,
        )
        self.consumer = consumer
        self._consumer_channel = Channel(prefetch_count=consumer.prefetch_count)
        how = "one by one" if consuming.batch_size == 1 else f"in batches of up to {consuming.batch_size}"
        self._subscriber = self.broker.subscriber(
            queue,
            events_exchange(settings.topology),
            channel=self._consumer_channel,
            ack_policy=AckPolicy.MANUAL,
            decoder=the_message,
            title=f"{settings.service_name}-events",
            description=f"All integration events the {settings.service_name} service consumes, {how}: "
            + ", ".join(self.routing_keys),
        )

        async def on_event(message: Any) -> None:
            await consumer.feed(message.raw_message)

        self._subscriber(on_event)  # a call, not a decorator: FastStream's decorator is untyped

    async def _startup(self) -> None:
        # The heartbeat runs before any claim is taken and until the very end of shutdown (a send
        # finishing in a shutdown hook keeps its claim); after that its key runs out by its TTL.
        self._liveness_stop.clear()
        await self.liveness.beat()
        self._liveness_task = asyncio.create_task(self.liveness.run(self._liveness_stop), name="liveness")
        await self.broker.connect()
        await declare_topology(
            self.broker,
            self.settings.topology,
            service=self.settings.service_name if self.consumer else None,
            routing_keys=self.routing_keys,
            delivery_limit=self.settings.delivery_limit,
            consumer_channel=self._consumer_channel,
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
        self.stopping.clear()
        if self.consumer is not None:
            await self.consumer.start()
        self._tasks.append(asyncio.create_task(self._heartbeat()))
        if self.relay.collections:
            self._tasks.append(asyncio.create_task(self.relay.run_forever(self._stop)))
        for job in self.jobs:
            self._tasks.append(
                asyncio.create_task(
                    run_periodic(job, self.infra.redis, self.settings.redis_prefix, self._stop, self.liveness)
                )
            )
        logger.info("worker %s started", self.settings.service_name)

    async def _shutdown(self) -> None:
        self.stopping.set()
        # The hooks get all but 3 s of the deadline; the broker's own close (FastStream runs it after
        # the hooks) the rest; ``run_worker`` ends the process if that overruns too.
        hooks_deadline = max(1.0, self.settings.shutdown_deadline_seconds - 3)
        try:
            async with asyncio.timeout(hooks_deadline):
                await self._stop_in_order(time.monotonic() + hooks_deadline)
        except TimeoutError:
            logger.error("worker shutdown passed its deadline of %.0f s; stopping anyway", hooks_deadline)

    async def _stopped(self) -> None:
        self._liveness_stop.set()
        if self._liveness_task is not None:
            with contextlib.suppress(Exception):
                await self._liveness_task
            self._liveness_task = None
        logger.info("worker %s stopped", self.settings.service_name)

    async def _stop_in_order(self, deadline: float) -> None:
        logger.info("worker %s stopping: consuming stops first", self.settings.service_name)
        if self.consumer is not None:
            with contextlib.suppress(Exception):  # the channel may be gone already (broker away)
                await self._subscriber.stop()  # basic.cancel: the broker sends nothing more
            drained = await self.consumer.drain(max(0.0, (deadline - time.monotonic()) * 2 / 3))
            logger.info(
                "consuming stopped (%s); %d deliveries left unacked for redelivery",
                "drained" if drained else "in-flight batches cancelled",
                self.consumer.unsettled_after_stop(),
            )
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


async def _exit_if_shutdown_overruns(worker: Worker) -> None:
    """Once shutdown begins, a thread ends the process if it is still running at the deadline (a hook
    or the broker's close hanging; a thread, so it fires even when the event loop is blocked)."""
    await worker.stopping.wait()
    deadline = worker.settings.shutdown_deadline_seconds

    def overrun() -> None:
        logger.error("worker shutdown still running after %.0f s; exiting", deadline)
        logging.shutdown()
        os._exit(1)

    timer = threading.Timer(deadline, overrun)
    timer.daemon = True
    timer.start()
    try:
        await asyncio.Event().wait()
    finally:
        timer.cancel()


def run_worker(worker: Worker) -> None:
    """Run a worker process on uvloop (installed with uvicorn[standard], which the APIs already run
    on): the relay and the consumers spend much of their time in the event loop's socket handling."""

    async def main() -> None:
        watch = asyncio.create_task(_exit_if_shutdown_overruns(worker))
        try:
            await worker.app.run()
        finally:
            watch.cancel()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
