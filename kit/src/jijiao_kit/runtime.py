"""Connections every process of a service holds, built from its settings without doing I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis

from jijiao_kit.health import Check, mongo_check, rabbitmq_check, redis_check
from jijiao_kit.mongo import create_client
from jijiao_kit.settings import ServiceSettings


@dataclass
class Infrastructure:
    settings: ServiceSettings
    mongo: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    redis: Redis

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Infrastructure:
        mongo = create_client(settings.mongodb_url, server_selection_ms=settings.mongodb_server_selection_ms)
        redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=3, decode_responses=True)
        return cls(settings=settings, mongo=mongo, db=mongo[settings.database_name], redis=redis)

    def readiness_checks(self) -> dict[str, Check]:
        return {
            "mongodb": mongo_check(self.mongo),
            "redis": redis_check(self.redis),
            "rabbitmq": rabbitmq_check(self.settings.rabbitmq_url),
        }

    async def close(self) -> None:
        await self.mongo.close()
        await self.redis.aclose()
