"""Which sheet of a workbook is the WBS: covers, legends and hidden sheets aside."""

from __future__ import annotations

from collections.abc import Sequence

from importers.errors import LayoutNotFound, SheetChoiceRequired
from importers.fields import Vocabulary
from importers.layout import HEADER_SEARCH_ROWS
from importers.readings import TOP_ROWS, Detection, detect_layout
from importers.results import SheetInfo
from importers.sources import Cell, SheetSource, Source
from importers.values import key

_SIDE_SHEETS = tuple(
    key(word)
    for word in ("表紙", "凡例", "目次", "説明", "注意", "履歴", "記入例", "使い方", "cover",
                 "legend", "readme", "instructions", "index", "changelog", "history")
)  # fmt: skip

Found = list[tuple[SheetInfo, Detection | None]]


def top_rows(sheet: SheetSource) -> list[Sequence[Cell]]:
    """The rows a header is looked for in, and the rows under it its values are judged by."""
    rows = []
    for number, cells in sheet.rows():
        rows.append(cells)
        if number >= TOP_ROWS:
            break
    return rows


def values_of(cells: Sequence[Cell]) -> list[object]:
    return [cell.value for cell in cells]


def inspect_sheets(source: Source, vocabulary: Vocabulary) -> Found:
    """Each sheet with its role, and the layout of those that have a WBS header."""
    found: Found = []
    for sheet in source.sheets:
        if not sheet.visible:
            found.append((SheetInfo(sheet.name, "hidden", [], {}), None))
            continue
        detection = detect_layout([values_of(row) for row in top_rows(sheet)], vocabulary)
        if any(word in key(sheet.name) for word in _SIDE_SHEETS) and (
            detection is None or len(source.sheets) > 1
        ):
            found.append((SheetInfo(sheet.name, "side", [], {}), None))
        elif detection is None:
            found.append((SheetInfo(sheet.name, "no_header", [], {}), None))
        else:
            layout = detection.chosen.layout
            info = SheetInfo(sheet.name, "wbs", list(layout.header_rows), layout.mapping())
            found.append((info, detection))
    return found


def choose_sheet(
    source: Source, found: Found, wanted: str | None, *, mapped: bool = False
) -> tuple[SheetSource, Detection | None]:
    """The sheet named, or the only candidate; with several, the user must name one."""
    by_name = {sheet.name: sheet for sheet in source.sheets}
    candidates = [info.name for info, detection in found if detection is not None]
    if mapped and not candidates:
        # With the caller's own mapping, any visible sheet that is not a cover can be the WBS.
        candidates = [info.name for info, _ in found if info.role == "no_header"]
    if wanted is not None:
        if wanted not in by_name:
            raise SheetChoiceRequired(
                f"there is no sheet {wanted!r}; the sheets are: {', '.join(by_name)}",
                candidates=candidates,
            )
        detection = next(detection for info, detection in found if info.name == wanted)
        return by_name[wanted], detection
    if len(candidates) == 1:
        name = candidates[0]
        return by_name[name], next(detection for info, detection in found if info.name == name)
    if not candidates:
        raise LayoutNotFound(
            "no sheet has a WBS header row (such as 項番 / 作業項目 / 担当 / 期限) in its first "
            f"{HEADER_SEARCH_ROWS} rows; pass a column mapping",
            candidates=[info.name for info, _ in found],
        )
    raise SheetChoiceRequired(
        f"several sheets look like a WBS: {', '.join(candidates)}; name the one to import",
        candidates=candidates,
    )
