"""Exchange, queue and routing names of the bus (DESIGN.md rule 4).

A ``Topology`` takes a prefix so that test runs can be isolated on one broker; production uses the
default prefix ``jijiao``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Quorum-queue delivery limit: a message redelivered more often than this is dead-lettered to parking.
DELIVERY_LIMIT = 5

SERVICES = ("enrollment", "studio", "hours", "notify", "baseline")


@dataclass(frozen=True)
class Topology:
    prefix: str = "jijiao"

    @property
    def events_exchange(self) -> str:
        """The one durable topic exchange for integration events."""
        return f"{self.prefix}.events"

    @property
    def unrouted_exchange(self) -> str:
        """Alternate exchange: keeps events no service is bound to yet instead of returning them."""
        return f"{self.prefix}.unrouted"

    @property
    def unrouted_queue(self) -> str:
        """The last few minutes of events no service is bound to (a message TTL: for inspection only)."""
        return f"{self.prefix}.unrouted.recent"

    @property
    def legacy_unrouted_queue(self) -> str:
        """The unrouted queue before it had a TTL (kept everything up to a length cap); deleted at start,
        since a queue's arguments cannot change in place."""
        return f"{self.prefix}.unrouted"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.prefix}.dead-letter"

    def service_queue(self, service: str) -> str:
        """The quorum queue a consuming service reads all its events from."""
        return f"{self.prefix}.{service}"

    def parking_queue(self, service: str) -> str:
        """Where a service's poison messages end after the delivery limit."""
        return f"{self.prefix}.{service}.parking"
