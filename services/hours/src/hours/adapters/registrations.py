"""Registration claims (one per registrant and reference, unique by ``_id``) and sealed proof files."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hours.adapters.mongo import PROOFS, REGISTRATIONS

Doc = dict[str, Any]


class RegistrationRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.claims = db[REGISTRATIONS]
        self.proofs = db[PROOFS]

    async def claim(self, claim: Doc) -> Doc | None:
        """Store the claim; if its id was claimed before, return that earlier claim instead."""
        try:
            await self.claims.insert_one(claim)
        except DuplicateKeyError:
            return await self.claims.find_one({"_id": claim["_id"]}) or {}
        return None

    async def proof(self, proof_id: str) -> Doc | None:
        return await self.proofs.find_one({"_id": proof_id})

    async def add_proof(self, doc: Doc) -> None:
        await self.proofs.insert_one(doc)
