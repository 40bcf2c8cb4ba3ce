"""Serves the event contract: `/asyncapi.json`, `/schemas` and `/schemas/{type}.json`.

The documents are generated from the same code as the committed copies under
`docs/` (a unit test fails when those are stale), so a service serves exactly the
committed contract without needing the repository's files at run time.
"""

import json
from functools import cache

from fastapi import APIRouter, Response

from crm_shared.contracts.asyncapi import render_asyncapi
from crm_shared.contracts.schemas import expected_files
from crm_shared.http.problems import ProblemError

JSON = "application/json"
SCHEMA_JSON = "application/schema+json"


@cache
def _asyncapi() -> str:
    return render_asyncapi()


@cache
def _schemas() -> dict[str, str]:
    return {name.removesuffix(".json"): text for name, text in expected_files().items()}


def contract_docs_router() -> APIRouter:
    router = APIRouter(tags=["event contract"])

    @router.get("/asyncapi.json", summary="AsyncAPI 3 document of every topic and event type")
    async def asyncapi() -> Response:
        return Response(_asyncapi(), media_type=JSON)

    @router.get("/schemas", summary="Event types that have a JSON Schema")
    async def schema_index() -> Response:
        index = {name: f"/schemas/{name}.json" for name in sorted(_schemas())}
        return Response(json.dumps(index, indent=2), media_type=JSON)

    @router.get(
        "/schemas/{type_name}.json",
        summary="JSON Schema (2020-12) of one event type",
        responses={404: {"description": "No such event type"}},
    )
    async def schema(type_name: str) -> Response:
        text = _schemas().get(type_name)
        if text is None:
            raise ProblemError(
                404, "Not Found", f"no event type {type_name!r}; see /schemas", kind="not-found"
            )
        return Response(text, media_type=SCHEMA_JSON)

    return router
