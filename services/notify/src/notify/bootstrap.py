"""Composition root of notify: builds the container (``entrypoints/api/app.py`` builds the HTTP app
from it)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from faststream.rabbit import RabbitBroker

from jijiao_kit.auth import TokenVerifier, load_or_create_keypair, verifier_from_settings
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.liveness import Liveness
from jijiao_kit.messaging import EventPublisher
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.stepup import STEP_UP_KEY_NAME, StepUpSigner
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
from notify.service_layer.contacts import ContactService
from notify.service_layer.delivery import DeliveryService
from notify.service_layer.delivery_log import DeliveryLog
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
    broker: RabbitBroker | None = None  # the worker's
    #: The worker's claim-holder heartbeat: its notice claims name it (``jijiao_kit.liveness``).
    liveness: Liveness | None = None


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
    broker: RabbitBroker | None = None,
) -> Container:
    """``broker``: the worker process's broker connection (``jijiao_kit.worker.worker_broker``). Given, the
    container is the worker's: finished notices publish their events through it at once, notices due
    now are handed straight from the consumer to delivery, and its claims name the worker's heartbeat
    (a dead worker's claims are taken over at once); without it (the API) both wait for the scan."""
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
    signer = StepUpSigner(load_or_create_keypair(settings.keys_dir, STEP_UP_KEY_NAME).private_pem)
    publisher = EventPublisher(broker, settings.topology) if broker is not None else None
    liveness = Liveness.for_worker(infra) if broker is not None else None
    finisher = OutcomeFinisher(messages, OutcomeRecords(infra.db), publisher, liveness=liveness)
    delivery = DeliveryService(
        messages, {"sms": sms, "email": email}, limiter, clock, settings, finisher, liveness=liveness
    )
    notifier = Notifier(
        messages,
        contacts,
        clock,
        settings,
        handover=delivery.handover if broker is not None else None,
        holder=liveness.holder if liveness is not None else None,
        holding=delivery.holding if broker is not None else None,
    )
    return Container(
        settings=settings,
        infra=infra,
        broker=broker,
        liveness=liveness,
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
