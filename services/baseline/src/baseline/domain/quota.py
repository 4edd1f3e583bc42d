"""Yearly quota of a zone (实验区) at the research bases (DOMAIN §10)."""

from __future__ import annotations

from dataclasses import dataclass

BATCHES_PER_YEAR = 7
BATCH_SIZE = 5
REWARD_BATCHES = 2  # for the 1–2 best-organised zones, the next year


@dataclass(frozen=True)
class Quota:
    batches: int
    batch_size: int
    reward_batches: int

    @property
    def person_times(self) -> int:
        return (self.batches + self.reward_batches) * self.batch_size


def yearly_quota(*, rewarded_last_year: bool) -> Quota:
    """7 batches of ~5 people (35 person-times); a rewarded zone gets 2 batches (10 person-times) more."""
    return Quota(BATCHES_PER_YEAR, BATCH_SIZE, REWARD_BATCHES if rewarded_last_year else 0)
