"""Teachers' research logs (研修日志) in the store: one document each, edited and deleted by their author.

No points ride on a log (the annex's rules name none), so a log has no outbox; an author's edit and delete
are single-document writes filtered on the author (``_id`` plus ``author_ce_number``), so nobody else's
log is ever touched. Moderation hides (``hidden``), like resources and topics."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
LOGS = "research_logs"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[LOGS].create_index("created_ms", name="created")
    await db[LOGS].create_index("workshop_id", name="workshop")
    await db[LOGS].create_index("author_ce_number", name="author")


def _flags(doc: Doc | None) -> Doc | None:
    """``hidden`` written by ``$set`` may come back as 1 from the embedded store: read it as a boolean."""
    if doc is not None and "hidden" in doc:
        doc["hidden"] = bool(doc["hidden"])
    return doc


class ResearchLogRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[LOGS]

    async def add(self, doc: Doc) -> None:
        await self.collection.insert_one(doc)

    async def get(self, log_id: str) -> Doc | None:
        return _flags(await self.collection.find_one({"_id": log_id}))

    async def listing(self, query: Doc, limit: int = 200) -> list[Doc]:
        cursor = self.collection.find(query).sort("created_ms", -1).limit(limit)
        return [_flags(d) or d async for d in cursor]

    async def edit(self, log_id: str, author: str, fields: Doc) -> bool:
        """The author's change (title, text, when); False when it is not theirs or gone."""
        result = await self.collection.update_one({"_id": log_id, "author_ce_number": author}, {"$set": fields})
        return result.matched_count == 1

    async def delete(self, log_id: str, author: str) -> bool:
        result = await self.collection.delete_one({"_id": log_id, "author_ce_number": author})
        return result.deleted_count == 1

    async def set_hidden(self, log_id: str, hidden: bool) -> bool:
        result = await self.collection.update_one({"_id": log_id}, {"$set": {"hidden": hidden}})
        return result.matched_count == 1
