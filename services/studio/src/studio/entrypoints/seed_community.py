"""Demo data of the research community for ``make up``: an approved workshop hosted by a demo teacher,
with participants, a shared resource and a discussion topic with a reply. Idempotent (nothing is added
when the demo workshop exists). Teachers come from the studio's own directory (fed by enrollment's
events), so this waits a little for them. Run: ``python -m studio.entrypoints.seed_community``."""

from __future__ import annotations

import asyncio
import io
import logging

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from studio.adapters import mongo
from studio.bootstrap import Container, build
from studio.domain.community import PostKind
from studio.service_layer.community import NewWorkshop

logger = logging.getLogger("seed_community")

WORKSHOP = "天河区小学语文读写结合研修坊"
CENTRE = Principal(subject="seed:remote-centre", roles=frozenset({Role.REMOTE_CENTRE.value}))


def demo_pdf() -> bytes:
    """A one-page PDF (a real one: shared files are parsed before they are stored)."""
    out = io.BytesIO()
    page = Canvas(out, pagesize=A4, invariant=True)  # invariant: the same bytes every run
    page.setTitle("demo lesson design")
    page.drawString(72, 760, "Demo lesson design")
    page.save()
    return out.getvalue()


def teacher(ce: str) -> Principal:
    return Principal(subject=f"seed:{ce}", roles=frozenset({Role.TEACHER.value}), scopes={"ce_number": ce})


async def teachers(container: Container, wanted: int, wait_seconds: float) -> list[str]:
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        found = [
            d["_id"] async for d in container.directory.collection.find({}, {"_id": 1}).sort("_id", 1).limit(wanted)
        ]
        if len(found) >= wanted or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(1)


async def seed(container: Container, wait_seconds: float = 60) -> str | None:
    await mongo.ensure_indexes(container.infra.db)
    svc = container.community
    if await svc.workshops.listing({"name": WORKSHOP}, limit=1):
        return None
    ces = await teachers(container, 3, wait_seconds)
    if not ces:
        logger.warning("no teachers in the studio directory yet: community demo data not seeded")
        return None
    host, *others = ces
    description = "<p>围绕小学语文读写结合开展研讨、共享教学设计。</p>"
    workshop = await svc.apply_workshop(teacher(host), NewWorkshop(WORKSHOP, description, "语文", "小学"))
    wid = workshop["_id"]
    await svc.decide_workshop(CENTRE, wid, True, None)
    for ce in others:
        await svc.join(teacher(ce), wid)
    await svc.share(
        teacher(host),
        title="《秋天的雨》读写结合教学设计",
        description="<p>含课堂练笔设计。</p>",
        filename="lesson-design.pdf",
        data=demo_pdf(),
        workshop_id=wid,
    )
    topic = await svc.create_topic(teacher(host), "低年级如何落实读写结合？", "<p>欢迎分享课例与做法。</p>", wid)
    for ce in others:
        await svc.post(teacher(ce), topic["_id"], PostKind.REPLY, "<p>先从仿写句子开始。</p>")
    return str(wid)


async def main() -> None:
    logging.basicConfig(level=logging.INFO)
    container = build()
    try:
        wid = await seed(container)
        logger.info("community demo workshop: %s", wid or "present already or no teachers")
    finally:
        await container.infra.close()


if __name__ == "__main__":
    asyncio.run(main())
