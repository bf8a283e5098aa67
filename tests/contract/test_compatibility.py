"""The committed contract is valid OpenAPI 3.1 and stays backwards compatible within /api/v1.

openapi/released/v1.json is the document as last released. Clients generated from it must
keep working against the current one: no operation, parameter or response field may go or
change type, and no new input may become required. Copy openapi.json over it on a release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"
METHODS = ("get", "post", "put", "patch", "delete")


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((OPENAPI / name).read_text(encoding="utf-8")))


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def types_of(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = resolve(document, schema)
    if "anyOf" in schema:
        return {t for option in schema["anyOf"] for t in types_of(document, option)}
    if "enum" in schema and "type" not in schema:
        return {"string"}
    return {schema.get("type", "object")}


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems: list[str] = []

    def compare_response(
        where: str, before: dict[str, Any], after: dict[str, Any], depth: int = 0
    ) -> None:
        before, after = resolve(old, before), resolve(new, after)
        if depth > 6:
            return
        for name, prop in before.get("properties", {}).items():
            if name not in after.get("properties", {}):
                problems.append(f"{where}: response field {name!r} removed")
                continue
            if not types_of(new, after["properties"][name]) >= types_of(old, prop) - {"null"}:
                problems.append(f"{where}: response field {name!r} changed type")
            compare_response(f"{where}.{name}", prop, after["properties"][name], depth + 1)
        if before.get("type") == "array" and after.get("type") == "array":
            compare_response(
                f"{where}[]", before.get("items", {}), after.get("items", {}), depth + 1
            )

    for path, item in old["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            where = f"{method.upper()} {path}"
            after = new["paths"].get(path, {}).get(method)
            if after is None:
                problems.append(f"{where}: operation removed")
                continue
            if after.get("operationId") != item[method].get("operationId"):
                problems.append(f"{where}: operationId changed")
            old_params = {(p["name"], p["in"]): p for p in item[method].get("parameters", [])}
            new_params = {(p["name"], p["in"]): p for p in after.get("parameters", [])}
            for key, param in old_params.items():
                if key not in new_params:
                    problems.append(f"{where}: parameter {key[0]!r} removed")
                # A parameter is absent or has a value: "null" was never one a client could send.
                elif types_of(new, new_params[key]["schema"]) - {"null"} != types_of(
                    old, param["schema"]
                ) - {"null"}:
                    problems.append(f"{where}: parameter {key[0]!r} changed type")
            for key, param in new_params.items():
                if key not in old_params and param.get("required"):
                    problems.append(f"{where}: new required parameter {key[0]!r}")
            old_body = item[method].get("requestBody", {}).get("content", {})
            new_body = after.get("requestBody", {}).get("content", {})
            for media, content in old_body.items():
                if media not in new_body:
                    problems.append(f"{where}: request body {media} no longer accepted")
                    continue
                before_schema = resolve(old, content["schema"])
                after_schema = resolve(new, new_body[media]["schema"])
                newly_required = set(after_schema.get("required", [])) - set(
                    before_schema.get("required", [])
                )
                if newly_required:
                    problems.append(f"{where}: newly required input {sorted(newly_required)}")
            for status, response in item[method].get("responses", {}).items():
                if status not in after.get("responses", {}):
                    problems.append(f"{where}: response {status} removed")
                    continue
                for media, content in response.get("content", {}).items():
                    after_content = after["responses"][status].get("content", {}).get(media)
                    if after_content is None:
                        problems.append(f"{where}: response {status} {media} removed")
                    elif "schema" in content:
                        compare_response(
                            f"{where} {status}", content["schema"], after_content.get("schema", {})
                        )
    return problems


def test_the_committed_document_is_valid_openapi_3_1() -> None:
    document = load("openapi.json")
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_is_backwards_compatible_with_the_released_one() -> None:
    assert breaking_changes(load("released/v1.json"), load("openapi.json")) == []


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda d: d["paths"].pop("/api/v1/me"), "operation removed"),
        (
            lambda d: d["components"]["schemas"]["ItemRead"]["properties"].pop("overdue"),
            "response field 'overdue' removed",
        ),
        (
            lambda d: d["components"]["schemas"]["ItemRead"]["properties"].update(
                progress={"type": "string"}
            ),
            "'progress' changed type",
        ),
        (
            lambda d: d["paths"]["/api/v1/projects/{project_id}/items"]["get"]["parameters"].pop(),
            "removed",
        ),
        (
            lambda d: d["components"]["schemas"]["ItemCreate"]["required"].append("assignee"),
            "newly required input",
        ),
    ],
)
def test_the_compatibility_check_catches_breaking_changes(change: Any, found: str) -> None:
    released = load("openapi.json")
    current = json.loads(json.dumps(released))
    change(current)
    assert any(found in problem for problem in breaking_changes(released, current))
