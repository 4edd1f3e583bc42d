"""Teachers' research logs (研修日志, the term report's generated content beside resources and topics).

A teacher writes a log (a title and rich text, sanitised with the service's one cleaner), optionally in a
workshop they take part in; they edit and delete their own. Everyone in the community lists and reads the
visible ones; the centre, or the host of the log's workshop, hides one that breaks the rules (hidden logs
are not listed; the author and the centre still open them). A log earns no points: the annex
(网络研修积分兑换学时规则) has no rule for logs, so nothing goes to the hours bank."""

from __future__ import annotations

import uuid
from typing import Any

from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.community_files import clean_html
from studio.adapters.research_logs import ResearchLogRepository
from studio.service_layer.community import CommunityService, is_centre, problem, teacher_ce

Doc = dict[str, Any]


def _id() -> str:
    return uuid.uuid4().hex[:12]


class ResearchLogService:
    def __init__(self, logs: ResearchLogRepository, community: CommunityService, clock: Clock) -> None:
        self.logs = logs
        self.community = community
        self.clock = clock

    def _now(self) -> int:
        return epoch_ms(self.clock.now())

    async def write(self, principal: Principal, title: str, body: str, workshop_id: str | None = None) -> Doc:
        ce = teacher_ce(principal)
        await self.community._workshop_of_participant(principal, workshop_id)
        now = self._now()
        doc: Doc = {
            "_id": _id(),
            "title": title,
            "body": clean_html(body),
            "author_ce_number": ce,
            "workshop_id": workshop_id,
            "hidden": False,
            "created_ms": now,
            "updated_ms": now,
        }
        await self.logs.add(doc)
        return doc

    async def _load(self, principal: Principal, log_id: str) -> Doc:
        doc = await self.logs.get(log_id)
        if doc is None or not self.community._sees(principal, doc):
            raise problem("log_not_found", f"Research log {log_id} not found.")
        return doc

    async def get(self, principal: Principal, log_id: str) -> Doc:
        return await self._load(principal, log_id)

    async def listing(
        self, principal: Principal, workshop_id: str | None = None, author: str | None = None
    ) -> list[Doc]:
        """The visible logs, newest first, of a workshop and / or an author when named."""
        if not is_centre(principal):
            teacher_ce(principal)
        query: Doc = {"hidden": False}
        if workshop_id:
            query["workshop_id"] = workshop_id
        if author:
            query["author_ce_number"] = author
        return await self.logs.listing(query)

    async def edit(self, principal: Principal, log_id: str, title: str | None, body: str | None) -> Doc:
        """The author changes their log's title and / or text (a hidden one stays hidden)."""
        ce = teacher_ce(principal)
        doc = await self._load(principal, log_id)
        if doc["author_ce_number"] != ce:
            raise problem("not_log_author", "Only its author edits a research log.")
        fields: Doc = {"updated_ms": self._now()}
        if title is not None:
            fields["title"] = title
        if body is not None:
            fields["body"] = clean_html(body)
        if not await self.logs.edit(log_id, ce, fields):
            raise problem("log_not_found", f"Research log {log_id} not found.")
        return {**doc, **fields}

    async def delete(self, principal: Principal, log_id: str) -> None:
        ce = teacher_ce(principal)
        doc = await self._load(principal, log_id)
        if doc["author_ce_number"] != ce:
            raise problem("not_log_author", "Only its author deletes a research log.")
        if not await self.logs.delete(log_id, ce):
            raise problem("log_not_found", f"Research log {log_id} not found.")

    async def hide(self, principal: Principal, log_id: str, hidden: bool) -> Doc:
        """Moderation, as for topics: the centre, or the host of the log's workshop (also to show again
        one they hid)."""
        doc = await self.logs.get(log_id)
        may = doc is not None and await self.community._may_moderate(principal, doc.get("workshop_id"))
        if doc is None or not (may or self.community._sees(principal, doc)):
            raise problem("log_not_found", f"Research log {log_id} not found.")
        if not may:
            raise problem("not_moderator", "Only the centre or the workshop's host hides content.")
        if not await self.logs.set_hidden(log_id, hidden):
            raise problem("log_not_found", f"Research log {log_id} not found.")
        return {**doc, "hidden": hidden}
