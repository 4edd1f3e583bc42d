"""The fast scenarios of the fault suite (``make faults``, issue 16) on real processes: a consumer killed
mid-burst, the outbox relay killed mid-burst, poison messages, SIGTERM to the notify worker mid-burst
(three times). Each compares the end state with the expected one exactly: nothing lost, nothing
duplicated, healed without help. The broker and store restarts run in ``make faults`` only (the broker
scenario needs a node of its own; the store one is slow)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from jijiao_stack.faults import FAST_SCENARIOS, Lab, run_scenario
from jijiao_stack.pytest_plugin import InfraUrls

pytestmark = pytest.mark.e2e

TEACHERS = 15
#: Every scenario recovers within 30 s of the fault's end. ``consumer_kill`` used to wait out the
#: killed notify worker's 60 s delivery leases; its claims now name its heartbeat, which runs out
#: within ``LIVENESS_TTL_SECONDS`` (8 s), after which the survivors take them over.
RECOVERY_BOUND = 30.0


@pytest.fixture(scope="module")
def lab(infra_urls: InfraUrls) -> Iterator[Lab]:
    lab = Lab(rabbitmq_url=infra_urls.rabbitmq_url, redis_url=infra_urls.redis_url)
    lab.start()
    yield lab
    lab.stop()


@pytest.mark.parametrize("scenario", FAST_SCENARIOS)
def test_fault_heals_with_nothing_lost_or_duplicated(lab: Lab, scenario: str) -> None:
    result = asyncio.run(run_scenario(lab, scenario, TEACHERS, settle_seconds=100))
    assert result.lost == 0, result.end_state
    assert result.duplicated == 0, result.end_state
    assert result.answers_500 == 0
    assert result.healed_by_itself, result.end_state
    assert result.recovery_seconds is not None and result.recovery_seconds <= RECOVERY_BOUND, result.details
    if scenario == "poison":
        parked = result.details["parked_in_seconds"]
        assert all(seconds is not None and seconds <= 5 for seconds in parked.values()), parked
    if scenario == "notify_sigterm":
        stops = result.details["stops"]
        assert len(stops) == 3
        for stop in stops:  # each exit within the deadline, nothing acked once consuming stopped
            assert (
                stop["exited_in_seconds"] is not None and stop["exited_in_seconds"] < result.details["deadline_seconds"]
            )
            assert stop["consumed_after_stop"] == 0, stops
    assert result.passed
