"""The committed OpenAPI document is the contract: current, complete, and typed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from service.openapi import openapi_document

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(json.loads(COMMITTED.read_text(encoding="utf-8")))


def test_committed_document_matches_the_application(app: FastAPI) -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_document(app), (
        "openapi/openapi.json is stale: run `wbs-sync openapi` and commit it"
    )


def test_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")


def test_every_operation_is_documented_for_client_generators(document: dict[str, Any]) -> None:
    ids = []
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        ids.append(operation["operationId"])
        assert operation["operationId"].isidentifier(), where
        assert operation.get("summary"), where
        assert operation.get("description"), where
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success, where
        assert "500" in operation["responses"], where
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                assert "application/problem+json" in response["content"], where
                assert response["content"]["application/problem+json"].get("example"), where
    assert len(ids) == len(set(ids))


def test_api_operations_require_the_bearer_scheme_and_health_does_not(
    document: dict[str, Any],
) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, method, operation in operations(document):
        if path.startswith("/api/v1"):
            assert operation.get("security") == [{"bearerAuth": []}], f"{method} {path}"
            assert "401" in operation["responses"], f"{method} {path}"
        else:
            assert "security" not in operation, f"{method} {path}"


def test_request_and_response_schemas_carry_examples(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("ItemCreate", "ItemUpdate", "ItemRead", "ProjectCreate", "ProjectRead", "Problem"):
        assert schemas[name].get("examples"), name
    for path, method, operation in operations(document):
        body = operation.get("requestBody")
        if body and "application/json" in body["content"]:
            ref = body["content"]["application/json"]["schema"]["$ref"]
            assert schemas[ref.rsplit("/", 1)[1]].get("examples"), f"{method} {path}"
        elif body:
            form = schemas[
                body["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
            ]
            assert all(p.get("description") for p in form["properties"].values()), (
                f"{method} {path}"
            )


def test_links_name_real_operations_and_their_parameters(document: dict[str, Any]) -> None:
    by_id = {operation["operationId"]: operation for _, _, operation in operations(document)}
    links = [
        (operation["operationId"], link)
        for _, _, operation in operations(document)
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert {source for source, _ in links} >= {"createProject", "createItem", "createImport"}
    for source, link in links:
        target = by_id[link["operationId"]]
        names = {parameter["name"] for parameter in target.get("parameters", [])}
        assert set(link["parameters"]) <= names, (source, link)
