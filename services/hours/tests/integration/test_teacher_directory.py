"""Hours' teacher directory (the kit's, for school and district scope): the same roster events in any
order give the same directory, one at a time through the handlers and in batches alike."""

from __future__ import annotations

from hours.bootstrap import Container
from hours.service_layer.batch import BatchHandlers
from hours.service_layer.crediting import BatchCrediting
from hours.service_layer.handlers import register_handlers
from hours.service_layer.points import BatchAwards
from jijiao_contracts import Envelope
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_stack.teacher_events import CE_NUMBER, EXPECTED_TEACHER, same_in_every_order

KEPT = ("name", "school_id", "school_name", "district", "active", "status")


async def test_the_same_events_in_any_order_give_the_same_directory(container: Container) -> None:
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.teachers, container.bank, container.points, container.declarations)
    batches = BatchHandlers(container.teachers, BatchCrediting(container.bank), BatchAwards(container.points))

    async def one_by_one(n: int, order: list[Envelope]) -> None:
        inbox = Inbox(container.infra.db, f"inbox_order_{n}")  # every order is a first delivery
        for envelope in order:  # roster events are applied by the batch path only; one by one = batches of one
            await batches.handle([envelope], dispatcher, inbox)

    async def in_two_batches(n: int, order: list[Envelope]) -> None:
        inbox = Inbox(container.infra.db, f"inbox_batch_{n}")
        await batches.handle(order[:2], dispatcher, inbox)
        await batches.handle(order[2:] + order[:1], dispatcher, inbox)  # and one redelivered late

    async def reset() -> None:
        await container.teachers.collection.delete_many({"_id": CE_NUMBER})

    async def read() -> dict[str, object] | None:
        return await container.teachers.get(CE_NUMBER)

    single = await same_in_every_order(one_by_one, read, reset)
    batched = await same_in_every_order(in_two_batches, read, reset)
    assert batched == single
    assert {name: single.get(name) for name in KEPT} == {name: EXPECTED_TEACHER[name] for name in KEPT}
    assert not {"mobile", "email", "subject"} & set(single)  # hours keeps what scope and names need
