"""Reflections during the stay (心得体会 / 学习感悟, item 8): rich text with images, at most 10,000
characters of text each, one or many, editable and deletable by their author; the centre marks
excellent ones (item 10).

The book prints what the centre marked: an edit clears the mark (the centre marks again) and a marked
reflection cannot be deleted. A reflection embeds only images its author uploaded. A trainee holds at
most 50 reflections and uploads at most 100 images (store-enforced counters, see ``ReflectionRepository``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from bson import Binary

from baseline.adapters.repositories import BatchRepository, ReflectionRepository
from baseline.adapters.rich_text import CheckedImage, check_image, image_ids, sanitise, text_of
from baseline.domain import programme as rules
from baseline.service_layer.access import can_see_trainee, require_centre
from baseline.service_layer.personnel import PersonnelService
from baseline.service_layer.problems import problem, refuse
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.timeutil import epoch_ms

Doc = dict[str, Any]
KINDS = {"reflection": "心得体会", "insight": "学习感悟"}
#: A slot taken this long ago whose reflection or image does not exist belonged to a request that died.
SLOT_GRACE_MS = 60_000


@dataclass(frozen=True)
class ReflectionText:
    kind: str
    title: str
    body_html: str


class ReflectionService:
    def __init__(
        self,
        personnel: PersonnelService,
        batches: BatchRepository,
        reflections: ReflectionRepository,
        clock: Clock,
    ) -> None:
        self.personnel = personnel
        self.batches = batches
        self.reflections = reflections
        self.clock = clock

    async def _clean(self, trainee_id: str, text: ReflectionText) -> tuple[str, str]:
        """Sanitised HTML and its text; images of other trainees lose their ``src``."""
        body = sanitise(text.body_html)
        embedded = image_ids(body)
        if embedded:
            own = await self.reflections.own_images(trainee_id, embedded)
            if own != embedded:
                body = sanitise(body, images=own)
        plain = text_of(body)
        refuse(rules.reflection_refusal(len(plain)))
        return body, plain

    async def _take(self, kind: str, trainee_id: str, item_id: str, cap: int, refusal: str) -> None:
        now_ms = epoch_ms(self.clock.now())
        if not await self.reflections.take(kind, trainee_id, item_id, cap=cap, now_ms=now_ms, grace_ms=SLOT_GRACE_MS):
            raise problem(refusal, limit=cap)

    async def write(self, principal: Principal, text: ReflectionText) -> Doc:
        ref, batch, trainee = await self.personnel.me(principal)
        if self.personnel.today() < date.fromisoformat(batch["starts_on"]):
            raise problem("stay_not_started")
        body, plain = await self._clean(ref.trainee_id, text)
        now = self.clock.now()
        reflection_id = uuid.uuid4().hex[:12]
        await self._take(
            "reflections", ref.trainee_id, reflection_id, rules.REFLECTIONS_PER_TRAINEE, "reflection_limit"
        )
        reflection = {
            "_id": reflection_id,
            "trainee_id": ref.trainee_id,
            "trainee_name": trainee["name"],
            "batch_id": ref.batch_id,
            "zone_id": ref.zone_id,
            "year": batch["year"],
            "base_name": batch["base_name"],
            "stage": batch["stage"],
            "kind": text.kind,
            "title": text.title,
            "body_html": body,
            "text_chars": len(plain),
            "excellent": False,
            "created_ms": epoch_ms(now),
            "updated_ms": epoch_ms(now),
        }
        try:
            await self.reflections.add(reflection)
        except Exception:
            await self.reflections.give_back("reflections", ref.trainee_id, reflection_id)
            raise
        return reflection

    async def edit(self, principal: Principal, reflection_id: str, text: ReflectionText) -> Doc:
        """The author's edit; a reflection marked excellent loses the mark (the centre marks again)."""
        ref, _, _ = await self.personnel.me(principal)
        body, plain = await self._clean(ref.trainee_id, text)
        fields = {
            "kind": text.kind,
            "title": text.title,
            "body_html": body,
            "text_chars": len(plain),
            "updated_ms": epoch_ms(self.clock.now()),
        }
        if not await self.reflections.update_own(reflection_id, ref.trainee_id, fields):
            raise problem("reflection_not_found")
        doc = await self.reflections.get(reflection_id)
        assert doc is not None
        return doc

    async def delete(self, principal: Principal, reflection_id: str) -> None:
        """The author's delete, refused (409) while the centre has it marked excellent; frees its place."""
        ref, _, _ = await self.personnel.me(principal)
        if await self.reflections.delete_own(reflection_id, ref.trainee_id):
            await self.reflections.give_back("reflections", ref.trainee_id, reflection_id)
            return
        doc = await self.reflections.get(reflection_id)
        if doc is not None and doc["trainee_id"] == ref.trainee_id and doc.get("excellent"):
            raise problem("reflection_excellent")
        raise problem("reflection_not_found")

    async def mine(self, principal: Principal) -> list[Doc]:
        ref, _, _ = await self.personnel.me(principal)
        return await self.reflections.of_trainee(ref.trainee_id)

    async def of_zone(self, principal: Principal, batch_id: str, zone_id: str) -> list[Doc]:
        await self.personnel.roster(principal, batch_id, zone_id)  # 404 outside the caller's scope
        return await self.reflections.find({"batch_id": batch_id, "zone_id": zone_id})

    async def mark_excellent(self, principal: Principal, reflection_id: str, excellent: bool) -> Doc:
        require_centre(principal)
        if not await self.reflections.mark_excellent(reflection_id, excellent):
            raise problem("reflection_not_found")
        doc = await self.reflections.get(reflection_id)
        assert doc is not None
        return doc

    async def upload_image(self, principal: Principal, data: bytes) -> Doc:
        ref, _, _ = await self.personnel.me(principal)
        checked = check_image(data)
        if not isinstance(checked, CheckedImage):
            raise problem(checked)
        image_id = uuid.uuid4().hex
        await self._take("images", ref.trainee_id, image_id, rules.IMAGES_PER_TRAINEE, "image_limit")
        image = {
            "_id": image_id,
            "trainee_id": ref.trainee_id,
            "zone_id": ref.zone_id,
            "content_type": checked.content_type,
            "width": checked.width,
            "height": checked.height,
            "size": len(data),
            "data": Binary(data),
            "created_ms": epoch_ms(self.clock.now()),
        }
        try:
            await self.reflections.add_image(image)
        except Exception:
            await self.reflections.give_back("images", ref.trainee_id, image_id)
            raise
        return image

    async def image(self, principal: Principal, image_id: str) -> Doc:
        image = await self.reflections.get_image(image_id)
        if image is None or not can_see_trainee(principal, trainee_id=image["trainee_id"], zone_id=image["zone_id"]):
            raise problem("image_not_found")
        return image
