"""The item's field table is the one list: whatever else names the fields agrees with it.

A field, status or side added to one place and forgotten in another fails here by name.
"""

from __future__ import annotations

from typing import get_args

from importers import values
from importers.layout import classify
from service.access import PLAN_FIELDS, PROGRESS_FIELDS, SHARED_FIELDS
from service.imports.reading import VOCABULARY
from service.items.fields import CHANGEABLE, ITEM_FIELDS, TEXT_COMPANIONS, Owner
from service.items.models import Item, Responsibility, Status
from service.items.schemas import ItemCreate, ItemRead, ItemUpdate
from service.reports.schemas import StatusCounts
from service.tabular import WORDS

# Links to other items, held in other columns or tables than their own.
RELATIONS = {"parent_code", "predecessors"}


def test_every_field_is_declared_in_the_api_schemas() -> None:
    changeable = {field.name for field in CHANGEABLE}
    assert set(ItemCreate.model_fields) == changeable
    assert set(ItemUpdate.model_fields) == changeable
    shown = {field.name for field in ITEM_FIELDS} | set(TEXT_COMPANIONS)
    service_kept = {"project_id", "version", "overdue", "created_at", "updated_at"}
    assert set(ItemRead.model_fields) == shown | service_kept


def test_every_field_has_its_column() -> None:
    columns = {column.key for column in Item.__mapper__.column_attrs}
    stored = {field.name for field in ITEM_FIELDS} - RELATIONS | set(TEXT_COMPANIONS)
    assert stored <= columns
    service_kept = {
        "project_id",
        "code_key",
        "sort_key",
        "parent_id",
        "version",
        "created_at",
        "updated_at",
    }
    assert columns - stored == service_kept


def test_every_changeable_field_has_exactly_one_owner() -> None:
    owners = [PLAN_FIELDS, PROGRESS_FIELDS, SHARED_FIELDS]
    names = {field.name for field in CHANGEABLE} | set(TEXT_COMPANIONS)
    assert set().union(*owners) == names
    assert sum(len(owned) for owned in owners) == len(names)
    assert {field.name for field in ITEM_FIELDS if field.owner is Owner.none} == {"id"}


def test_the_importer_reads_back_every_export_header() -> None:
    for field in ITEM_FIELDS:
        assert classify(field.export_ja, VOCABULARY) == field.name, field.export_ja
        assert classify(field.export_en, VOCABULARY) == field.name, field.export_en


def test_every_status_is_read_counted_and_worded() -> None:
    statuses = {status.value for status in Status}
    assert set(get_args(values.StatusValue)) == statuses
    assert {values.read_status(word) for word in (WORDS[s]["ja"] for s in statuses)} == statuses
    assert set(StatusCounts.model_fields) == statuses
    assert statuses <= set(WORDS)


def test_every_side_is_read_and_worded() -> None:
    sides = {side.value for side in Responsibility}
    assert set(get_args(values.ResponsibilityValue)) == sides
    for side in sides:
        assert values.read_responsibility(WORDS[side]["ja"]) == side
        assert values.read_responsibility(WORDS[side]["en"]) == side
