"""Workbooks as vendors and towns really write them, each with what it must import as.

Each layout is built here with openpyxl as messy as the real ones: title blocks, fills and
borders, merged cells, covers, legends and revision histories, line breaks inside step names,
※ notes under the table. Its expectation lists every field of every item the sheet holds.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from tests.importers.sheets import save

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
GROUP_FILL = PatternFill("solid", fgColor="FCE4D6")
BAR_FILL = PatternFill("solid", fgColor="5B9BD5")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


@dataclass
class Layout:
    """A workbook or text file, and every item it must import as (code → fields)."""

    name: str
    data: bytes
    file_name: str
    items: dict[str, dict[str, object]]
    # Column letters the import must say it ignores, and rows it must skip (row → reason).
    ignored: set[str] = field(default_factory=set)
    skipped: dict[int, str] = field(default_factory=dict)
    header_rows: list[int] | None = None
    sheet: str | None = None


def _title_block(sheet: Worksheet, title: str, width: int, *lines: Sequence[object]) -> None:
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    for line in lines:
        sheet.append(list(line))


def _style_header(sheet: Worksheet, rows: Sequence[int], width: int) -> None:
    for row in rows:
        for column in range(1, width + 1):
            cell = sheet.cell(row, column)
            cell.fill = HEADER_FILL
            cell.font = Font(bold=True)
            cell.border = BOX
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _side_sheets(book: openpyxl.Workbook, *, history: bool = True) -> None:
    cover = book.create_sheet("表紙", 0)
    cover["B3"] = "住民記録システム標準化 移行作業計画書"
    cover["B5"] = "さくら町 御中"
    cover["B7"] = "みらい情報システム株式会社"
    cover["B9"] = "第1.2版"
    legend = book.create_sheet("凡例")
    for row in (["記号", "意味"], ["◎", "主担当"], ["○", "担当"], ["△", "支援"]):
        legend.append(row)
    if history:
        log = book.create_sheet("改訂履歴")
        for row in (
            ["版", "改訂日", "改訂内容", "担当"],
            ["1.0", datetime(2025, 3, 10), "初版", "山田"],
            ["1.1", datetime(2025, 4, 1), "③の工程を見直し", "佐藤"],
        ):
            log.append(row)


def _new_book(title: str) -> tuple[openpyxl.Workbook, Worksheet]:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    return book, sheet


def _national(
    items: dict[str, dict[str, object]], business: str | None, steps: dict[str, str]
) -> None:
    """The national fields a layout's items carry: its business, and each code's step."""
    for code, fields in items.items():
        if business is not None:
            fields["business"] = business
        if code in steps:
            fields["step"] = steps[code]


def national_steps() -> Layout:
    """The 総務省 手順書 layout: the step's name in a merged 大項目 cell, ①-1 codes beside it,
    役割分担 over one column per party with ◎○△, short era years with a month part, a
    progress column and no status, lettered sub-steps, a note under the table."""
    book, sheet = _new_book("作業計画")
    _title_block(
        sheet,
        "住民記録システム標準化 移行作業計画（令和7年度）",
        9,
        [
            "団体名：さくら町",
            None,
            None,
            None,
            None,
            "作成：みらい情報システム",
            None,
            None,
            "R7.4.1",
        ],
        [],
    )
    sheet.append(["大項目", "項番", "作業項目", "役割分担", None, "予定", None, "進捗率", "備考"])
    sheet.append([None, None, None, "団体", "事業者", "開始", "終了"])
    rows = [
        ["①\n推進体制の\n立上げ", "①-1", "推進体制の検討", "◎", "○", "R7.4.1", "R7.4月下旬", 100, None],
        [None, "①-2", "庁内への周知", "◎", "△", "R7.4.21", "R7.5.9", 50, "※全課長会議で周知"],
        [None, "①-3", "事業者との\n役割分担の確認", "○", "◎", "R7.5.1", "R7.5月末", 0, None],
        ["② 現行システムの概要調査", "②-1", "現行システムの概要調査", "△", "◎", "R7.5.12", "R7.6.30", 0, None],
        [None, "②-2", "調査結果の確認", "◎", "△", "R7.7.1", "R7.7月中旬", 0, None],
        ["③ 標準仕様との\n比較分析", "③-1", "Fit&Gap分析", "○", "◎", "R7.7.1", "R7.9月末", 0, None],
        [None, "③-2", "差異への対応方針の検討", "◎", "◎", "R7.8.1", "R7.10月", 0, None],
        [None, "③-2-ア", "業務運用の見直し", "◎", "△", "R7.8.1", "R7.9.30", 0, None],
        [None, "③-2-イ", "帳票の確認", "◎", "○", "R7.8.18", "R7.9月下旬", 0, None],
        [None, "ウ)", "例規改正の要否確認", "◎", None, "R7.9.1", "R7.10月", 0, "総務課と調整"],
    ]  # fmt: skip
    for row in rows:
        sheet.append(row)
    sheet.append(["※ ◎：主担当　○：担当　△：支援（凡例シート参照）"])
    for span in ("A4:A5", "B4:B5", "C4:C5", "D4:E4", "F4:G4", "H4:H5", "I4:I5"):
        sheet.merge_cells(span)
    for span in ("A6:A8", "A9:A10", "A11:A15", "A16:I16"):
        sheet.merge_cells(span)
    _style_header(sheet, [4, 5], 9)
    for row in (6, 9, 11):
        sheet.cell(row, 1).fill = GROUP_FILL
        sheet.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "D6"
    _side_sheets(book)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "推進体制の立上げ", "responsibility": "joint", "planned_start": d(2025, 4, 1),
              "planned_end": d(2025, 5, 31), "status": "in_progress"},
        "1-1": {"title": "推進体制の検討", "responsibility": "joint", "planned_start": d(2025, 4, 1),
                "planned_end": d(2025, 4, 30), "planned_end_text": "R7.4月下旬", "progress": 100,
                "status": "done"},
        "1-2": {"title": "庁内への周知", "responsibility": "municipality",
                "planned_start": d(2025, 4, 21), "planned_end": d(2025, 5, 9), "progress": 50,
                "status": "in_progress", "notes": "※全課長会議で周知"},
        "1-3": {"title": "事業者との役割分担の確認", "responsibility": "joint",
                "planned_start": d(2025, 5, 1), "planned_end": d(2025, 5, 31),
                "planned_end_text": "R7.5月末", "progress": 0, "status": "not_started"},
        "2": {"title": "現行システムの概要調査", "responsibility": "joint",
              "planned_start": d(2025, 5, 12), "planned_end": d(2025, 7, 20)},
        "2-1": {"title": "現行システムの概要調査", "responsibility": "vendor",
                "planned_start": d(2025, 5, 12), "planned_end": d(2025, 6, 30), "progress": 0,
                "status": "not_started"},
        "2-2": {"title": "調査結果の確認", "responsibility": "municipality",
                "planned_start": d(2025, 7, 1), "planned_end": d(2025, 7, 20),
                "planned_end_text": "R7.7月中旬", "progress": 0, "status": "not_started"},
        "3": {"title": "標準仕様との比較分析", "responsibility": "joint",
              "planned_start": d(2025, 7, 1), "planned_end": d(2025, 10, 31)},
        "3-1": {"title": "Fit&Gap分析", "responsibility": "joint", "planned_start": d(2025, 7, 1),
                "planned_end": d(2025, 9, 30), "planned_end_text": "R7.9月末", "progress": 0,
                "status": "not_started"},
        "3-2": {"title": "差異への対応方針の検討", "responsibility": "joint",
                "planned_start": d(2025, 8, 1), "planned_end": d(2025, 10, 31),
                "planned_end_text": "R7.10月", "progress": 0, "status": "not_started"},
        "3-2-ア": {"title": "業務運用の見直し", "responsibility": "municipality",
                   "planned_start": d(2025, 8, 1), "planned_end": d(2025, 9, 30), "progress": 0,
                   "status": "not_started"},
        "3-2-イ": {"title": "帳票の確認", "responsibility": "joint", "planned_start": d(2025, 8, 18),
                   "planned_end": d(2025, 9, 30), "planned_end_text": "R7.9月下旬", "progress": 0,
                   "status": "not_started"},
        "3-2-ウ": {"title": "例規改正の要否確認", "responsibility": "municipality",
                   "planned_start": d(2025, 9, 1), "planned_end": d(2025, 10, 31),
                   "planned_end_text": "R7.10月", "progress": 0, "status": "not_started",
                   "notes": "総務課と調整", "parent_code": "3-2"},
    }  # fmt: skip
    # The title block names the business; each ①-1 code its step (ア, イ under ③-2 as well).
    _national(
        items,
        "住民記録",
        {code: code for code in ("1-1", "1-2", "1-3", "2-1", "2-2", "3-1", "3-2")}
        | {"3-2-ア": "3-2", "3-2-イ": "3-2"},
    )
    return Layout("national steps", save(book), "作業計画.xlsx", items, skipped={16: "note"},
                  header_rows=[4, 5], sheet="作業計画")  # fmt: skip


def national_step_rows() -> Layout:
    """Each step with a row of its own, the codes in a column headed 手順, status words
    including 未了 and a dash, dates such as R7.5月末."""
    book, sheet = _new_book("標準化手順")
    _title_block(sheet, "令和7年度 標準化移行 手順別スケジュール", 6, [])
    sheet.append(["手順", "作業項目", "担当", "期限", "状況", "備考"])
    for row in (
        ["①", "推進体制の立上げ", "共同", "R7.5月末", "作業中", None],
        ["①-1", "推進体制の検討", "自治体", "R7.4月下旬", "完了", None],
        ["①-2", "庁内周知", "自治体", "R7.5.9", "未了", None],
        ["②", "現行システムの\n概要調査", "ベンダー", "R7.7月中旬", "未着手", None],
        ["②-1", "現行調査票の作成", "ベンダー", "R7.6.30", "－", None],
        ["②-2", "調査票への回答", "自治体", "R7.7.11", "保留", "担当課の確認待ち"],
    ):
        sheet.append(row)
    _style_header(sheet, [3], 6)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "推進体制の立上げ", "responsibility": "joint", "planned_end": d(2025, 5, 31),
              "planned_end_text": "R7.5月末", "status": "in_progress"},
        "1-1": {"title": "推進体制の検討", "responsibility": "municipality",
                "planned_end": d(2025, 4, 30), "planned_end_text": "R7.4月下旬", "status": "done"},
        "1-2": {"title": "庁内周知", "responsibility": "municipality", "planned_end": d(2025, 5, 9),
                "status": "not_started"},
        "2": {"title": "現行システムの概要調査", "responsibility": "vendor",
              "planned_end": d(2025, 7, 20), "planned_end_text": "R7.7月中旬",
              "status": "not_started"},
        "2-1": {"title": "現行調査票の作成", "responsibility": "vendor",
                "planned_end": d(2025, 6, 30), "status": "not_started"},
        "2-2": {"title": "調査票への回答", "responsibility": "municipality",
                "planned_end": d(2025, 7, 11), "status": "on_hold", "notes": "担当課の確認待ち"},
    }  # fmt: skip
    _national(items, None, {code: code for code in ("1-1", "1-2", "2-1", "2-2")})
    return Layout("national steps, a row each, codes under 手順", save(book), "手順.xlsx", items,
                  header_rows=[3])  # fmt: skip


def section_heading_rows() -> Layout:
    """Each section's name on a row of its own, merged across (■ 1. 計画), its tasks under it;
    progress as a fraction in a percent-formatted cell."""
    book, sheet = _new_book("WBS")
    _title_block(sheet, "基幹業務システム標準化 作業一覧", 6, ["作成日", datetime(2025, 3, 28)], [])
    sheet.append(["No.", "作業項目", "担当", "開始予定", "終了予定", "進捗率"])
    rows = [
        ["■ 1. 計画"],
        ["1-1", "体制図作成", "ベンダ", datetime(2025, 4, 1), datetime(2025, 4, 11), 1],
        ["1-2", "連絡先一覧作成", "市", datetime(2025, 4, 7), datetime(2025, 4, 18), 0.5],
        ["■ 2. 移行"],
        ["2-1", "データ抽出", "市", datetime(2025, 10, 1), datetime(2025, 10, 31), 0],
        ["2-2", "データ変換", "ベンダ", datetime(2025, 11, 4), datetime(2025, 11, 28), 0],
    ]
    for row in rows:
        sheet.append(row)
    for row_number in (5, 8):
        sheet.merge_cells(start_row=row_number, start_column=1, end_row=row_number, end_column=6)
        sheet.cell(row_number, 1).fill = GROUP_FILL
    for row_number in (6, 7, 9, 10):
        sheet.cell(row_number, 6).number_format = "0%"
        for column in (4, 5):
            sheet.cell(row_number, column).number_format = "yyyy/m/d"
    _style_header(sheet, [4], 6)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "計画", "responsibility": "joint", "planned_start": d(2025, 4, 1),
              "planned_end": d(2025, 4, 18), "status": "in_progress"},
        "1-1": {"title": "体制図作成", "responsibility": "vendor", "planned_start": d(2025, 4, 1),
                "planned_end": d(2025, 4, 11), "progress": 100, "status": "done"},
        "1-2": {"title": "連絡先一覧作成", "responsibility": "municipality",
                "planned_start": d(2025, 4, 7), "planned_end": d(2025, 4, 18), "progress": 50,
                "status": "in_progress"},
        "2": {"title": "移行", "responsibility": "joint", "planned_start": d(2025, 10, 1),
              "planned_end": d(2025, 11, 28)},
        "2-1": {"title": "データ抽出", "responsibility": "municipality",
                "planned_start": d(2025, 10, 1), "planned_end": d(2025, 10, 31), "progress": 0,
                "status": "not_started"},
        "2-2": {"title": "データ変換", "responsibility": "vendor", "planned_start": d(2025, 11, 4),
                "planned_end": d(2025, 11, 28), "progress": 0, "status": "not_started"},
    }  # fmt: skip
    return Layout("section heading rows", save(book), "作業一覧.xlsx", items, header_rows=[4])


def _gantt(
    sheet: Worksheet,
    header_row: int,
    left: Sequence[str],
    days: list[date],
    tasks: Sequence[Sequence[object]],
    spans: Sequence[tuple[date, date]],
    bar: str | None,
) -> None:
    """A calendar grid right of the task list: a month row, a day row, a weekday row, bars;
    the task list's headers merged down the three rows."""
    first_grid_column = len(left) + 1
    for column, text in enumerate(left, 1):
        sheet.cell(header_row, column, text)
    weekdays = "月火水木金土日"
    for offset, day in enumerate(days):
        column = first_grid_column + offset
        if offset == 0 or day.day == 1:
            sheet.cell(header_row, column, f"{day.year}年{day.month}月")
        cell = sheet.cell(header_row + 1, column, datetime(day.year, day.month, day.day))
        cell.number_format = "d"
        sheet.cell(header_row + 2, column, weekdays[day.weekday()])
        if day.weekday() >= 5:
            for row in range(header_row + 1, header_row + 3 + len(tasks)):
                sheet.cell(row, column).fill = PatternFill("solid", fgColor="F2F2F2")
    for index, task in enumerate(tasks):
        row = header_row + 3 + index
        for column, value in enumerate(task, start=1):
            sheet.cell(row, column, value)
        start, end = spans[index]
        for offset, day in enumerate(days):
            if start <= day <= end:
                cell = sheet.cell(row, first_grid_column + offset)
                cell.fill = BAR_FILL
                if bar:
                    cell.value = bar
    for column in range(1, first_grid_column):
        sheet.merge_cells(
            start_row=header_row, start_column=column, end_row=header_row + 2, end_column=column
        )
    _style_header(sheet, [header_row, header_row + 1, header_row + 2], first_grid_column - 1)


def gantt_daily_fiscal_year() -> Layout:
    """方眼紙 WBS over a whole fiscal year: 365 day columns (date cells shown as the day)
    under month cells and over weekdays, the left headers merged down three rows, bars
    drawn with fills and ■."""
    book, sheet = _new_book("ガントチャート")
    _title_block(
        sheet, "○○町 基幹系システム標準化 スケジュール", 10, ["開始日", datetime(2025, 4, 1)]
    )
    days = [date(2025, 4, 1) + timedelta(days=n) for n in range(365)]
    tasks = [
        [1, "要件定義", "ベンダー", datetime(2025, 4, 1), datetime(2025, 4, 30), 1],
        [2, "現行データ調査", "自治体", datetime(2025, 5, 1), datetime(2025, 6, 13), 0.4],
        [3, "移行リハーサル", "共同", datetime(2026, 1, 5), datetime(2026, 2, 27), 0],
    ]
    spans = [(date(2025, 4, 1), date(2025, 4, 30)), (date(2025, 5, 1), date(2025, 6, 13)),
             (date(2026, 1, 5), date(2026, 2, 27))]  # fmt: skip
    _gantt(sheet, 4, ["No.", "タスク", "担当", "開始日", "終了日", "進捗"], days, tasks, spans, "■")
    for row in (7, 8, 9):
        sheet.cell(row, 6).number_format = "0%"
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "要件定義", "responsibility": "vendor", "planned_start": d(2025, 4, 1),
              "planned_end": d(2025, 4, 30), "progress": 100, "status": "done"},
        "2": {"title": "現行データ調査", "responsibility": "municipality",
              "planned_start": d(2025, 5, 1), "planned_end": d(2025, 6, 13), "progress": 40,
              "status": "in_progress"},
        "3": {"title": "移行リハーサル", "responsibility": "joint", "planned_start": d(2026, 1, 5),
              "planned_end": d(2026, 2, 27), "progress": 0, "status": "not_started"},
    }  # fmt: skip
    grid = f"G:{get_column_letter(6 + 365)}"
    return Layout("Gantt, a fiscal year of days", save(book), "スケジュール.xlsx", items,
                  ignored={grid}, header_rows=[4, 5, 6])  # fmt: skip


def gantt_day_numbers() -> Layout:
    """A month's Gantt with day numbers 1–30 under 4月 and weekdays under them, bars of ━;
    the task list's days written 4/1 without a year, the year from the title's 年度."""
    book, sheet = _new_book("4月")
    _title_block(sheet, "令和7年度 4月作業予定表", 8, [])
    header_row = 3
    left = ["WBS", "作業", "担当者", "担当区分", "開始", "終了", "状況"]
    weekdays = "月火水木金土日"
    for column, text in enumerate(left, 1):
        sheet.cell(header_row, column, text)
    sheet.cell(header_row, 8, "4月")
    for day in range(1, 31):
        sheet.cell(header_row + 1, 7 + day, day)
        sheet.cell(header_row + 2, 7 + day, weekdays[date(2025, 4, day).weekday()])
    tasks = [
        ["1", "準備", "田中", "ベンダー", "4/1", "4/4", "完了", (1, 4)],
        ["1.1", "資料作成", "田中", "ベンダー", "4/1", "4/2", "完了", (1, 2)],
        ["1.2", "説明会", "住民課", "自治体", "4/7", "4/11", "作業中", (7, 11)],
    ]
    for index, task in enumerate(tasks):
        row = header_row + 3 + index
        for column, value in enumerate(task[:7], 1):
            sheet.cell(row, column, value)
        first, last = task[7]  # type: ignore[misc]
        for day in range(first, last + 1):
            sheet.cell(row, 7 + day, "━").fill = BAR_FILL
    for column in range(1, 8):
        sheet.merge_cells(start_row=3, start_column=column, end_row=5, end_column=column)
    sheet.merge_cells(start_row=3, start_column=8, end_row=3, end_column=37)
    _style_header(sheet, [3, 4, 5], 37)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "準備", "assignee": "田中", "responsibility": "vendor",
              "planned_start": d(2025, 4, 1), "planned_start_text": "4/1",
              "planned_end": d(2025, 4, 4), "planned_end_text": "4/4", "status": "done"},
        "1.1": {"title": "資料作成", "assignee": "田中", "responsibility": "vendor",
                "planned_start": d(2025, 4, 1), "planned_start_text": "4/1",
                "planned_end": d(2025, 4, 2), "planned_end_text": "4/2", "status": "done"},
        "1.2": {"title": "説明会", "assignee": "住民課", "responsibility": "municipality",
                "planned_start": d(2025, 4, 7), "planned_start_text": "4/7",
                "planned_end": d(2025, 4, 11), "planned_end_text": "4/11",
                "status": "in_progress"},
    }  # fmt: skip
    return Layout("Gantt, day numbers of one month", save(book), "4月予定.xlsx", items,
                  ignored={"H:AK"}, header_rows=[3, 4, 5])  # fmt: skip


def gantt_weekly() -> Layout:
    """A weekly Gantt: week columns headed 4/7, 4/14 … as text, ● where the work falls."""
    book, sheet = _new_book("週次")
    sheet.append(["移行作業 週次計画"])
    sheet.append([])
    weeks = [date(2025, 4, 7) + timedelta(weeks=n) for n in range(12)]
    sheet.append(["項番", "作業項目", "担当", "期限", *[f"{w.month}/{w.day}" for w in weeks]])
    sheet.append(
        ["1", "データ移行計画", "ベンダー", "R7.5.30", "●", "●", "●", "●", "●", "●", "●", "●"]
    )
    sheet.append(["2", "移行データ確認", "自治体", "R7.6月末", *[None] * 8, "●", "●", "●", "●"])
    _style_header(sheet, [3], 16)
    items: dict[str, dict[str, object]] = {
        "1": {"title": "データ移行計画", "responsibility": "vendor", "planned_end": date(2025, 5, 30)},
        "2": {"title": "移行データ確認", "responsibility": "municipality",
              "planned_end": date(2025, 6, 30), "planned_end_text": "R7.6月末"},
    }  # fmt: skip
    return Layout("Gantt, weeks", save(book), "週次計画.xlsx", items, ignored={"E:P"},
                  header_rows=[3])  # fmt: skip


def excel_table_with_totals() -> Layout:
    """An Excel Table (テーブル) with its totals row, labelled 集計 as Japanese Excel does."""
    book, sheet = _new_book("タスク一覧")
    sheet.append(["No.", "タスク名", "担当者", "担当区分", "開始日", "終了日", "進捗率", "状態"])
    rows = [
        [1, "キックオフ", "鈴木", "共同", datetime(2025, 4, 3), datetime(2025, 4, 3), 1, "完了"],
        [2, "現行業務ヒアリング", "企画課", "自治体", datetime(2025, 4, 7), datetime(2025, 4, 25), 0.6, "対応中"],
        [3, "Fit&Gap", "鈴木", "ベンダー", datetime(2025, 5, 7), datetime(2025, 6, 30), 0, "未着手"],
    ]  # fmt: skip
    for row in rows:
        sheet.append(row)
    sheet.append(["集計", None, None, None, None, None, "=SUBTOTAL(101,[進捗率])", None])
    table = Table(displayName="タスク", ref="A1:H5", totalsRowCount=1)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    sheet.add_table(table)
    for row in (2, 3, 4):
        sheet.cell(row, 7).number_format = "0%"
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "キックオフ", "assignee": "鈴木", "responsibility": "joint",
              "planned_start": d(2025, 4, 3), "planned_end": d(2025, 4, 3), "progress": 100,
              "status": "done"},
        "2": {"title": "現行業務ヒアリング", "assignee": "企画課", "responsibility": "municipality",
              "planned_start": d(2025, 4, 7), "planned_end": d(2025, 4, 25), "progress": 60,
              "status": "in_progress"},
        "3": {"title": "Fit&Gap", "assignee": "鈴木", "responsibility": "vendor",
              "planned_start": d(2025, 5, 7), "planned_end": d(2025, 6, 30), "progress": 0,
              "status": "not_started"},
    }  # fmt: skip
    return Layout("Excel Table with its totals row", save(book), "タスク.xlsx", items,
                  skipped={5: "total"}, header_rows=[1])  # fmt: skip


def english_ms_project() -> Layout:
    """Microsoft Project's export to Excel: outline numbers, its own task IDs, durations,
    resource names, a custom Owner column, links written 3FS+2d."""
    book, sheet = _new_book("Task_Table1")
    sheet.append(["ID", "Outline Number", "Task Name", "Duration", "Start", "Finish",
                  "Predecessors", "Resource Names", "% Complete", "Owner"])  # fmt: skip
    sheet.append(
        [
            1,
            "1",
            "Planning",
            "20 days",
            datetime(2025, 4, 1),
            datetime(2025, 4, 28),
            None,
            "PM",
            1,
            "Vendor",
        ]
    )
    sheet.append(
        [
            2,
            "1.1",
            "Kick-off",
            "1 day",
            datetime(2025, 4, 1),
            datetime(2025, 4, 1),
            None,
            "PM;Town office",
            1,
            "Both",
        ]
    )
    sheet.append(
        [
            3,
            "1.2",
            "Requirements",
            "15 days",
            datetime(2025, 4, 2),
            datetime(2025, 4, 22),
            "2FS+0 days",
            "SE",
            0.5,
            "Vendor",
        ]
    )
    sheet.append([4, "2", "Data migration", "40 days", datetime(2025, 5, 1), datetime(2025, 6, 25), "1", None, 0, "Customer"])  # fmt: skip
    for row in range(2, 6):
        sheet.cell(row, 9).number_format = "0%"
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "Planning", "planned_start": d(2025, 4, 1), "planned_end": d(2025, 4, 28),
              "assignee": "PM", "progress": 100, "status": "done", "responsibility": "vendor"},
        "1.1": {"title": "Kick-off", "planned_start": d(2025, 4, 1), "planned_end": d(2025, 4, 1),
                "assignee": "PM;Town office", "progress": 100, "status": "done",
                "responsibility": "joint"},
        "1.2": {"title": "Requirements", "planned_start": d(2025, 4, 2),
                "planned_end": d(2025, 4, 22), "predecessors": ["2"], "assignee": "SE",
                "progress": 50, "status": "in_progress", "responsibility": "vendor"},
        "2": {"title": "Data migration", "planned_start": d(2025, 5, 1),
              "planned_end": d(2025, 6, 25), "predecessors": ["1"], "progress": 0,
              "status": "not_started", "responsibility": "municipality"},
    }  # fmt: skip
    return Layout("Microsoft Project export", save(book), "plan.xlsx", items, ignored={"A", "D"},
                  header_rows=[1])  # fmt: skip


def english_vendor_sheet() -> Layout:
    """An English vendor's sheet: ISO dates as text, status words, notes with line breaks."""
    book, sheet = _new_book("WBS")
    sheet.append(["Project: Resident Registry Migration"])
    sheet.append(["Customer: Sakura Town", None, None, "Rev. 3"])
    sheet.append(["WBS", "Task", "Owner", "Start", "End", "Status", "Notes"])
    sheet.append(["1", "Project setup", "Vendor", "2025-04-01", "2025-04-15", "Complete", None])
    sheet.append(["1.1", "Governance", "Both", "2025-04-01", "2025-04-10", "In Progress",
                  "Weekly meeting\nevery Tuesday"])  # fmt: skip
    sheet.append(
        ["1.2", "Data owners", "Customer", "2025-04-08", "2025-04-15", "Not Started", None]
    )
    sheet.append(["1.3", "Legacy interface", "Vendor", None, None, "N/A", "Not used by the town"])
    _style_header(sheet, [3], 7)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "Project setup", "responsibility": "vendor", "planned_start": d(2025, 4, 1),
              "planned_end": d(2025, 4, 15), "status": "done"},
        "1.1": {"title": "Governance", "responsibility": "joint", "planned_start": d(2025, 4, 1),
                "planned_end": d(2025, 4, 10), "status": "in_progress",
                "notes": "Weekly meeting\nevery Tuesday"},
        "1.2": {"title": "Data owners", "responsibility": "municipality",
                "planned_start": d(2025, 4, 8), "planned_end": d(2025, 4, 15),
                "status": "not_started"},
        "1.3": {"title": "Legacy interface", "responsibility": "vendor", "status": "not_applicable",
                "notes": "Not used by the town"},
    }  # fmt: skip
    return Layout("English vendor sheet", save(book), "wbs_en.xlsx", items, header_rows=[3])


def level_columns() -> Layout:
    """大項目/中項目/小項目 in merged cells, no codes: the codes are made up, the groups made."""
    book, sheet = _new_book("WBS")
    _title_block(sheet, "移行作業WBS", 7, [])
    sheet.append(["大項目", "中項目", "小項目", "担当", "開始予定日", "終了予定日", "成果物"])
    for row in (
        ["計画", "体制", "体制図作成", "ベンダ", "2025/10/6", "2025/10/17", "体制図"],
        [None, None, "連絡先確認", "町", "2025/10/14", "2025/10/20", None],
        [None, "計画書", "計画書作成", "ベンダー", "R7.10.6", "R7.10.31", "移行計画書\n（第1版）"],
        ["移行", "データ", "抽出依頼", "団体・ベンダ", "令和7年11月", "8年1月", None],
    ):
        sheet.append(row)
    sheet.merge_cells("A4:A6")
    sheet.merge_cells("B4:B5")
    _style_header(sheet, [3], 7)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "計画", "responsibility": "joint", "planned_start": d(2025, 10, 6),
              "planned_end": d(2025, 10, 31)},
        "1.1": {"title": "体制", "responsibility": "joint", "planned_start": d(2025, 10, 6),
                "planned_end": d(2025, 10, 20), "parent_code": "1"},
        "1.1.1": {"title": "体制図作成", "responsibility": "vendor", "planned_start": d(2025, 10, 6),
                  "planned_end": d(2025, 10, 17), "deliverable": "体制図", "parent_code": "1.1"},
        "1.1.2": {"title": "連絡先確認", "responsibility": "municipality",
                  "planned_start": d(2025, 10, 14), "planned_end": d(2025, 10, 20),
                  "parent_code": "1.1"},
        "1.2": {"title": "計画書", "responsibility": "vendor", "planned_start": d(2025, 10, 6),
                "planned_end": d(2025, 10, 31), "parent_code": "1"},
        "1.2.1": {"title": "計画書作成", "responsibility": "vendor", "planned_start": d(2025, 10, 6),
                  "planned_end": d(2025, 10, 31), "deliverable": "移行計画書\n（第1版）",
                  "parent_code": "1.2"},
        "2": {"title": "移行", "responsibility": "joint", "planned_start": d(2025, 11, 1),
              "planned_end": d(2026, 1, 31)},
        "2.1": {"title": "データ", "responsibility": "joint", "planned_start": d(2025, 11, 1),
                "planned_end": d(2026, 1, 31), "parent_code": "2"},
        "2.1.1": {"title": "抽出依頼", "responsibility": "joint", "planned_start": d(2025, 11, 1),
                  "planned_start_text": "令和7年11月", "planned_end": d(2026, 1, 31),
                  "planned_end_text": "8年1月", "parent_code": "2.1"},
    }  # fmt: skip
    return Layout("level columns only", save(book), "levels.xlsx", items, header_rows=[3])


def indentation_only() -> Layout:
    """No codes, no levels: the outline is the title's indentation (Excel's indent and leading
    full-width spaces)."""
    book, sheet = _new_book("作業予定")
    sheet.append(["作業名", "担当", "期限", "備考"])
    for row in (
        ["要件定義", "共同", "2025/6/30", None],
        ["現行業務の整理", "自治体", "2025/5/31", None],
        ["　　標準仕様との比較", "ベンダー", "2025/6/15", "※差分は別紙"],
        ["設計", "ベンダー", "2025/8/29", None],
    ):
        sheet.append(row)
    sheet["A3"].alignment = Alignment(indent=1)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "要件定義", "responsibility": "joint", "planned_end": d(2025, 6, 30)},
        "1.1": {"title": "現行業務の整理", "responsibility": "municipality",
                "planned_end": d(2025, 5, 31), "parent_code": "1"},
        "1.1.1": {"title": "標準仕様との比較", "responsibility": "vendor",
                  "planned_end": d(2025, 6, 15), "notes": "※差分は別紙", "parent_code": "1.1"},
        "2": {"title": "設計", "responsibility": "vendor", "planned_end": d(2025, 8, 29)},
    }  # fmt: skip
    return Layout("indentation only", save(book), "indent.xlsx", items, header_rows=[1])


def cover_history_legend_example() -> Layout:
    """The WBS behind a cover, a revision history, a legend and a filled-in example sheet."""
    book, sheet = _new_book("WBS")
    sheet.append(["項番", "作業項目", "担当", "終了予定日"])
    sheet.append(["1", "移行計画書作成", "ベンダー", "R8.1.30"])
    sheet.append(["2", "移行判定", "共同", "R8.3.13"])
    example = book.create_sheet("記入例")
    example.append(["項番", "作業項目", "担当", "終了予定日"])
    example.append(["1", "（例）体制図作成", "ベンダー", "R7.4.30"])
    _side_sheets(book)
    items: dict[str, dict[str, object]] = {
        "1": {"title": "移行計画書作成", "responsibility": "vendor", "planned_end": date(2026, 1, 30)},
        "2": {"title": "移行判定", "responsibility": "joint", "planned_end": date(2026, 3, 13)},
    }  # fmt: skip
    return Layout("cover, history, legend and example sheets", save(book), "book.xlsx", items,
                  header_rows=[1], sheet="WBS")  # fmt: skip


def completion_marks() -> Layout:
    """A 完了 column ticked with 済, ○, 〇 or ✓, blank while not done; no status column."""
    book, sheet = _new_book("チェックリスト")
    sheet.append(["項番", "作業項目", "担当", "期限", "完了", "備考"])
    for row in (
        ["1", "住民記録データの抽出", "自治体", "R7.6.30", "済", None],
        ["2", "文字の同定", "ベンダー", "R7.7.31", "○", None],
        ["3", "外字一覧の確認", "自治体", "R7.8.29", "〇", None],
        ["4", "移行データの検証", "共同", "R7.9.30", "✓", "※2回目"],
        ["5", "本番移行", "ベンダー", "R8.1.5", None, None],
    ):
        sheet.append(row)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "住民記録データの抽出", "responsibility": "municipality",
              "planned_end": d(2025, 6, 30), "status": "done"},
        "2": {"title": "文字の同定", "responsibility": "vendor", "planned_end": d(2025, 7, 31),
              "status": "done"},
        "3": {"title": "外字一覧の確認", "responsibility": "municipality",
              "planned_end": d(2025, 8, 29), "status": "done"},
        "4": {"title": "移行データの検証", "responsibility": "joint", "planned_end": d(2025, 9, 30),
              "status": "done", "notes": "※2回目"},
        "5": {"title": "本番移行", "responsibility": "vendor", "planned_end": d(2026, 1, 5),
              "status": "not_started"},
    }  # fmt: skip
    return Layout("completion marks", save(book), "check.xlsx", items, header_rows=[1])


def people_beside_their_side() -> Layout:
    """担当 holds people and departments, 担当区分 beside it holds the side."""
    book, sheet = _new_book("WBS")
    sheet.append(["項番", "作業項目", "担当", "担当区分", "期限"])
    for row in (
        ["1", "帳票レイアウト確認", "山田", "自治体", "R7.9.30"],
        ["2", "帳票の修正", "SE 佐藤", "ベンダー", "R7.10.31"],
        ["3", "帳票の最終確認", "住民課", "共同", "R7.11.28"],
    ):
        sheet.append(row)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "帳票レイアウト確認", "assignee": "山田", "responsibility": "municipality",
              "planned_end": d(2025, 9, 30)},
        "2": {"title": "帳票の修正", "assignee": "SE 佐藤", "responsibility": "vendor",
              "planned_end": d(2025, 10, 31)},
        "3": {"title": "帳票の最終確認", "assignee": "住民課", "responsibility": "joint",
              "planned_end": d(2025, 11, 28)},
    }  # fmt: skip
    return Layout("担当 names beside 担当区分", save(book), "tanto.xlsx", items, header_rows=[1])


def people_then_role() -> Layout:
    """担当 (people) first, then 役割 (the side) after it."""
    book, sheet = _new_book("WBS")
    sheet.append(["No", "タスク", "担当", "役割", "開始", "終了"])
    for row in (
        ["1", "移行方針の決定", "情報政策課", "町", "2025/4/1", "2025/4/30"],
        ["2", "移行ツール準備", "高橋", "ベンダー", "2025/5/1", "2025/5/30"],
    ):
        sheet.append(row)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "移行方針の決定", "assignee": "情報政策課", "responsibility": "municipality",
              "planned_start": d(2025, 4, 1), "planned_end": d(2025, 4, 30)},
        "2": {"title": "移行ツール準備", "assignee": "高橋", "responsibility": "vendor",
              "planned_start": d(2025, 5, 1), "planned_end": d(2025, 5, 30)},
    }  # fmt: skip
    return Layout("担当 then 役割", save(book), "yakuwari.xlsx", items, header_rows=[1])


def periods_in_one_cell() -> Layout:
    """期間 in one cell, in each way people write one; the title's 年度 gives 4/1〜6/30 its year."""
    book, sheet = _new_book("スケジュール")
    _title_block(sheet, "令和7年度 住民記録システム 移行スケジュール", 5, [])
    sheet.append(["項番", "作業項目", "担当", "期間", "備考"])
    for row in (
        ["1", "要件確認", "共同", "4/1〜6/30", None],
        ["2", "設計", "ベンダー", "2025/7/1～2025/9/30", None],
        ["3", "テスト", "ベンダー", "R7.10.1～R7.12.26", None],
        ["4", "研修", "自治体", "令和8年1月～2月", None],
        ["5", "本番稼働", "共同", "R8.3月", "切替は3月中"],
    ):
        sheet.append(row)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "要件確認", "responsibility": "joint", "planned_start": d(2025, 4, 1),
              "planned_start_text": "4/1", "planned_end": d(2025, 6, 30), "planned_end_text": "6/30"},
        "2": {"title": "設計", "responsibility": "vendor", "planned_start": d(2025, 7, 1),
              "planned_end": d(2025, 9, 30)},
        "3": {"title": "テスト", "responsibility": "vendor", "planned_start": d(2025, 10, 1),
              "planned_end": d(2025, 12, 26)},
        "4": {"title": "研修", "responsibility": "municipality", "planned_start": d(2026, 1, 1),
              "planned_start_text": "令和8年1月", "planned_end": d(2026, 2, 28),
              "planned_end_text": "2月"},
        "5": {"title": "本番稼働", "responsibility": "joint", "planned_start": d(2026, 3, 1),
              "planned_start_text": "R8.3月", "planned_end": d(2026, 3, 31),
              "planned_end_text": "R8.3月", "notes": "切替は3月中"},
    }  # fmt: skip
    _national(items, "住民記録", {})  # from the title block
    return Layout("periods in one cell", save(book), "period.xlsx", items, header_rows=[3])


def parent_notations() -> Layout:
    """Parents written as chapters and bracketed numbers: 第1章, (2), 3), （3）."""
    book, sheet = _new_book("WBS")
    sheet.append(["項番", "親項番", "作業項目", "担当"])
    for row in (
        ["1", None, "計画", "ベンダー"],
        ["2", None, "設計", "ベンダー"],
        ["3", None, "移行", "共同"],
        ["11", "第1章", "体制整備", "自治体"],
        ["21", "(2)", "基本設計", "ベンダー"],
        ["31", "3)", "移行計画", "ベンダー"],
        ["32", "（3）", "移行判定", "共同"],
    ):
        sheet.append(row)
    items: dict[str, dict[str, object]] = {
        "1": {"title": "計画", "responsibility": "vendor"},
        "2": {"title": "設計", "responsibility": "vendor"},
        "3": {"title": "移行", "responsibility": "joint"},
        "11": {"title": "体制整備", "responsibility": "municipality", "parent_code": "1"},
        "21": {"title": "基本設計", "responsibility": "vendor", "parent_code": "2"},
        "31": {"title": "移行計画", "responsibility": "vendor", "parent_code": "3"},
        "32": {"title": "移行判定", "responsibility": "joint", "parent_code": "3"},
    }  # fmt: skip
    return Layout("parent notations", save(book), "parents.xlsx", items, header_rows=[1])


_TEXT_ITEMS: dict[str, dict[str, object]] = {
    "1": {"title": '計画書作成 "A案"', "responsibility": "vendor", "planned_end": date(2025, 4, 30),
          "notes": "第1版, 第2版の2回"},
    "2": {"title": "データ抽出", "responsibility": "municipality", "planned_end": date(2025, 5, 31),
          "planned_end_text": "R7.5月末", "notes": "抽出条件は\n別紙のとおり"},
    "3": {"title": "受入テスト", "responsibility": "joint", "planned_end": date(2026, 3, 31),
          "planned_end_text": "R7年度末"},
}  # fmt: skip
_TEXT_ROWS = [
    ["項番", "作業項目", "担当", "期限", "備考"],
    ["1", '"計画書作成 ""A案"""', "ベンダー", "R7.4.30", '"第1版, 第2版の2回"'],
    ["2", "データ抽出", "自治体", "R7.5月末", '"抽出条件は\r\n別紙のとおり"'],
    ["3", "受入テスト", "共同", "R7年度末", ""],
]


def _text(separator: str, encoding: str) -> bytes:
    text = "".join(separator.join(row) + "\r\n" for row in _TEXT_ROWS)
    data = text.encode(encoding)
    return codecs.BOM_UTF16_LE + data if encoding == "utf-16-le" else data


def csv_cp932_vendor_tool() -> Layout:
    """A vendor tool's CSV: Shift_JIS (CP932), comma-separated, quotes doubled inside quotes."""
    return Layout("CSV in CP932", _text(",", "cp932"), "wbs_export.csv", _TEXT_ITEMS,
                  header_rows=[1])  # fmt: skip


def tsv_cp932_doubled_quotes() -> Layout:
    """Tab-separated CP932 from Excel's テキスト (タブ区切り), quotes doubled inside quotes."""
    return Layout("TSV in CP932", _text("\t", "cp932"), "wbs.txt", _TEXT_ITEMS, header_rows=[1])


def unicode_text_txt() -> Layout:
    """Excel's 「Unicode テキスト」: UTF-16 LE with its byte-order mark, tab-separated, .txt."""
    return Layout("Unicode text (.txt)", _text("\t", "utf-16-le"), "wbs_unicode.txt",
                  _TEXT_ITEMS, header_rows=[1])  # fmt: skip


def unicode_text_csv() -> Layout:
    """The same Unicode text saved under a .csv name, as people rename it."""
    return Layout("Unicode text (.csv)", _text("\t", "utf-16-le"), "wbs_unicode.csv",
                  _TEXT_ITEMS, header_rows=[1])  # fmt: skip


def three_parties() -> Layout:
    """役割分担 over three party columns (市, ベンダ, 県), ◎○△, with 予定/実績 groups."""
    book, sheet = _new_book("WBS")
    _title_block(sheet, "みどり市 標準化WBS", 10, ["版数", "1.0"], [])
    sheet.append(["No.", "作業項目", "役割分担", None, None, "予定", None, "実績", None, "状況"])
    sheet.append([None, None, "市", "ベンダ", "県", "開始", "終了", "開始", "終了", None])
    for row in (
        ["1", "移行計画の策定", "○", "◎", "△", "R7.4.1", "R7.5.30", "R7.4.1", "R7.5.28", "完了"],
        ["2", "県システムとの連携確認", "◎", "○", "○", "R7.6.2", "R7.7.31", "R7.6.2", None, "遅延"],
        ["3", "庁内説明会", "◎", "△", None, "R7.8月上旬", "R7.8月中旬", None, None, "未着手"],
    ):
        sheet.append(row)
    for span in ("A4:A5", "B4:B5", "C4:E4", "F4:G4", "H4:I4", "J4:J5"):
        sheet.merge_cells(span)
    _style_header(sheet, [4, 5], 10)
    d = date
    items: dict[str, dict[str, object]] = {
        "1": {"title": "移行計画の策定", "responsibility": "joint", "planned_start": d(2025, 4, 1),
              "planned_end": d(2025, 5, 30), "actual_start": d(2025, 4, 1),
              "actual_end": d(2025, 5, 28), "status": "done"},
        "2": {"title": "県システムとの連携確認", "responsibility": "joint",
              "planned_start": d(2025, 6, 2), "planned_end": d(2025, 7, 31),
              "actual_start": d(2025, 6, 2), "status": "delayed"},
        "3": {"title": "庁内説明会", "responsibility": "municipality",
              "planned_start": d(2025, 8, 1), "planned_start_text": "R7.8月上旬",
              "planned_end": d(2025, 8, 20), "planned_end_text": "R7.8月中旬",
              "status": "not_started"},
    }  # fmt: skip
    return Layout("three party columns", save(book), "midori.xlsx", items, header_rows=[4, 5])


def status_and_progress_words() -> Layout:
    """Statuses written 未了 and －, progress written 半分 and —, as towns fill them in."""
    book, sheet = _new_book("進捗")
    sheet.append(["項番", "作業項目", "担当", "進捗率", "状況"])
    for row in (
        ["1", "庁内調整", "自治体", 30, "未了"],
        ["2", "データ確認", "自治体", 100, "－"],
        ["3", "帳票確認", "自治体", "半分", None],
        ["4", "研修準備", "ベンダー", "—", "完了"],
        ["5", "例規改正", "自治体", None, "未了"],
    ):
        sheet.append(row)
    items: dict[str, dict[str, object]] = {
        "1": {"title": "庁内調整", "responsibility": "municipality", "progress": 30,
              "status": "in_progress"},
        "2": {"title": "データ確認", "responsibility": "municipality", "progress": 100,
              "status": "done"},
        "3": {"title": "帳票確認", "responsibility": "municipality", "progress": 50,
              "status": "in_progress"},
        "4": {"title": "研修準備", "responsibility": "vendor", "progress": 100, "status": "done"},
        "5": {"title": "例規改正", "responsibility": "municipality", "progress": 0,
              "status": "not_started"},
    }  # fmt: skip
    return Layout("status and progress words", save(book), "progress.xlsx", items,
                  header_rows=[1])  # fmt: skip


LAYOUTS: list[Callable[[], Layout]] = [
    national_steps,
    national_step_rows,
    section_heading_rows,
    gantt_daily_fiscal_year,
    gantt_day_numbers,
    gantt_weekly,
    excel_table_with_totals,
    english_ms_project,
    english_vendor_sheet,
    level_columns,
    indentation_only,
    cover_history_legend_example,
    completion_marks,
    people_beside_their_side,
    people_then_role,
    periods_in_one_cell,
    parent_notations,
    csv_cp932_vendor_tool,
    tsv_cp932_doubled_quotes,
    unicode_text_txt,
    unicode_text_csv,
    three_parties,
    status_and_progress_words,
]
