"""Composition root of the hours service (API and worker)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from hours.adapters import mongo
from hours.adapters.repositories import HoursAccounts
from hours.service_layer.handlers import register_handlers
from hours.service_layer.queries import HoursQueries
from hours.settings import Settings
from jijiao_contracts.events import hours as hours_events
from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.consuming import EventDispatcher
from jijiao_kit.logging import configure_logging
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.service import produced_events, service_api
from jijiao_kit.worker import Worker


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    verifier: TokenVerifier
    accounts: HoursAccounts
    queries: HoursQueries


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    infra = Infrastructure.from_settings(settings)
    accounts = HoursAccounts(infra.db)
    return Container(
        settings=settings,
        infra=infra,
        verifier=verifier_from_settings(settings),
        accounts=accounts,
        queries=HoursQueries(accounts),
    )


def create_api(container: Container | None = None) -> FastAPI:
    from hours.entrypoints.api.routers import hours

    container = container or build()
    return service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao hours",
        description="Hours bank (学时银行) and points bank (积分银行).",
        routers=[hours.router],
        ensure_indexes=lambda: mongo.ensure_indexes(container.infra.db),
    )


def create_worker(container: Container | None = None) -> Worker:
    container = container or build()
    configure_logging("hours-worker", container.settings.log_level, container.settings.log_json)
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.accounts)

    async def startup() -> None:
        await mongo.ensure_indexes(container.infra.db)

    return Worker(
        container.infra,
        dispatcher,
        title="jijiao hours worker",
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(hours_events),
        on_startup=[startup],
    )
