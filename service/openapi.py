"""Shaping the published contract: stable operation ids, summaries, links, media types.

The document is generated from the routes (never edited by hand); these passes make it say
what generated clients and fuzzers need to know and FastAPI leaves out.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from service.errors import PROBLEM_MEDIA_TYPE


def operation_id(route: APIRoute) -> str:
    """`list_items` → `listItems`: short, stable ids for generated clients."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def summaries_from_docstrings(document: dict[str, Any]) -> dict[str, Any]:
    """An operation's docstring: first line → summary, the rest → description."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            first, _, rest = operation.get("description", "").partition("\n")
            if first:
                operation["summary"] = first.strip().rstrip(".")
                operation["description"] = rest.strip() or first.strip()
    return document


def binary_uploads(document: dict[str, Any]) -> dict[str, Any]:
    """Say `format: binary` beside `contentMediaType` on uploads.

    FastAPI writes only the OpenAPI 3.1 form, and client generators (openapi-python-client,
    openapi-typescript) recognise a file by the format: without it they type it as text.
    """
    for schema in document.get("components", {}).get("schemas", {}).values():
        for prop in schema.get("properties", {}).values():
            if prop.get("type") == "string" and "contentMediaType" in prop:
                prop.setdefault("format", "binary")
    return document


# How operations chain, for clients and stateful testers: what a response gives the next call.
LINKS: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "createProject": {
        "GetProject": ("getProject", {"project_id": "$response.body#/id"}),
        "UpdateProject": ("updateProject", {"project_id": "$response.body#/id"}),
        "CreateItem": ("createItem", {"project_id": "$response.body#/id"}),
        "ListItems": ("listItems", {"project_id": "$response.body#/id"}),
    },
    "createItem": {
        name: (
            operation,
            {"project_id": "$response.body#/project_id", "code": "$response.body#/code"},
        )
        for name, operation in (
            ("GetItem", "getItem"),
            ("UpdateItem", "updateItem"),
            ("DeleteItem", "deleteItem"),
            ("GetItemHistory", "getItemHistory"),
        )
    },
    "createImport": {
        "GetImport": (
            "getImport",
            {"project_id": "$request.path.project_id", "import_id": "$response.body#/id"},
        ),
    },
    "createOrganisation": {
        "GetOrganisation": ("getOrganisation", {"organisation_id": "$response.body#/id"}),
    },
}


def operation_links(document: dict[str, Any]) -> dict[str, Any]:
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            links = LINKS.get(operation.get("operationId", ""))
            if not links:
                continue
            created = operation["responses"].get("201") or operation["responses"]["200"]
            created["links"] = {
                name: {"operationId": target, "parameters": parameters}
                for name, (target, parameters) in links.items()
            }
    return document


def problem_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Errors are sent as application/problem+json: say its schema there too.

    FastAPI puts a response model under application/json only, so a client generated from the
    document had no type for the problem it actually receives.
    """
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if status[:1] in "45" and schema and PROBLEM_MEDIA_TYPE in content:
                    content[PROBLEM_MEDIA_TYPE].setdefault("schema", schema)
    return document


def parameters_never_null(document: dict[str, Any]) -> dict[str, Any]:
    """A parameter left out is absent, never null: drop the `null` FastAPI adds for `X | None`.

    Said as a type, `null` invited clients and fuzzers to send the text "null" as a value.
    """
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                options = schema.get("anyOf")
                if options and any(option.get("type") == "null" for option in options):
                    kept = [option for option in options if option.get("type") != "null"]
                    del schema["anyOf"]
                    if len(kept) == 1:
                        schema.update(kept[0])
                    else:
                        schema["anyOf"] = kept
    return document


def shaped(document: dict[str, Any]) -> dict[str, Any]:
    document = summaries_from_docstrings(document)
    document = operation_links(binary_uploads(document))
    return parameters_never_null(problem_schemas(document))


def openapi_document(app: FastAPI) -> str:
    """The committed form of the spec: stable key order, so a diff shows only real changes."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
