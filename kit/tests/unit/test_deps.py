"""jijiao_kit.deps: one getter per container part, async, and each can be overridden in a test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI

from jijiao_kit.deps import container_getter, part
from jijiao_stack.pytest_plugin import api_client


@dataclass
class Greeter:
    word: str


@dataclass
class Container:
    greeter: Greeter
    calls: int = 0


get_container = container_getter(Container)
ContainerDep = Annotated[Container, Depends(get_container)]
get_greeter = part(get_container, lambda c: c.greeter)
GreeterDep = Annotated[Greeter, Depends(get_greeter)]


def counted(c: Container) -> int:
    c.calls += 1
    return c.calls


get_count = part(get_container, counted)
CountDep = Annotated[int, Depends(get_count)]


def app_with(container: Container) -> FastAPI:
    app = FastAPI()
    app.state.container = container

    @app.get("/hello")
    async def hello(
        greeter: GreeterDep, container: ContainerDep, count: CountDep, again: CountDep
    ) -> dict[str, object]:
        return {"word": greeter.word, "same": container.greeter is greeter, "count": count, "again": again}

    return app


async def test_parts_come_from_the_container_once_per_request() -> None:
    app = app_with(Container(Greeter("你好")))
    async with api_client(app) as client:
        first = (await client.get("/hello")).json()
        second = (await client.get("/hello")).json()
    assert first == {"word": "你好", "same": True, "count": 1, "again": 1}
    assert second["count"] == 2


async def test_a_part_and_the_container_can_be_overridden() -> None:
    app = app_with(Container(Greeter("你好")))
    app.dependency_overrides[get_greeter] = lambda: Greeter("override")
    async with api_client(app) as client:
        assert (await client.get("/hello")).json()["word"] == "override"
    app.dependency_overrides = {get_container: lambda: Container(Greeter("other container"))}
    async with api_client(app) as client:
        assert (await client.get("/hello")).json()["word"] == "other container"
