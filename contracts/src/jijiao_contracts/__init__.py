"""Shared integration-event contracts: envelope, payloads, routing names, enums.

Only shapes and names live here; no domain logic, no storage documents.
"""

from jijiao_contracts.envelope import Actor, Envelope, IntegrationEvent, event_registry
from jijiao_contracts.routing import DELIVERY_LIMIT, Topology

__all__ = ["DELIVERY_LIMIT", "Actor", "Envelope", "IntegrationEvent", "Topology", "event_registry"]
