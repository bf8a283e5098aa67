"""The bodies deliveries carry: `{"type", "timestamp", "data"}` (Standard Webhooks), built
once, when a delivery is made, and sent byte for byte the same on every attempt."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from service.changes.feed import FeedEvent
from service.changes.models import ChangeKind, ChangeSource
from service.cursors import feed_cursor
from service.webhooks.models import EventType

# The feed's `source` of an import's events, and the field whose change is a status change.
IMPORT_SOURCE = ChangeSource.import_
STATUS = "status"


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body(event_type: EventType, moment: datetime, data: Mapping[str, Any]) -> str:
    document = {"type": event_type.value, "timestamp": timestamp(moment), "data": data}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return timestamp(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON")


def change_type(event: FeedEvent) -> EventType:
    if event.kind is ChangeKind.created:
        return EventType.item_created
    if event.kind is ChangeKind.deleted:
        return EventType.item_deleted
    if any(name == STATUS for name, _, _ in event.fields):
        return EventType.item_status_changed
    return EventType.item_updated


def wanted(event_type: EventType, subscribed: list[str]) -> bool:
    """A status change is an update too: a subscriber to `item.updated` gets it."""
    return event_type.value in subscribed or (
        event_type is EventType.item_status_changed and EventType.item_updated.value in subscribed
    )


def change_data(
    event: FeedEvent, project_name: str, title: str | None, responsibility: str | None
) -> dict[str, Any]:
    """The event as the change feed shows it (`ChangeRead`), with names and its cursor."""
    return {
        "position": event.seq,
        "cursor": feed_cursor(event.seq),
        "project_id": event.project_id,
        "project_name": project_name,
        "item_id": event.item_id,
        "item_code": event.item_code,
        "item_title": title,
        "responsibility": responsibility,
        "kind": event.kind.value,
        "actor": {"organisation_id": event.actor_organisation_id, "label": event.actor_label},
        "source": event.source.value,
        "source_id": event.source_id,
        "replan_id": event.replan_id,
        "occurred_at": timestamp(event.occurred_at),
        "changes": [{"field": name, "old": old, "new": new} for name, old, new in event.fields],
    }


def value_of(event: FeedEvent, field: str) -> Any:
    """The field's value as the event leaves it (its old value, for a delete)."""
    for name, old, new in event.fields:
        if name == field:
            return old if event.kind is ChangeKind.deleted else new
    return None


def changed(event: FeedEvent, fields: list[str]) -> bool:
    return not fields or any(name in fields for name, _, _ in event.fields)
