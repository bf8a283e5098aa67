"""Every /api/v1 operation × every kind of caller, derived from the OpenAPI document.

A new operation is covered without editing this file: its path parameters are filled from
TARGET, its body from its schema's example. The target objects belong to town A and vendor X;
a foreign caller must get exactly what a missing object gets, and never see their data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.partners.models import Partnership
from service.tokens.service import issue_token
from tests.conftest import World

MARKER = "TOWN-A-ONLY-7f3c"
MISSING_ID = 987654
METHODS = {"get", "post", "patch", "put", "delete"}
# Operations only the PMO may call, whatever they name.
PMO_ONLY = {"createOrganisation", "createToken", "listTokens", "revokeToken"}
# Operations that create something at a collection and so answer 404 only via their parent.
CALLERS = ("none", "revoked", "other_municipality", "other_vendor", "read_only", "owner", "pmo")
# Objects of one organisation only (town A's), not of the project both parties share: their
# owner is town A's writing token.
ORGANISATION_OWNED = {"subscription_id"}
# Objects of vendor X alone (its plan templates and their replans): its read-only token is the
# read-only caller there.
VENDOR_OWNED = {"template_id", "replan_id"}


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str
    spec: dict[str, Any]

    @property
    def writes(self) -> bool:
        return self.method != "get" and not self.spec.get("x-changes-nothing")

    @property
    def object_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def api_operations(app: FastAPI) -> list[Operation]:
    document = app.openapi()
    found = [
        Operation(method, path, spec["operationId"], spec)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1")
        for method, spec in item.items()
        if method in METHODS
    ]
    # Deletes last, so the operations on what they delete still find it.
    return sorted(found, key=lambda operation: operation.method == "delete")


# Any upload operation gets this small WBS, valid for the target project.
UPLOAD = "項番,作業項目,担当,期限\n1,計画,共同,2099/4/30\n1-1,体制確認,共同,2099/4/10\n".encode()


def example_body(app: FastAPI, operation: Operation) -> dict[str, Any]:
    body = operation.spec.get("requestBody")
    if not body:
        return {}
    if "multipart/form-data" in body["content"]:
        return {"files": {"file": ("wbs.csv", UPLOAD, "text/csv")}}
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    return {"json": app.openapi()["components"]["schemas"][ref]["examples"][0]}


@pytest.fixture
def arena(client: TestClient, world: World, db: Session) -> dict[str, Any]:
    a_x = world.projects["a_x"]
    db.execute(
        a_x.__table__.update().where(a_x.__table__.c.id == a_x.id).values(name=f"住民記録 {MARKER}")
    )
    revoked, revoked_secret = issue_token(db, world.orgs["town_a"], "old")
    revoked.revoked_at = utcnow()
    target_token, _ = issue_token(db, world.orgs["town_a"], "target")
    db.commit()
    for code in ("1", "1-1"):
        response = client.post(
            f"/api/v1/projects/{a_x.id}/items",
            headers=world.auth("pmo"),
            json={"code": code, "title": f"{MARKER} {code}", "responsibility": "joint"},
        )
        assert response.status_code == 201
    sheet = f"項番,作業項目,担当\n1,{MARKER} 1,共同\n1-1,{MARKER} 1-1,共同\n".encode()
    upload = client.post(
        f"/api/v1/projects/{a_x.id}/imports",
        headers=world.auth("pmo"),
        files={"file": ("wbs.csv", sheet, "text/csv")},
    )
    assert upload.status_code == 201, upload.text
    hook = client.post(
        "/api/v1/webhooks",
        headers=world.auth("town_a"),
        json={"name": MARKER, "kind": "webhook", "target": "https://hooks.example.jp/wbs"},
    )
    assert hook.status_code == 201, hook.text
    test = client.post(f"/api/v1/webhooks/{hook.json()['id']}/test", headers=world.auth("town_a"))
    assert test.status_code == 202, test.text
    template = client.post(
        "/api/v1/templates",
        headers=world.auth("vendor_x"),
        json={"name": MARKER, "from_project": {"project_id": a_x.id}},
    )
    assert template.status_code == 201, template.text
    template_id = template.json()["id"]
    published = client.post(
        f"/api/v1/templates/{template_id}/versions/1/publish", headers=world.auth("vendor_x")
    )
    assert published.status_code == 200, published.text
    replan = client.post(
        f"/api/v1/templates/{template_id}/replans",
        headers=world.auth("vendor_x"),
        json={"to_version": 1},
    )
    assert replan.status_code == 201, replan.text
    return {
        "target": {
            "project_id": a_x.id,
            "code": "1-1",
            "organisation_id": world.orgs["town_a"].id,
            "token_id": target_token.id,
            "import_id": upload.json()["id"],
            "partnership_id": db.scalar(
                select(Partnership.id).where(Partnership.municipality_id == a_x.municipality_id)
            ),
            "subscription_id": hook.json()["id"],
            "delivery_id": test.json()["id"],
            "template_id": template_id,
            "version": 1,
            "replan_id": replan.json()["id"],
        },
        "missing": {
            "project_id": MISSING_ID,
            "code": "no-such-code",
            "organisation_id": MISSING_ID,
            "token_id": MISSING_ID,
            "import_id": MISSING_ID,
            "partnership_id": MISSING_ID,
            "subscription_id": MISSING_ID,
            "delivery_id": MISSING_ID,
            "template_id": MISSING_ID,
            "version": MISSING_ID,
            "replan_id": MISSING_ID,
        },
        "headers": {
            "none": {},
            "revoked": {"Authorization": f"Bearer {revoked_secret}"},
            "other_municipality": world.auth("town_b"),
            "other_vendor": world.auth("vendor_y"),
            "read_only": world.auth("town_a_read_only"),
            "vendor_read_only": world.auth("vendor_x_read_only"),
            "owner": world.auth("vendor_x"),
            "pmo": world.auth("pmo"),
            "organisation_owner": world.auth("town_a"),
        },
    }


def call(
    client: TestClient,
    app: FastAPI,
    operation: Operation,
    params: dict[str, Any],
    headers: dict[str, str],
) -> Response:
    path = operation.path
    for name in operation.object_params:
        assert name in params, f"{operation.operation_id}: give the matrix a value for {{{name}}}"
        path = path.replace(f"{{{name}}}", str(params[name]))
    return client.request(
        operation.method.upper(), path, headers=headers, **example_body(app, operation)
    )


def documented(operation: Operation, response: Response) -> None:
    assert str(response.status_code) in operation.spec["responses"], (
        f"{operation.method.upper()} {operation.path} answered {response.status_code}, "
        f"documented: {sorted(operation.spec['responses'])}: {response.text[:300]}"
    )


def names_body_field(response: Response) -> bool:
    errors = response.json().get("errors") or []
    return bool(errors) and all(error["loc"][0] == "body" for error in errors)


def normalised(body: str, params: dict[str, Any]) -> str:
    for value in params.values():
        body = re.sub(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", "<id>", body)
    return body


def test_matrix_covers_every_api_operation(app: FastAPI) -> None:
    assert len(api_operations(app)) >= 15


@pytest.mark.parametrize("caller", CALLERS)
def test_every_operation_answers_each_caller_as_documented(
    client: TestClient, app: FastAPI, arena: dict[str, Any], caller: str
) -> None:
    for operation in api_operations(app):
        headers = arena["headers"][caller]
        if caller == "owner" and ORGANISATION_OWNED & set(operation.object_params):
            headers = arena["headers"]["organisation_owner"]
        if caller == "read_only" and VENDOR_OWNED & set(operation.object_params):
            headers = arena["headers"]["vendor_read_only"]
        response = call(client, app, operation, arena["target"], headers)
        documented(operation, response)
        where = f"{caller}: {operation.method.upper()} {operation.path}"
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", where

        if caller in ("none", "revoked"):
            assert response.status_code == 401, where
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), where
            continue

        if caller in ("other_municipality", "other_vendor"):
            assert MARKER not in response.text, f"{where} leaked another organisation's data"
            if operation.operation_id in PMO_ONLY:
                assert response.status_code == 403, where
            elif operation.object_params:
                assert response.status_code == 404, where
                missing = call(client, app, operation, arena["missing"], headers)
                assert missing.status_code == 404, where
                assert normalised(response.text, arena["target"]) == normalised(
                    missing.text, arena["missing"]
                ), where
            continue

        if caller == "read_only":
            if operation.writes:
                assert response.status_code == 403, where
            else:
                assert response.status_code in (200, 403), where
            continue

        if caller == "owner" and operation.operation_id in PMO_ONLY:
            assert response.status_code == 403, where
            continue
        assert response.status_code not in (401, 429), where
        # The owner sees its objects: a 404 may only name something the example body refers to.
        assert response.status_code != 404 or names_body_field(response), where
        if not operation.writes:
            assert response.status_code == 200, where


def test_foreign_callers_see_nothing_of_town_a_in_lists_and_filters(
    client: TestClient, arena: dict[str, Any]
) -> None:
    for caller in ("other_municipality", "other_vendor"):
        headers = arena["headers"][caller]
        for url in (
            "/api/v1/projects",
            "/api/v1/projects?municipality=town-a",
            "/api/v1/projects?vendor=vendor-x",
            "/api/v1/organisations",
        ):
            response = client.get(url, headers=headers)
            assert response.status_code == 200
            assert MARKER not in response.text
            assert "town-a" not in json.dumps(
                [p for p in response.json()["items"] if p.get("code") == "town-a"]
            )
