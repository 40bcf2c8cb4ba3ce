"""Oversized requests are refused before the app reads them (413, 431 as problem+json)."""

import httpx
import pytest
from fastapi import FastAPI, Request

from crm_shared.http.limits import RequestLimits

pytestmark = pytest.mark.unit


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestLimits, max_body=1000, max_headers=2000)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    return app


async def _post(**kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/echo", **kwargs)  # type: ignore[arg-type]


async def test_a_body_within_the_limit_passes() -> None:
    response = await _post(content=b"x" * 1000)
    assert response.json() == {"received": 1000}


async def test_a_declared_oversized_body_gets_413() -> None:
    response = await _post(content=b"x" * 1001)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "at most 1000 bytes" in response.json()["detail"]


async def test_a_streamed_body_without_length_is_cut_at_the_limit() -> None:
    async def chunks():
        for _ in range(5):
            yield b"x" * 400

    response = await _post(content=chunks())
    assert response.status_code == 413


async def test_oversized_headers_get_431() -> None:
    response = await _post(content=b"{}", headers={"x-filler": "y" * 2100})
    assert response.status_code == 431
    assert response.json()["title"] == "Request Header Fields Too Large"
