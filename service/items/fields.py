"""The item's fields, one row each: what it holds, who owns it, how sheets and exports name it.

Every list of item fields elsewhere is derived from `ITEM_FIELDS`: the ownership rule
(service/access.py), what change events compare (items/service.py), what an import reads and
diffs (imports/), the columns of the Excel export, and the importer's header vocabulary. The
typed declarations of the column (items/models.py) and of the API schemas (items/schemas.py)
stay written out, so mypy and the OpenAPI contract see them; tests/items/test_fields.py fails
naming any field the table has and they lack, or the other way round.

To add a field: a row here, its column in items/models.py and a migration, its declaration in
ItemCreate, ItemUpdate and ItemRead, and the tests that show it (docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from importers.dates import Role
from importers.fields import Kind, SheetField
from service.national import BUSINESS_WORDS, STEP_CODES


class Owner(enum.StrEnum):
    """Whose the field is to change (PRODUCT.md, "Synchronisation: who owns what")."""

    plan = "plan"  # the vendor's (and the PMO's)
    progress = "progress"  # the responsible side's: the vendor, the municipality, or both
    shared = "shared"  # anyone's with access
    none = "none"  # nobody's: the service sets it


@dataclass(frozen=True)
class ItemField:
    name: str
    kind: Kind
    owner: Owner
    # Where the export puts it, and its header there in each language; the importer reads both.
    export_column: str
    export_ja: str
    export_en: str
    # Other headers people write for it in their own sheets, Japanese and English, compared
    # after width, case, blanks and brackets are folded (importers.values.key).
    words: tuple[str, ...] = ()
    export_width: int = 12
    # A day's role: a start resolves approximate text (10月) to its first day, an end to its last.
    role: Role | None = None
    # A step's or choice's values, by every word a sheet writes for one (folded by key()).
    values: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def text_companion(self) -> str | None:
        """The column keeping a sheet's text beside a day that was not exact (10月下旬)."""
        return f"{self.name}_text" if self.kind is Kind.day else None


# In the order change events list the fields they change.
ITEM_FIELDS: tuple[ItemField, ...] = (
    ItemField(
        "id", Kind.item_id, Owner.none, "A", "ID", "ID",
        ("id", "内部id", "システムid", "wbs-sync id", "wbssyncid", "item id"), 8,
    ),
    ItemField(
        "code", Kind.code, Owner.plan, "B", "項番", "Code",
        ("no", "no.", "№", "番号", "wbs番号", "wbsno", "wbs no", "wbs id", "wbsid", "wbs",
         "wbsコード", "項目番号", "作業番号", "管理番号", "タスクid", "task id", "outline number"),
        10,
    ),
    ItemField(
        "parent_code", Kind.code, Owner.plan, "C", "親項番", "Parent",
        ("親番号", "上位項番", "親", "parent", "parent code"), 10,
    ),
    ItemField(
        "title", Kind.short_text, Owner.plan, "D", "作業項目", "Task Name",
        ("作業名", "タスク名", "タスク", "作業", "項目", "項目名", "件名", "作業内容名", "task",
         "name", "title", "activity", "work item"),
        40,
    ),
    ItemField(
        "description", Kind.long_text, Owner.plan, "E", "説明", "Description",
        ("作業内容", "内容", "詳細", "概要", "作業概要", "details"), 30,
    ),
    ItemField(
        "responsibility", Kind.responsibility, Owner.plan, "F", "役割分担", "Responsibility",
        ("担当", "分担", "主担当", "実施者", "実施主体", "責任", "担当区分", "作業主体", "役割",
         "区分", "owner", "responsible", "role"),
    ),
    # The assignee (担当課) names who does the work, so it follows the work's owner.
    ItemField(
        "assignee", Kind.short_text, Owner.progress, "G", "担当課", "Assignee",
        ("担当者", "担当部署", "所管課", "担当部門", "担当者名", "assigned to", "resource names",
         "person in charge"),
        14,
    ),
    ItemField(
        "planned_start", Kind.day, Owner.plan, "H", "開始予定日", "Planned start",
        ("予定開始", "予定開始日", "開始予定", "開始日", "開始", "着手予定日", "予定開始日付",
         "start", "start date", "baseline start"),
        role=Role.start,
    ),
    ItemField(
        "planned_end", Kind.day, Owner.plan, "I", "終了予定日", "Planned finish",
        ("予定終了", "予定終了日", "終了予定", "完了予定日", "完了予定", "終了日", "終了", "期限",
         "期日", "納期", "締切", "締め切り", "完了期限", "finish", "finish date", "end",
         "end date", "due", "due date", "deadline", "baseline finish"),
        role=Role.end,
    ),
    ItemField(
        "actual_start", Kind.day, Owner.progress, "J", "開始実績", "Actual start",
        ("実績開始", "実績開始日", "着手日", "実開始日"), role=Role.start,
    ),
    ItemField(
        "actual_end", Kind.day, Owner.progress, "K", "終了実績", "Actual finish",
        ("実績終了", "実績終了日", "完了日", "実終了日", "完了実績", "actual end"),
        role=Role.end,
    ),
    ItemField(
        "status", Kind.status, Owner.progress, "M", "状況", "Status",
        ("ステータス", "状態", "進捗状況", "対応状況", "state"), 10,
    ),
    ItemField(
        "progress", Kind.percent, Owner.progress, "L", "進捗率", "Progress",
        ("進捗", "進捗(%)", "達成率", "完了率", "%complete", "% complete"), 8,
    ),
    ItemField(
        "deliverable", Kind.long_text, Owner.plan, "O", "成果物", "Deliverable",
        ("成果品", "deliverables", "output"), 24,
    ),
    ItemField(
        "notes", Kind.long_text, Owner.shared, "P", "備考", "Notes",
        ("メモ", "コメント", "特記事項", "note", "remarks", "comments"), 30,
    ),
    ItemField(
        "predecessors", Kind.codes, Owner.plan, "N", "先行作業", "Predecessors",
        ("先行", "前提作業", "先行タスク", "依存関係", "predecessor", "depends on"), 14,
    ),
    # The national procedure's step and the business it is run for: where the item sits in the
    # plan, so the vendor's. A 手順 column is read as this field when its values are steps and
    # the sheet has codes of its own (importers/readings.py); a sheet without one gives the
    # step at the start of a code or title (③-2), the business in its name (住民記録WBS).
    ItemField(
        "step", Kind.step, Owner.plan, "Q", "手順番号", "National step",
        ("手順no", "手順番号", "ステップ番号", "ステップno", "手順コード", "step no",
         "step number", "national step"),
        8, values={code: code for code in STEP_CODES},
    ),
    ItemField(
        "business", Kind.choice, Owner.plan, "R", "業務", "Business",
        ("業務名", "対象業務", "標準化対象業務", "業務区分", "業務システム", "システム名",
         "business name"),
        14, values=BUSINESS_WORDS,
    ),
)  # fmt: skip

FIELDS_BY_NAME = {field.name: field for field in ITEM_FIELDS}

# The fields a person or a sheet may set, as the API names them (the id is the service's).
CHANGEABLE = tuple(field for field in ITEM_FIELDS if field.owner is not Owner.none)
# An item's own code and its parent's: what places it in the tree.
CODE_FIELDS = tuple(field.name for field in CHANGEABLE if field.kind is Kind.code)
# Held by the item's row as they are: everything but its codes and links, which name other rows.
PLAIN_COLUMNS = tuple(
    field.name for field in CHANGEABLE if field.kind not in (Kind.code, Kind.codes)
)
DAYS = tuple(field.name for field in ITEM_FIELDS if field.kind is Kind.day)
TEXT_COMPANIONS = tuple(f"{name}_text" for name in DAYS)
# The order change events list the fields of an item in.
EVENT_ORDER = (
    *CODE_FIELDS,
    *PLAIN_COLUMNS,
    *TEXT_COMPANIONS,
    *(field.name for field in CHANGEABLE if field.kind is Kind.codes),
)
# The export's columns, left to right.
EXPORT_COLUMNS = tuple(
    sorted(ITEM_FIELDS, key=lambda field: (len(field.export_column), field.export_column))
)
SHORT_TEXT = tuple(field.name for field in ITEM_FIELDS if field.kind is Kind.short_text)
LONG_TEXT = tuple(field.name for field in ITEM_FIELDS if field.kind is Kind.long_text)


def owned_by(owner: Owner) -> frozenset[str]:
    """The names of the fields of this owner, with the text kept beside each of their days."""
    names = set()
    for field in ITEM_FIELDS:
        if field.owner is owner:
            names.add(field.name)
            if field.text_companion:
                names.add(field.text_companion)
    return frozenset(names)


def sheet_fields() -> tuple[SheetField, ...]:
    """The fields as the importer reads them: name, kind, and every header that names them."""
    return tuple(
        SheetField(
            field.name,
            field.kind,
            (field.export_ja, field.export_en, field.name.replace("_", " "), *field.words),
            field.role,
            field.values,
        )
        for field in ITEM_FIELDS
    )
