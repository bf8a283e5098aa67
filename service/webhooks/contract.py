"""The bodies receivers get, in the OpenAPI document's `webhooks` section (OpenAPI 3.1): one
typed body per event type, with the Standard Webhooks headers, so a receiver's types can be
generated like a client's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from service.webhooks.models import EventType
from service.webhooks.schemas import (
    ChangeEventBody,
    DigestBody,
    DisabledBody,
    ImportCompletedBody,
    OverdueBody,
    TestBody,
)

BODIES: dict[EventType, tuple[type[BaseModel], str, str]] = {
    EventType.item_created: (ChangeEventBody, "itemCreated", "An item was created"),
    EventType.item_updated: (ChangeEventBody, "itemUpdated", "An item changed"),
    EventType.item_status_changed: (
        ChangeEventBody, "itemStatusChanged", "An item's status changed",
    ),
    EventType.item_deleted: (ChangeEventBody, "itemDeleted", "An item was deleted"),
    EventType.import_completed: (
        ImportCompletedBody, "importCompleted", "A workbook import that changed items was applied",
    ),
    EventType.item_overdue: (OverdueBody, "itemOverdue", "An item became overdue"),
    EventType.digest_daily: (DigestBody, "digestDaily", "The daily digest"),
    EventType.subscription_disabled: (
        DisabledBody, "subscriptionDisabled", "Another subscription of yours was disabled",
    ),
    EventType.test: (TestBody, "webhookTest", "A test message"),
}  # fmt: skip

DESCRIPTION = (
    "Sent as a POST to `webhook` subscriptions, signed per Standard Webhooks: `webhook-id` (the "
    "same on every retry and redelivery: deduplicate on it), `webhook-timestamp` (Unix "
    "seconds) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with "
    "the secret after `whsec_`; two, space-separated, while a rotated secret overlaps). Chat "
    "and mail subscriptions get the same content as a message. Answer 2xx within 15 s."
)
_HEADERS = [
    ("webhook-id", "The message's id, e.g. `msg_2KWPBgLlAfxdpx2AI54pPJ85`."),
    ("webhook-timestamp", "When this attempt was signed, in Unix seconds."),
    ("webhook-signature", "`v1,<base64>`, space-separated when there are several."),
]


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def document(openapi: dict[str, Any]) -> None:
    schemas: dict[str, Any] = openapi.setdefault("components", {}).setdefault("schemas", {})
    webhooks = openapi.setdefault("webhooks", {})
    for event, (model, operation_id, summary) in BODIES.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, schema)
        webhooks[event.value] = {
            "post": {
                "operationId": operation_id,
                "summary": summary,
                "description": DESCRIPTION,
                "tags": ["webhooks"],
                "parameters": [_header(name, text) for name, text in _HEADERS],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                },
                "responses": {
                    "2XX": {"description": "Received: never sent again (but on redelivery)."},
                    "410": {"description": "Gone: the subscription is disabled at once."},
                    "default": {"description": "Failed: retried on the schedule."},
                },
            }
        }
