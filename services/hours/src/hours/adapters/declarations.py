"""Declarations (学时申报) in the store: one document per declaration with its rounds, reviews and
attachments; every review is a compare-and-set on ``status`` and ``version`` with its event."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hours.adapters.mongo import DECLARATIONS
from jijiao_kit.outbox import outbox_update, with_outbox

Doc = dict[str, Any]
WITHOUT_OUTBOX = {"outbox": 0, "outbox_pending": 0}


class DeclarationRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[DECLARATIONS]

    async def add(self, doc: Doc) -> None:
        await self.collection.insert_one(with_outbox(doc, []))

    async def get(self, declaration_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": declaration_id}, WITHOUT_OUTBOX)

    async def resubmit(self, declaration_id: str, version: int, fields: Doc, round_no: int, round_doc: Doc) -> bool:
        """A returned declaration (still at ``version``) becomes submitted again as round ``round_no``."""
        result = await self.collection.update_one(
            {"_id": declaration_id, "status": "returned", "version": version},
            {
                "$set": {**fields, "status": "submitted", "round": round_no, f"rounds.{round_no}": round_doc},
                "$inc": {"version": 1},
            },
        )
        return result.modified_count == 1

    async def review(
        self,
        declaration_id: str,
        *,
        expected: str,
        version: int,
        status: str,
        round_no: int,
        level: str,
        review: Doc,
        updated_at: str,
        events: Sequence[Doc],
    ) -> bool:
        """Record a review of round ``round_no`` while the declaration is still ``expected`` at ``version``."""
        update = outbox_update(
            {
                "$set": {"status": status, f"rounds.{round_no}.{level}": review, "updated_at": updated_at},
                "$inc": {"version": 1},
            },
            events,
        )
        result = await self.collection.update_one(
            {"_id": declaration_id, "status": expected, "version": version}, update
        )
        return result.modified_count == 1

    async def set_entry(self, declaration_id: str, entry_id: str) -> None:
        await self.collection.update_one({"_id": declaration_id}, {"$set": {"entry_id": entry_id}})

    async def search(
        self, equal: Mapping[str, Any], contains: Mapping[str, str], *, skip: int, limit: int
    ) -> list[Doc]:
        """A page of declarations whose fields equal ``equal`` and contain ``contains``, newest first."""
        query: Doc = dict(equal)
        query.update({field: {"$regex": re.escape(text)} for field, text in contains.items()})
        cursor = self.collection.find(query, WITHOUT_OUTBOX).sort("created_at", -1).skip(skip).limit(limit)
        return [doc async for doc in cursor]
