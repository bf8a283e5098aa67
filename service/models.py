"""Every table, imported once so the metadata is complete for alembic and the app."""

from service.changes.models import ChangeEvent, FeedCounter
from service.db import Base
from service.idempotency.models import IdempotencyKey
from service.imports.models import ImportRecord
from service.items.models import Item, item_predecessors
from service.organisations.models import Organisation
from service.partners.models import Partnership
from service.people.models import BrowserSession, PendingUpload, SignInLink, Visit
from service.projects.models import Project
from service.templates.models import (
    Replan,
    ReplanProject,
    Template,
    TemplateFollower,
    TemplateItem,
    TemplateVersion,
)
from service.tokens.models import ApiToken, AuthFailure
from service.webhooks.models import Attempt, Delivery, DigestSent, OverdueNotice, Subscription

__all__ = [
    "ApiToken",
    "Attempt",
    "AuthFailure",
    "Base",
    "BrowserSession",
    "ChangeEvent",
    "Delivery",
    "DigestSent",
    "FeedCounter",
    "IdempotencyKey",
    "ImportRecord",
    "Item",
    "Organisation",
    "OverdueNotice",
    "Partnership",
    "PendingUpload",
    "Project",
    "Replan",
    "ReplanProject",
    "SignInLink",
    "Subscription",
    "Template",
    "TemplateFollower",
    "TemplateItem",
    "TemplateVersion",
    "Visit",
    "item_predecessors",
]
