"""Composition root of notify: builds the container (``entrypoints/api/app.py`` builds the HTTP app
from it)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from jijiao_contracts.events import notify as notify_events
from jijiao_kit.auth import TokenVerifier, load_or_create_keypair, verifier_from_settings
from jijiao_kit.batching import BatchInbox, attach_batch_consumer
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.consuming import EventDispatcher
from jijiao_kit.jobs import PeriodicJob
from jijiao_kit.logging import configure_logging
from jijiao_kit.messaging import EventPublisher
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.service import produced_events
from jijiao_kit.stepup import STEP_UP_KEY_NAME, StepUpSigner
from jijiao_kit.worker import Worker
from notify.adapters import mongo
from notify.adapters.channels import Channel
from notify.adapters.email import SmtpMailer
from notify.adapters.repositories import (
    Contacts,
    Messages,
    OutcomeRecords,
    Terms,
    Verifications,
)
from notify.adapters.sms import DevSmsSink, HttpSmsGateway
from notify.adapters.sms_sink import SmsSinkStore
from notify.adapters.throttle import SlidingLimiter
from notify.service_layer.batch import NoticeBatches
from notify.service_layer.contacts import ContactService
from notify.service_layer.delivery import DeliveryService
from notify.service_layer.delivery_log import DeliveryLog
from notify.service_layer.handlers import register_fact_handlers, register_handlers
from notify.service_layer.notices import Notifier
from notify.service_layer.outcomes import OutcomeFinisher
from notify.service_layer.reminders import Reminders
from notify.service_layer.verifications import VerificationService
from notify.settings import Settings


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    verifier: TokenVerifier
    clock: Clock
    contacts: Contacts
    messages: Messages
    sink: SmsSinkStore
    terms: Terms
    sms: Channel
    email: Channel
    notifier: Notifier
    delivery: DeliveryService
    reminders: Reminders
    verifications: VerificationService
    contacts_service: ContactService
    delivery_log: DeliveryLog


def sms_channel(settings: Settings, sink: SmsSinkStore) -> Channel:
    if settings.sms_backend == "http":
        password = settings.sms_gateway_password.get_secret_value() if settings.sms_gateway_password else None
        return HttpSmsGateway(
            settings.sms_gateway_url,
            username=settings.sms_gateway_username,
            password=password,
            timeout=settings.send_timeout_seconds,
        )
    if settings.sms_backend != "sink":
        raise ValueError(f"SMS_BACKEND must be 'sink' or 'http', not {settings.sms_backend!r}")
    return DevSmsSink(sink)


def email_channel(settings: Settings) -> Channel:
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.mail_from,
        sender_name=settings.mail_from_name,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        start_tls=settings.smtp_start_tls,
        timeout=settings.send_timeout_seconds,
    )


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    sms: Channel | None = None,
    email: Channel | None = None,
) -> Container:
    settings = settings or Settings()
    infra = Infrastructure.from_settings(settings)
    clock = clock or SystemClock()
    tz = ZoneInfo(settings.timezone)
    contacts = Contacts(infra.db)
    messages = Messages(infra.db)
    sink = SmsSinkStore(infra.redis, settings.redis_prefix)  # the development sink, not the service's store
    terms = Terms(infra.db)
    sms = sms or sms_channel(settings, sink)
    email = email or email_channel(settings)
    limiter = SlidingLimiter(infra.redis, settings.redis_prefix)
    notifier = Notifier(messages, contacts, clock, settings)
    signer = StepUpSigner(load_or_create_keypair(settings.keys_dir, STEP_UP_KEY_NAME).private_pem)
    finisher = OutcomeFinisher(messages, OutcomeRecords(infra.db))
    delivery = DeliveryService(messages, {"sms": sms, "email": email}, limiter, clock, settings, finisher)
    return Container(
        settings=settings,
        infra=infra,
        verifier=verifier_from_settings(settings),
        clock=clock,
        contacts=contacts,
        messages=messages,
        sink=sink,
        terms=terms,
        sms=sms,
        email=email,
        notifier=notifier,
        delivery=delivery,
        reminders=Reminders(terms, contacts, messages, notifier, clock, tz),
        verifications=VerificationService(
            Verifications(infra.db), contacts, messages, notifier, delivery, limiter, signer, clock, settings
        ),
        contacts_service=ContactService(contacts),
        delivery_log=DeliveryLog(messages, contacts, sink, clock, tz),
    )


def create_worker(container: Container | None = None) -> Worker:
    """The worker: outbox relay, delivery and reminder jobs, and the queue consumer (in batches of
    ``CONSUMER_BATCH_SIZE``, or the kit's one-message-at-a-time subscriber when it is 0; both apply the
    same keyed effects)."""
    container = container or build()
    settings = container.settings
    configure_logging("notify-worker", settings.log_level, settings.log_json)
    container.notifier.handover = container.delivery.handover
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.contacts, container.terms, container.notifier)
    batched = settings.consumer_batch_size > 0

    async def startup() -> None:
        await mongo.ensure_indexes(container.infra.db)

    worker = Worker(
        container.infra,
        EventDispatcher() if batched else dispatcher,
        title="jijiao notify worker",
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(notify_events),
        jobs=[
            PeriodicJob("notify.deliver", settings.delivery_interval_seconds, container.delivery.drain),
            PeriodicJob(
                "notify.selection_reminders", settings.reminder_interval_seconds, container.reminders.selection_windows
            ),
        ],
        on_startup=[startup, container.delivery.start_sending],
        on_shutdown=[container.delivery.stop_sending, container.delivery.release_handed],
    )
    container.delivery.finisher.publisher = EventPublisher(worker.broker, settings.topology)
    if batched:
        facts = EventDispatcher()
        register_fact_handlers(facts, container.contacts, container.terms)
        batches = NoticeBatches(
            facts, worker.inbox, BatchInbox(container.infra.db), container.notifier, contacts=container.contacts
        )
        attach_batch_consumer(
            worker,
            batches,
            routing_keys=batches.routing_keys(),
            batch_size=settings.consumer_batch_size,
            linger_seconds=settings.consumer_linger_seconds,
        )
        worker.dispatcher = dispatcher  # what the service consumes, whichever consumer runs
    return worker
