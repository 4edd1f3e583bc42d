"""jijiao_kit.guard through the kit's app factory: bodies over their limit are a 413 before they are
read (declared or streamed), routes may declare their own limit, and every answer carries the security
headers (no-store when the request carried credentials)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import APIRouter, Request, UploadFile
from pydantic import BaseModel

from jijiao_kit.guard import JSON_LIMIT, STRICT_CSP, body_limit
from jijiao_kit.http import create_app

router = APIRouter()
seen: list[int] = []


class Login(BaseModel):
    login: str
    password: str


@router.post("/login")
async def login(body: Login) -> dict[str, Any]:
    seen.append(len(body.password))
    return {"ok": True}


@router.post("/raw", openapi_extra=body_limit(100))
async def raw(request: Request) -> dict[str, Any]:
    return {"size": len(await request.body())}


@router.post("/upload")
async def upload(file: UploadFile) -> dict[str, Any]:
    return {"size": len(await file.read())}


def client() -> httpx.AsyncClient:
    app = create_app(title="t", description="t", routers=[router], readiness=lambda _app: {})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    seen.clear()
    body = b'{"login": "x", "password": "' + b"a" * (5 * JSON_LIMIT) + b'"}'
    async with client() as http:
        response = await http.post("/login", content=body, headers={"Content-Type": "application/json"})
        small = await http.post("/login", json={"login": "x", "password": "secret"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large" and response.json()["max_bytes"] == JSON_LIMIT
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert small.status_code == 200 and seen == [6]


async def test_a_streamed_body_is_counted_and_cut_off() -> None:
    seen.clear()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"login": "x", "password": "'
        for _ in range(40):
            yield b"a" * 64 * 1024  # 2.5 MB in all, no Content-Length
        yield b'"}'

    async with client() as http:
        response = await http.post("/login", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert seen == []


async def test_a_route_declares_its_own_limit_and_uploads_get_more() -> None:
    async with client() as http:
        fits = await http.post("/raw", content=b"x" * 100)
        over = await http.post("/raw", content=b"x" * 101)
        file = await http.post("/upload", files={"file": ("a.pdf", b"x" * (2 * JSON_LIMIT), "application/pdf")})
        document = (await http.get("/openapi.json")).json()
    assert fits.status_code == 200 and over.status_code == 413
    assert file.status_code == 200 and file.json()["size"] == 2 * JSON_LIMIT
    assert document["paths"]["/raw"]["post"]["x-body-limit"] == 100


async def test_security_headers_on_every_answer() -> None:
    async with client() as http:
        anonymous = await http.get("/healthz")
        signed_in = await http.get("/healthz", headers={"Authorization": "Bearer x"})
        missing = await http.get("/nowhere", headers={"Authorization": "Bearer x"})
        docs = await http.get("/docs")
    for response in (anonymous, signed_in, missing):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Content-Security-Policy"] == STRICT_CSP
    assert "Cache-Control" not in anonymous.headers
    assert signed_in.headers["Cache-Control"] == "no-store" and missing.headers["Cache-Control"] == "no-store"
    assert docs.status_code == 200 and "Content-Security-Policy" not in docs.headers
