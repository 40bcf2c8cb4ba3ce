"""The OpenAPI document is complete: every intake operation documents its errors as problem+json."""

from typing import Any

import pytest

from crm_intake.bootstrap import bootstrap
from crm_intake.settings import IntakeSettings

pytestmark = pytest.mark.unit

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    # Building the app connects to nothing; the document is generated from the routes.
    return bootstrap(IntakeSettings(_env_file=None)).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in methods.items()
    ]


def test_every_route_of_spec_section_5_is_there(document: dict[str, Any]) -> None:
    routes = {(method, path) for method, path, _ in _operations(document)}
    firm = "/api/v1/enterprises/{enterprise_id}"
    assert {
        ("POST", "/api/v1/enterprises"),
        ("GET", "/api/v1/enterprises"),
        ("GET", firm),
        ("PATCH", firm),
        ("POST", f"{firm}/contacts"),
        ("PATCH", f"{firm}/contacts/{{contact_id}}"),
        ("POST", f"{firm}/interactions"),
        ("POST", f"{firm}/transitions"),
        ("POST", f"{firm}/status"),
        ("POST", f"{firm}/merge"),
        ("GET", f"{firm}/timeline"),
        ("GET", f"{firm}/duplicates"),
        ("GET", "/api/v1/contacts/{contact_id}/export"),
        ("POST", "/api/v1/contacts/{contact_id}/erase"),
    } <= routes


def test_every_error_response_is_a_documented_problem(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        assert {"401", "403", "422"} <= set(responses), (method, path)
        assert operation["security"] == [{"HTTPBearer": []}], (method, path)
        for status, response in responses.items():
            if int(status) >= 300:
                assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
                assert response["description"], (method, path, status)
    assert "HTTPValidationError" not in str([op["responses"] for _, _, op in _operations(document)])


def test_writes_with_if_match_document_412_and_patches_428(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        if method == "PATCH":
            assert {"412", "428"} <= set(operation["responses"]), path
            body = operation["requestBody"]["content"]
            assert list(body) == ["application/merge-patch+json"]
    create = document["paths"]["/api/v1/enterprises"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    duplicate = create["responses"]["409"]["content"][PROBLEM_JSON]["schema"]
    assert duplicate["$ref"].endswith("/DuplicateProblem")
    assert "EnterprisePatch" in document["components"]["schemas"]
