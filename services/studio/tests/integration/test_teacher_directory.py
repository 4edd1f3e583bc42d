"""The teacher directory follows every roster event of enrollment (registration, change, transfer,
archiving), and the same events in any order give the same directory (shared checks:
``jijiao_stack.teacher_events``)."""

from __future__ import annotations

from typing import Any

from jijiao_stack.teacher_events import directory_in_every_order, transfer_before_registration
from studio.bootstrap import build
from studio.service_layer.handlers import register_handlers
from studio.settings import Settings


async def test_the_same_events_in_any_order_give_the_same_directory(settings_env: dict[str, Any]) -> None:
    await directory_in_every_order(build(Settings(**settings_env)), register_handlers)


async def test_a_transfer_before_the_registration_is_not_yet_a_known_teacher(settings_env: dict[str, Any]) -> None:
    await transfer_before_registration(build(Settings(**settings_env)), register_handlers)
