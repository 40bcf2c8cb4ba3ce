"""The OpenAPI document: merge-patch request bodies, and error bodies as problem+json.

FastAPI files a response `model` under application/json; our errors are served as
application/problem+json, so their schema is moved there.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from crm_intake.entrypoints.http.schemas import ContactPatch, EnterprisePatch
from crm_shared.http.problems import PROBLEM_JSON

MERGE_PATCH_JSON = "application/merge-patch+json"
PATCH_MODELS: dict[str, type[BaseModel]] = {
    "EnterprisePatch": EnterprisePatch,
    "ContactPatch": ContactPatch,
}


def _register(schemas: dict[str, Any], model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas[model.__name__] = schema


def _problem_content(response: dict[str, Any]) -> None:
    content = response.get("content", {})
    if PROBLEM_JSON in content and "application/json" in content:
        content[PROBLEM_JSON] = content.pop("application/json")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for path in document["paths"].values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    _problem_content(response)
                model_name = operation.pop("x-merge-patch", None)
                if model_name:
                    _register(schemas, PATCH_MODELS[model_name])
                    operation["requestBody"] = {
                        "required": True,
                        "content": {
                            MERGE_PATCH_JSON: {
                                "schema": {"$ref": f"#/components/schemas/{model_name}"}
                            }
                        },
                    }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
