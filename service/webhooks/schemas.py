from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from service.changes.schemas import ChangeRead
from service.fields import MAX_ID, PRINTABLE, Instant
from service.imports.schemas import ImportRead
from service.items.models import Responsibility
from service.organisations.schemas import OrganisationRef
from service.reports.schemas import OverdueRow
from service.webhooks.models import DeliveryState, EventType, Kind

SubscriptionName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=PRINTABLE),
    Field(description="A label, e.g. the channel or system it reaches."),
]
Target = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=2000),
    Field(
        description="For `email` a mail address; otherwise an https:// URL (a Slack incoming "
        "webhook, a Teams Workflows webhook, a LINE WORKS Incoming Webhook, or your own "
        "receiver). Stored encrypted; never shown again in full."
    ),
]
Subscribable = Literal[
    "item.created",
    "item.updated",
    "item.deleted",
    "item.status_changed",
    "import.completed",
    "item.overdue",
    "digest.daily",
]
EventTypes = Annotated[
    list[Subscribable],
    Field(
        max_length=7,
        description="What to be told of. `item.updated` includes status changes (delivered "
        "typed `item.status_changed`). Default: `digest.daily` for email, every type otherwise.",
    ),
]
ProjectIds = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]],
    Field(max_length=1000, description="Only these projects; empty: every one the "
          "organisation may see."),
]  # fmt: skip
FieldNames = Annotated[
    list[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]],
    Field(max_length=40, description="Only changes of these item fields, e.g. `status`, "
          "`planned_end`; empty: any."),
]  # fmt: skip
Responsibilities = Annotated[
    list[Responsibility],
    Field(max_length=3, description="Only items of these sides; empty: every side. The digest "
          "reads the organisation's own side by default."),
]  # fmt: skip
DigestTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(description="Local time (WBS_TIMEZONE) of the daily digest, HH:MM."),
]
DueWithin = Annotated[
    int, Field(ge=0, le=60, strict=True, description="The digest lists items due within this "
               "many days.")
]  # fmt: skip
Language = Annotated[
    Literal["ja", "en"] | None,
    Field(description="Language of chat messages and mail; default the server's (ja)."),
]
ContactEmail = Annotated[
    str | None,
    StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    Field(description="Told by mail if the subscription is disabled for failing."),
]

_EXAMPLE_READ: dict[str, JsonValue] = {
    "id": 3,
    "organisation": {"id": 2, "code": "sakura-town", "name": "さくら町"},
    "name": "情報政策課 Teams",
    "kind": "teams",
    "target": "https://prod-01.japaneast.logic.azure.com/…",
    "event_types": ["item.overdue", "digest.daily"],
    "project_ids": [],
    "fields": [],
    "responsibilities": [],
    "digest_time": "08:30",
    "due_within_days": 7,
    "language": None,
    "contact_email": "joho@town.sakura.example.jp",
    "enabled": True,
    "disabled_reason": None,
    "disabled_at": None,
    "failing_since": None,
    "signed": False,
    "previous_secret_expires_at": None,
    "created_at": "2026-12-01T00:00:00Z",
    "updated_at": "2026-12-01T00:00:00Z",
}


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "情報政策課 Teams",
                    "kind": "teams",
                    "target": "https://prod-01.japaneast.logic.azure.com/workflows/…",
                    "event_types": ["item.overdue", "digest.daily"],
                    "contact_email": "joho@town.sakura.example.jp",
                },
                {
                    "name": "vendor ticketing",
                    "kind": "webhook",
                    "target": "https://hooks.example.com/wbs",
                    "event_types": ["item.status_changed", "import.completed"],
                },
            ]
        },
    )

    organisation_id: Annotated[int | None, Field(ge=1, le=MAX_ID, strict=True)] = Field(
        None, description="PMO only: set one up for this organisation. Default: the caller's."
    )
    name: SubscriptionName
    kind: Kind
    target: Target
    event_types: EventTypes | None = None
    project_ids: ProjectIds = []
    fields: FieldNames = []
    responsibilities: Responsibilities = []
    digest_time: DigestTime = "08:30"
    due_within_days: DueWithin = 7
    language: Language = None
    contact_email: ContactEmail = None
    enabled: Annotated[bool, Field(strict=True)] = True


class SubscriptionUpdate(BaseModel):
    """Only what is sent changes. Enabling a disabled subscription resumes it where it stopped."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"enabled": True}, {"event_types": ["digest.daily"]}]},
    )

    name: SubscriptionName = Field(default=None)  # type: ignore[assignment]
    target: Target = Field(default=None)  # type: ignore[assignment]
    event_types: EventTypes = Field(default=None)  # type: ignore[arg-type]
    project_ids: ProjectIds = Field(default=None)  # type: ignore[arg-type]
    fields: FieldNames = Field(default=None)  # type: ignore[arg-type]
    responsibilities: Responsibilities = Field(default=None)  # type: ignore[arg-type]
    digest_time: DigestTime = Field(default=None)  # type: ignore[assignment]
    due_within_days: DueWithin = Field(default=None)  # type: ignore[assignment]
    language: Language = None
    contact_email: ContactEmail = None
    enabled: Annotated[bool, Field(strict=True)] = Field(default=None)  # type: ignore[assignment]


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE_READ]})

    id: int
    organisation: OrganisationRef
    name: str
    kind: Kind
    target: str = Field(description="Scheme and host only, or a masked mail address.")
    event_types: list[str]
    project_ids: list[int]
    fields: list[str]
    responsibilities: list[Responsibility]
    digest_time: str
    due_within_days: int
    language: str | None
    contact_email: str | None
    enabled: bool
    disabled_reason: str | None = Field(description="Why it stopped: `410 Gone`, days of "
                                        "failures, or a person.")  # fmt: skip
    disabled_at: datetime | None
    failing_since: datetime | None = Field(description="Every attempt since then failed.")
    signed: bool = Field(description="Deliveries carry Standard Webhooks signatures "
                         "(`webhook` kind); read the secret with getWebhookSecret.")  # fmt: skip
    previous_secret_expires_at: datetime | None = Field(
        description="After a rotation, the old secret signs too until then."
    )
    created_at: datetime
    updated_at: datetime


class SubscriptionPage(BaseModel):
    items: list[SubscriptionRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class SecretRotate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"overlap_hours": 24}]}
    )

    overlap_hours: Annotated[int, Field(ge=0, le=168, strict=True)] = Field(
        24,
        description="Hours the old secret still signs beside the new one, while receivers "
        "switch; 0 drops it at once.",
    )


class SecretRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3Z2bQvQGBn4=",
                    "previous_secret": None,
                    "previous_secret_expires_at": None,
                }
            ]
        }
    )

    secret: str = Field(description="The signing secret, `whsec_` + base64.")
    previous_secret: str | None
    previous_secret_expires_at: datetime | None


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: datetime
    duration_ms: int | None = Field(description="Null while it runs, or if its worker died.")
    succeeded: bool | None
    status_code: int | None
    response_excerpt: str | None = Field(description="The answer's first 500 characters.")
    error: str | None


class DeliveryRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 812,
                    "subscription_id": 3,
                    "message_id": "msg_2KWPBgLlAfxdpx2AI54pPJ85",
                    "event_type": "item.status_changed",
                    "position": 1042,
                    "state": "delivered",
                    "attempts": 1,
                    "next_attempt_at": "2026-12-01T00:00:00Z",
                    "created_at": "2026-12-01T00:00:00Z",
                    "finished_at": "2026-12-01T00:00:01Z",
                    "redelivery_of": None,
                    "attempt_log": [
                        {
                            "number": 1,
                            "started_at": "2026-12-01T00:00:00Z",
                            "duration_ms": 84,
                            "succeeded": True,
                            "status_code": 200,
                            "response_excerpt": "ok",
                            "error": None,
                        }
                    ],
                }
            ]
        }
    )

    id: int
    subscription_id: int
    message_id: str = Field(description="The `webhook-id`: the same on every attempt.")
    event_type: str
    position: int | None = Field(description="Feed position of the change it tells of.")
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    finished_at: datetime | None
    redelivery_of: int | None
    attempt_log: list[AttemptRead] = Field(description="Oldest first; on a list, the last only.")


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class RedeliverRange(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"since": "2026-12-01T00:00:00+09:00", "until": None, "only_failed": True}]
        },
    )

    since: Instant = Field(description="Deliveries created at or after this instant.")
    until: Instant | None = Field(None, description="…and before this one; default now.")
    only_failed: Annotated[bool, Field(strict=True)] = Field(
        True, description="Only those that gave up; false: every one in the range."
    )


class RedeliverResult(BaseModel):
    queued: int = Field(description="New deliveries queued, in their original order.")
    truncated: bool = Field(description="More matched than one call queues (10,000).")


# The bodies receivers get: {"type", "timestamp", "data"} (Standard Webhooks).


class ChangeEventData(ChangeRead):
    """A change event exactly as the change feed hands it out, with names beside the ids."""

    cursor: str = Field(description="The feed cursor just after this event: pass it as `since` "
                        "to GET /api/v1/changes to resume from here.")  # fmt: skip
    project_name: str
    item_title: str | None
    responsibility: Responsibility | None


class ImportCompletedData(ImportRead):
    project_name: str
    position: int = Field(description="Feed position of the import's last event.")
    cursor: str


class OverdueData(OverdueRow):
    as_of: date = Field(description="The day it became overdue on (its planned end passed).")
    link: str


class DigestCounts(BaseModel):
    overdue: int
    due_soon: int
    waiting_on_others: int


class DigestData(BaseModel):
    day: date
    organisation: OrganisationRef
    due_within_days: int
    overdue: list[OverdueRow] = Field(description="Late, on the subscriber's side.")
    due_soon: list[OverdueRow] = Field(description="Due within `due_within_days`, same side.")
    waiting_on_others: list[OverdueRow] = Field(
        description="Late on the other side, holding up a next step of the subscriber's side."
    )
    counts: DigestCounts = Field(description="Totals; the lists show at most 50 each.")
    truncated: bool = Field(description="More than 5,000 late or due items: the counts are of "
                            "the first 5,000, by planned end.")  # fmt: skip
    link: str


class DisabledData(BaseModel):
    subscription_id: int
    name: str
    kind: Kind
    target: str
    reason: str
    disabled_at: datetime
    failing_since: datetime | None


class TestData(BaseModel):
    subscription_id: int
    name: str
    message: str


class WebhookBody(BaseModel):
    type: EventType
    timestamp: datetime = Field(description="When the event happened (UTC).")


class ChangeEventBody(WebhookBody):
    data: ChangeEventData


class ImportCompletedBody(WebhookBody):
    data: ImportCompletedData


class OverdueBody(WebhookBody):
    data: OverdueData


class DigestBody(WebhookBody):
    data: DigestData


class DisabledBody(WebhookBody):
    data: DisabledData


class TestBody(WebhookBody):
    data: TestData


class DigestNow(BaseModel):
    sent: bool = Field(description="False when there was nothing to say: nothing is sent then.")
    delivery: DeliveryRead | None
    digest: DigestData
