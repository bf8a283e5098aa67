"""A vendor's WBS workbook at any size, as people really write them.

A title block above the header, a 予定 group header over 開始/終了, dates as real date cells,
as Reiwa text (R8.4.1), as slashed text and as 旬 ("10月下旬"), progress as a percentage cell,
role words in Japanese, predecessors by code, blank spacer rows, and a total row at the bottom.
Deterministic: the same size and seed give the same bytes' worth of rows.
"""

from __future__ import annotations

import io
import random
from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bench.generate import AS_OF, SECTION

HEADERS = ("項番", "作業項目", "担当", "担当課", "予定", None, "状況", "進捗率", "先行作業", "備考")
SUBHEADERS = (None, None, None, None, "開始", "終了", None, None, None, None)
ROLES = ("ベンダー", "自治体", "共同")
OFFICES = ("SE", "住民課", "情報政策課")


def _reiwa(day: date) -> str:
    return f"R{day.year - 2018}.{day.month}.{day.day}"


def _day_cell(sheet: WriteOnlyWorksheet, day: date, style: int) -> object:
    """The same day in the notations vendors mix within one sheet."""
    if style == 0:
        cell = WriteOnlyCell(sheet, value=day)
        cell.number_format = "yyyy/m/d"
        return cell
    if style == 1:
        return _reiwa(day)
    if style == 2:
        return f"{day.year}/{day.month}/{day.day}"
    return f"令和{day.year - 2018}年{day.month}月{day.day}日"


def workbook_bytes(rows: int, seed: int = 20260401) -> bytes:
    rng = random.Random(seed)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("WBS")
    sheet.append(["住民記録システム標準化 移行作業 WBS"])
    sheet.append(["作成: ベンダー", None, None, None, "更新日", _reiwa(AS_OF)])
    sheet.append([])
    sheet.append(list(HEADERS))
    sheet.append(list(SUBHEADERS))
    for n in range(rows):
        section, position = divmod(n, SECTION)
        code = f"{section + 1}" if position == 0 else f"{section + 1}-{position}"
        roll = rng.random()
        if roll < 0.2:
            end, status, progress = AS_OF - timedelta(days=rng.randint(1, 120)), "作業中", 0.4
        elif roll < 0.75:
            end, status, progress = AS_OF - timedelta(days=rng.randint(1, 365)), "完了", 1.0
        else:
            end, status, progress = AS_OF + timedelta(days=rng.randint(0, 365)), "未着手", 0.0
        start = end - timedelta(days=14)
        percent = WriteOnlyCell(sheet, value=progress)
        percent.number_format = "0%"
        style = n % 4
        sheet.append(
            [
                code,
                f"作業 {code}" if position else f"工程 {section + 1}",
                ROLES[n % 3],
                OFFICES[n % 3],
                _day_cell(sheet, start, style),
                _day_cell(sheet, end, style),
                status,
                percent,
                f"{section + 1}-{position - 1}" if position > 1 else None,
                "要確認" if n % 17 == 0 else None,
            ]
        )
        if position == SECTION - 1 and n % 7 == 0:
            sheet.append([])  # the spacer rows people leave between phases
    sheet.append([None, "合計", None, None, None, None, None, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
