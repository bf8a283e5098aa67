"""The reports as tables: one header per language, one row per entry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from service.reports.schemas import (
    NationalProgressReport,
    OverdueReport,
    OverdueRow,
    Progress,
    ProgressReport,
    RollUp,
    StepState,
)
from service.tabular import Language, word

_OVERDUE_HEADER: dict[Language, list[str]] = {
    "ja": [
        "プロジェクト", "自治体", "ベンダー", "項番", "作業項目", "役割分担", "担当", "終了予定日",
        "超過日数", "区分", "状況", "進捗率", "後続作業（未着手）", "相手側の後続作業",
    ],
    "en": [
        "Project", "Municipality", "Vendor", "Code", "Title", "Responsibility", "Assignee",
        "Planned end", "Days overdue", "State", "Status", "Progress", "Blocks (not started)",
        "Blocks on the other side",
    ],
}  # fmt: skip

_PROGRESS_HEADER: dict[Language, list[str]] = {
    "ja": [
        "名称", "プロジェクト数", "作業数", "完了数", "進捗率(%)", "期限超過（ベンダー）",
        "期限超過（自治体）", "期限超過（共同）",
    ],
    "en": [
        "Name", "Projects", "Items", "Complete", "Percent complete", "Overdue (vendor)",
        "Overdue (municipality)", "Overdue (joint)",
    ],
}  # fmt: skip


def overdue_table(
    report: OverdueReport, language: Language
) -> tuple[list[str], Iterator[list[object]]]:
    return overdue_header(language), overdue_lines(report.rows, language)


def overdue_header(language: Language) -> list[str]:
    return _OVERDUE_HEADER[language]


def overdue_lines(rows: Iterable[OverdueRow], language: Language) -> Iterator[list[object]]:
    for row in rows:
        yield [
            row.project.name,
            row.municipality.name,
            row.vendor.name,
            row.code,
            row.title,
            word(row.responsibility, language),
            row.assignee,
            row.planned_end,
            row.days_overdue,
            word(row.state, language),
            word(row.status, language),
            row.progress,
            "、".join(f"{b.code} {b.title}" for b in row.blocks),
            "、".join(f"{b.code} {b.title}" for b in row.blocks if b.other_side),
        ]


def _progress_row(name: str, projects: int, progress: Progress) -> list[object]:
    return [
        name,
        projects,
        progress.items,
        progress.complete,
        progress.percent_complete,
        progress.overdue.vendor,
        progress.overdue.municipality,
        progress.overdue.joint,
    ]


def progress_tables(
    report: ProgressReport, language: Language
) -> list[tuple[str, list[str], list[list[object]]]]:
    header = _PROGRESS_HEADER[language]
    projects = [
        _progress_row(f"{p.municipality.name} {p.project.name}", 1, p) for p in report.projects
    ]

    def rollups(entries: Sequence[RollUp]) -> list[list[object]]:
        return [_progress_row(e.name, e.projects, e) for e in entries]

    names = {
        "ja": ("プロジェクト別", "自治体別", "ベンダー別", "グループ別"),
        "en": ("Projects", "Municipalities", "Vendors", "Consortia"),
    }[language]
    return [
        (names[0], header, projects),
        (names[1], header, rollups(report.municipalities)),
        (names[2], header, rollups(report.vendors)),
        (names[3], header, rollups(report.consortia)),
    ]


# The words of the 総務省 layout for a step's state, and its headers.
NATIONAL_WORDS: dict[StepState, dict[Language, str]] = {
    StepState.complete: {"ja": "完了済み", "en": "Complete"},
    StepState.in_progress: {"ja": "作業中", "en": "In progress"},
    StepState.not_started: {"ja": "未着手", "en": "Not started"},
    StepState.not_applicable: {"ja": "対象外", "en": "N/A"},
}
_NATIONAL_HEADER: dict[Language, tuple[list[str], str]] = {
    "ja": (["都道府県名", "市区町村名", "業務"], "完了率(%)"),
    "en": (["Prefecture", "Municipality", "Business"], "Completion rate (%)"),
}
NATIONAL_TITLE: dict[Language, str] = {"ja": "業務別ステップ別進捗一覧", "en": "Progress by step"}


def national_table(
    report: NationalProgressReport, language: Language
) -> tuple[list[str], list[list[object]]]:
    """One row per municipality × business, a column per step (①-1 … ⑱-2), the rate last."""
    first, last = _NATIONAL_HEADER[language]
    header = [*first, *(step.circled for step in report.steps), last]
    rows: list[list[object]] = [
        [
            row.prefecture,
            row.municipality.name,
            row.business.value,
            *(NATIONAL_WORDS[row.steps[step.code]][language] for step in report.steps),
            row.completion_rate,
        ]
        for row in report.rows
    ]
    return header, rows
