"""Who holds a claim, and whether that holder still lives (issue 16: recovery after a consumer SIGKILL).

A claim (an inbox claim, notify's claim of a notice it sends) is a lease: if its holder dies, a
redelivery or a scan takes it over once the lease has run out. A lease long enough for a slow SMS
gateway call (notify: 60 s) made a SIGKILLed worker's claims wait that long. So each claim also names
its *holder*, a per-process worker id, and each worker renews a heartbeat: a Redis key
``<prefix>alive:<holder>`` with a short TTL (``liveness_ttl_seconds``, renewed every
``liveness_beat_seconds``). The takeover rule:

- a claim whose lease has run out may be taken (as before);
- a claim whose holder's heartbeat is gone may be taken at once: its holder is dead (SIGKILL, OOM,
  a lost node), so nothing is still working on it;
- a claim of a live holder keeps its full lease, however slow its work (never sent twice);
- except one the holder itself no longer has in hand (``take``/``let_go``: a claim write applied whose
  answer was lost with the store, a release that failed): the holder takes it back at once.

Taking over is a compare-and-set on what was read (the holder and the lease), so of two takers racing
for one dead holder's claim exactly one wins. When Redis cannot be asked, every holder counts as alive:
claims fall back to their lease, never to a takeover. The heartbeat key is not deleted on a clean stop
(a shutdown that overran its deadline may still be finishing a send): it runs out by its TTL.

A holder that cannot renew its own heartbeat (Redis away, its event loop stalled) must not start an
effect that cannot be repeated: ``stale()`` says whether its key may have run out; notify checks it
before sending."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterable

from redis.asyncio import Redis

from jijiao_kit.runtime import Infrastructure

logger = logging.getLogger(__name__)


def new_holder_id(service: str) -> str:
    """A worker id unique to this process: service, host, pid and a random part (pids are reused)."""
    return f"{service}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Liveness:
    """This process's heartbeat (``holder``) and the liveness of other holders."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        holder: str,
        *,
        ttl_seconds: float = 8.0,
        beat_seconds: float = 2.0,
    ) -> None:
        if beat_seconds <= 0 or ttl_seconds <= 2 * beat_seconds:
            raise ValueError("the heartbeat TTL must cover more than two beats")
        self.redis = redis
        self.prefix = prefix
        self.holder = holder
        self.ttl_seconds = ttl_seconds
        self.beat_seconds = beat_seconds
        self._beating = False  # a beat was tried: from then on a failing renewal makes this holder stale
        self._last_beat = 0.0  # monotonic time at which the last successful beat was sent
        self._in_hand: Counter[str] = Counter()

    def take(self, claim: str) -> None:
        """Mark a claim (a key of the caller's choosing) as in this process's hands: taken or being
        taken. A claim naming this holder that is not in hand was lost track of (a write applied whose
        answer was lost with the store, a release that failed) and may be taken over at once."""
        self._in_hand[claim] += 1

    def let_go(self, claim: str) -> None:
        if self._in_hand[claim] <= 1:
            del self._in_hand[claim]
        else:
            self._in_hand[claim] -= 1

    def holds(self, claim: str) -> bool:
        return self._in_hand[claim] > 0

    @classmethod
    def for_worker(cls, infra: Infrastructure) -> Liveness:
        """The heartbeat of a worker process of ``infra``'s service (its settings' TTL and beat)."""
        settings = infra.settings
        return cls(
            infra.redis,
            settings.redis_prefix,
            new_holder_id(settings.service_name),
            ttl_seconds=settings.liveness_ttl_seconds,
            beat_seconds=settings.liveness_beat_seconds,
        )

    def key(self, holder: str) -> str:
        return f"{self.prefix}alive:{holder}"

    async def beat(self) -> bool:
        """Renew this process's heartbeat; False (logged) when Redis did not take it."""
        sent = time.monotonic()
        self._beating = True
        try:
            await self.redis.set(self.key(self.holder), "1", px=int(self.ttl_seconds * 1000))
        except Exception as exc:
            logger.warning("liveness heartbeat of %s not renewed: %s", self.holder, exc)
            return False
        self._last_beat = sent
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Beat every ``beat_seconds`` until ``stop`` is set."""
        while not stop.is_set():
            await self.beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.beat_seconds)

    def stale(self) -> bool:
        """Whether this process's heartbeat key may have run out (or will within a beat): it has beaten
        and its last successful renewal is older than the TTL less one beat. A holder whose heartbeat
        never started (a test driving a service directly) is not stale."""
        return self._beating and time.monotonic() - self._last_beat >= self.ttl_seconds - self.beat_seconds

    async def dead(self, holders: Iterable[str | None]) -> set[str]:
        """Those of ``holders`` whose heartbeat is gone. Never this process; empty when Redis cannot
        be asked (then every claim waits for its lease)."""
        others = sorted({holder for holder in holders if holder and holder != self.holder})
        if not others:
            return set()
        try:
            values = await self.redis.mget([self.key(holder) for holder in others])
        except Exception as exc:
            logger.warning(
                "liveness of %d claim holders unknown (%s); their claims wait for their lease", len(others), exc
            )
            return set()
        return {holder for holder, value in zip(others, values, strict=True) if value is None}
