"""The recipient's own choices: opt-out per channel for non-essential notices."""

from __future__ import annotations

from typing import Any

from jijiao_kit.auth import Principal
from jijiao_kit.errors import NotFound
from jijiao_kit.timeutil import as_utc
from notify.adapters.repositories import Contacts

CHANNELS = ("sms", "email")


def _last_stamp(contact: dict[str, Any]) -> int | None:
    """The newest event a contact reflects: ``as_of_ms`` and the stamps of its parts
    (``<part>_as_of_ms``; a teacher's contact has only part stamps)."""
    stamps = [value for key, value in contact.items() if key.endswith("as_of_ms") and isinstance(value, int | float)]
    return int(max(stamps)) if stamps else None


class ContactService:
    def __init__(self, contacts: Contacts) -> None:
        self.contacts = contacts

    async def _own(self, principal: Principal) -> dict[str, Any]:
        contact = await self.contacts.get(principal.subject)
        if contact is None or not contact.get("kind"):
            raise NotFound("No contact for this account.", code="contact_not_found", title="通讯录中没有您的联系方式")
        return contact

    @staticmethod
    def view(contact: dict[str, Any]) -> dict[str, Any]:
        opt_out = contact.get("opt_out") or {}
        return {
            "subject": contact["_id"],
            "name": contact.get("name"),
            "mobile": contact.get("mobile"),
            "email": contact.get("email"),
            "opt_out": {channel: bool(opt_out.get(channel, False)) for channel in CHANNELS},
            "updated_at": as_utc(_last_stamp(contact)),
        }

    async def mine(self, principal: Principal) -> dict[str, Any]:
        return self.view(await self._own(principal))

    async def set_opt_out(self, principal: Principal, changes: dict[str, bool]) -> dict[str, Any]:
        await self._own(principal)
        if changes:
            await self.contacts.set_fields(principal.subject, {f"opt_out.{k}": v for k, v in changes.items()})
        return await self.mine(principal)
