"""Which deliveries one ``multiple`` ack may settle (pure bookkeeping of delivery tags)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from aio_pika.abc import AbstractIncomingMessage

from jijiao_kit.batching import _SettledTags


@dataclass
class Delivery:
    delivery_tag: int | None
    channel: object


def deliveries(channel: object, *tags: int) -> list[AbstractIncomingMessage]:
    return [cast(Any, Delivery(tag, channel)) for tag in tags]


def test_a_contiguous_batch_from_the_first_unsettled_tag_is_covered() -> None:
    settled, channel = _SettledTags(), object()
    assert settled.covers(deliveries(channel, 1, 2, 3))
    for message in deliveries(channel, 1, 2, 3):
        settled.add(message)
    assert settled.floor == 4
    assert settled.covers(deliveries(channel, 5, 4, 6))  # order inside the batch does not matter


def test_a_gap_of_an_unsettled_delivery_is_not_covered() -> None:
    settled, channel = _SettledTags(), object()
    assert not settled.covers(deliveries(channel, 1, 3))  # 2 is still out there (next batch, in flight)
    for message in deliveries(channel, 1, 3):  # acked one by one instead
        settled.add(message)
    assert settled.floor == 2 and settled.above == {3}
    assert settled.covers(deliveries(channel, 2, 4))  # 3 is settled: the range 2..4 is all accounted for


def test_rejected_deliveries_count_as_settled() -> None:
    settled, channel = _SettledTags(), object()
    settled.add(deliveries(channel, 1)[0])  # rejected before the batch was handled
    assert settled.covers(deliveries(channel, 2, 3))


def test_a_new_channel_starts_the_record_again() -> None:
    settled, old, new = _SettledTags(), object(), object()
    for message in deliveries(old, 1, 2, 3, 4):
        settled.add(message)
    assert not settled.covers(deliveries(new, 2, 3))  # tag 1 of the new channel is not settled
    assert settled.covers(deliveries(new, 1, 2))


def test_mixed_channels_or_missing_tags_are_never_covered() -> None:
    settled = _SettledTags()
    assert not settled.covers(deliveries(object(), 1) + deliveries(object(), 2))
    assert not settled.covers(cast(Any, [Delivery(None, object())]))
