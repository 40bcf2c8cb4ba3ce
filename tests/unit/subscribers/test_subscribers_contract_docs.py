"""Every service serves the event contract: /asyncapi.json, /schemas, /schemas/{type}.json."""

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from crm_shared.http.contract_docs import contract_docs_router
from crm_shared.http.problems import install_problem_handlers

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[3] / "docs"


def client() -> httpx.AsyncClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(contract_docs_router())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


async def test_serves_the_committed_asyncapi_document() -> None:
    async with client() as http:
        response = await http.get("/asyncapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.text == (DOCS / "asyncapi.json").read_text()


async def test_serves_each_committed_schema_and_an_index() -> None:
    async with client() as http:
        index = (await http.get("/schemas")).json()
        assert set(index) == {p.stem for p in (DOCS / "schemas").glob("warmyang.*.json")}
        for name, path in index.items():
            response = await http.get(path)
            assert response.status_code == 200
            assert response.text == (DOCS / "schemas" / f"{name}.json").read_text()


async def test_an_unknown_type_is_a_problem_404() -> None:
    async with client() as http:
        response = await http.get("/schemas/warmyang.nothing.here.v1.json")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "nothing.here" in json.loads(response.text)["detail"]
