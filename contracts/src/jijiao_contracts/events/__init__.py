"""Event payloads, one module per producing service. Importing this package registers them all."""

from jijiao_contracts.events import baseline, enrollment, hours, notify, studio

__all__ = ["baseline", "enrollment", "hours", "notify", "studio"]
