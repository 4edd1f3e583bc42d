"""Composition root of notify (API and worker)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from jijiao_contracts.events import notify as notify_events
from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.consuming import EventDispatcher
from jijiao_kit.logging import configure_logging
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.service import produced_events, service_api
from jijiao_kit.worker import Worker
from notify.adapters import mongo
from notify.adapters.repositories import Contacts, Messages
from notify.adapters.sms import DevSmsSink, SmsGateway
from notify.service_layer.delivery import Delivery
from notify.service_layer.handlers import register_handlers
from notify.settings import Settings


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    verifier: TokenVerifier
    clock: Clock
    contacts: Contacts
    messages: Messages
    sms: SmsGateway
    delivery: Delivery


def build(settings: Settings | None = None, *, clock: Clock | None = None, sms: SmsGateway | None = None) -> Container:
    settings = settings or Settings()
    infra = Infrastructure.from_settings(settings)
    clock = clock or SystemClock()
    messages = Messages(infra.db)
    sms = sms or DevSmsSink(infra.db)
    return Container(
        settings=settings,
        infra=infra,
        verifier=verifier_from_settings(settings),
        clock=clock,
        contacts=Contacts(infra.db),
        messages=messages,
        sms=sms,
        delivery=Delivery(messages, sms, clock, settings.sms_signature),
    )


def create_api(container: Container | None = None) -> FastAPI:
    from notify.entrypoints.api.routers import messages

    container = container or build()
    return service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao notify",
        description="Contact book, SMS and email delivery, verification codes, delivery log (通知服务).",
        routers=[messages.router],
        ensure_indexes=lambda: mongo.ensure_indexes(container.infra.db),
    )


def create_worker(container: Container | None = None) -> Worker:
    container = container or build()
    configure_logging("notify-worker", container.settings.log_level, container.settings.log_json)
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.contacts, container.delivery)

    async def startup() -> None:
        await mongo.ensure_indexes(container.infra.db)

    return Worker(
        container.infra,
        dispatcher,
        title="jijiao notify worker",
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(notify_events),
        on_startup=[startup],
    )
