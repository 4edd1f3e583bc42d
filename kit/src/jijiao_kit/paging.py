"""Bounds of the paging parameters of list endpoints. An offset reaches the store as a 64-bit integer:
unbounded, ``?skip=10**20`` fails in the driver (``OverflowError``, a 500) instead of being refused as
bad input (DESIGN.md rule 8), so every ``skip`` and page number has a ceiling here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

#: Nobody pages past a million rows; a larger offset is a 422.
MAX_SKIP = 1_000_000
#: Page-numbered lists: page × size stays far inside 64 bits.
MAX_PAGE = 10_000

Skip = Annotated[int, Query(ge=0, le=MAX_SKIP, description="Rows to skip")]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")]
