"""Reflections with images, and the centre's choice of excellent ones (routes only translate)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from baseline.adapters.rich_text import MAX_IMAGE_BYTES
from baseline.entrypoints.api.deps import IdPath, ReflectionsDep
from baseline.entrypoints.api.routers.schemas import ExcellentIn, ImageOut, ReflectionIn, ReflectionOut
from baseline.service_layer.problems import problem
from baseline.service_layer.reflections import ReflectionText
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.guard import body_limit

router = APIRouter(prefix="/v1", tags=["reflections"])


def out(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "id": doc["_id"], "excellent": bool(doc.get("excellent"))}


def text(body: ReflectionIn) -> ReflectionText:
    return ReflectionText(body.kind, body.title, body.body_html)


@router.post("/me/reflections", status_code=status.HTTP_201_CREATED, response_model=ReflectionOut)
async def write(body: ReflectionIn, principal: CurrentPrincipal, reflections: ReflectionsDep) -> dict[str, Any]:
    return out(await reflections.write(principal, text(body)))


@router.get("/me/reflections", response_model=list[ReflectionOut])
async def mine(principal: CurrentPrincipal, reflections: ReflectionsDep) -> list[dict[str, Any]]:
    return [out(doc) for doc in await reflections.mine(principal)]


@router.put("/me/reflections/{reflection_id}", response_model=ReflectionOut)
async def edit(
    reflection_id: IdPath, body: ReflectionIn, principal: CurrentPrincipal, reflections: ReflectionsDep
) -> dict[str, Any]:
    return out(await reflections.edit(principal, reflection_id, text(body)))


@router.delete("/me/reflections/{reflection_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(reflection_id: IdPath, principal: CurrentPrincipal, reflections: ReflectionsDep) -> Response:
    await reflections.delete(principal, reflection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/batches/{batch_id}/zones/{zone_id}/reflections", response_model=list[ReflectionOut])
async def of_zone(
    batch_id: IdPath, zone_id: IdPath, principal: CurrentPrincipal, reflections: ReflectionsDep
) -> list[dict[str, Any]]:
    return [out(doc) for doc in await reflections.of_zone(principal, batch_id, zone_id)]


@router.post("/reflections/{reflection_id}/excellent", response_model=ReflectionOut)
async def mark_excellent(
    reflection_id: IdPath, body: ExcellentIn, principal: CurrentPrincipal, reflections: ReflectionsDep
) -> dict[str, Any]:
    return out(await reflections.mark_excellent(principal, reflection_id, body.excellent))


@router.post(
    "/me/reflection-images",
    status_code=status.HTTP_201_CREATED,
    response_model=ImageOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
        # the guard lets a little more than an image through, so an image just over it gets image_too_large
        **body_limit(MAX_IMAGE_BYTES + 64 * 1024),
    },
)
async def upload_image(request: Request, principal: CurrentPrincipal, reflections: ReflectionsDep) -> dict[str, Any]:
    """The image is the raw request body (JPEG or PNG, at most 2 MB); its type is read from its content."""
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_IMAGE_BYTES:
            raise problem("image_too_large")
    image = await reflections.upload_image(principal, bytes(data))
    return {**image, "id": image["_id"], "url": f"/v1/reflection-images/{image['_id']}"}


@router.get("/reflection-images/{image_id}", response_class=Response)
async def image(image_id: IdPath, principal: CurrentPrincipal, reflections: ReflectionsDep) -> Response:
    doc = await reflections.image(principal, image_id)
    return Response(
        bytes(doc["data"]),
        media_type=doc["content_type"],
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )
