"""Each layout PRODUCT.md describes, built as vendors build it, read field by field."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl.styles import Alignment

from importers.errors import (
    FileTooLarge,
    ImportFileError,
    LayoutNotFound,
    SheetChoiceRequired,
    UnsupportedFile,
)
from importers.sources import Limits
from tests.importers.sheets import build, parse, rewritten, save, with_formula, workbook_bytes


def by_code(parsed: object) -> dict[str, dict[str, object]]:
    rows = parsed.rows  # type: ignore[attr-defined]
    return {
        row.code: {**row.values, "parent_code": row.parent_code, "row": row.row} for row in rows
    }


def test_title_block_two_row_merged_header_marks_and_era_dates() -> None:
    workbook, sheet = build(
        [
            ["さくら町 御中", None, None, None, None, None, None, None, None, None, None],
            ["作成日", "令和7年4月1日", None, None, "みらい情報システム株式会社"],
            [],
            [
                "項番",
                "作業項目",
                "役割分担",
                None,
                "予定",
                None,
                "実績",
                None,
                "進捗率",
                "状況",
                "備考",
            ],
            [None, None, "自治体", "ベンダー", "開始", "終了", "開始", "終了"],
            [
                "1",
                "プロジェクト計画",
                "○",
                "◎",
                "R7.4.1",
                "R7.4.30",
                "R7.4.1",
                "R7.4.28",
                1,
                "完了",
                None,
            ],
            [
                "1-1",
                "体制確認",
                "◎",
                "△",
                "令和7年4月1日",
                "4月中旬",
                None,
                None,
                0.5,
                "作業中",
                "課長確認",
            ],
            ["1-2", "計画書作成", "△", "◎", "R7.4.10", "R7年度末", None, None, None, None, None],
            ["※ ◎=主担当 ○=担当 △=支援"],
            [None],
            [
                "2",
                "現行調査\n（Fit&Gap）",
                "◎",
                None,
                "2025/5/1",
                "2025年5月下旬",
                None,
                None,
                "80%",
                "遅延",
                None,
            ],
            ["合計", None, None, None, None, None, None, None, None, None, None],
        ]
    )
    sheet.merge_cells("C4:D4")
    sheet.merge_cells("E4:F4")
    sheet.merge_cells("G4:H4")
    sheet.merge_cells("A4:A5")
    for cell in ("I6", "I7"):
        sheet[cell].number_format = "0%"
    parsed = parse(save(workbook), "wbs.xlsx")

    assert parsed.errors == []
    assert parsed.header_rows == [4, 5]
    assert parsed.mapping["marks:municipality"] == ["C"]
    assert parsed.mapping["marks:vendor"] == ["D"]
    items = by_code(parsed)
    assert list(items) == ["1", "1-1", "1-2", "2"]
    assert items["1"] | {} == {
        "title": "プロジェクト計画",
        "responsibility": "joint",
        "planned_start": date(2025, 4, 1),
        "planned_start_text": None,
        "planned_end": date(2025, 4, 30),
        "planned_end_text": None,
        "actual_start": date(2025, 4, 1),
        "actual_start_text": None,
        "actual_end": date(2025, 4, 28),
        "actual_end_text": None,
        "progress": 100,
        "status": "done",
        "notes": None,
        "parent_code": None,
        "row": 6,
    }
    assert items["1-1"]["responsibility"] == "municipality"
    assert (items["1-1"]["planned_end"], items["1-1"]["planned_end_text"]) == (
        date(2025, 4, 20),
        "4月中旬",
    )
    assert (items["1-1"]["progress"], items["1-1"]["status"], items["1-1"]["notes"]) == (
        50,
        "in_progress",
        "課長確認",
    )
    assert items["1-2"]["responsibility"] == "vendor"
    assert (items["1-2"]["planned_end"], items["1-2"]["planned_end_text"]) == (
        date(2026, 3, 31),
        "R7年度末",
    )
    assert (items["1-2"]["status"], items["1-2"]["progress"]) == ("not_started", 0)
    assert items["2"]["title"] == "現行調査 （Fit&Gap）"
    assert items["2"]["planned_end"] == date(2025, 5, 31)
    assert (items["2"]["progress"], items["2"]["status"]) == (80, "delayed")
    reasons = {d.row: d.message for d in parsed.skipped}
    assert "note" in reasons[9]
    assert "blank" in reasons[10]
    assert "total" in reasons[12]


def test_english_sheet_with_date_cells_and_project_style_links() -> None:
    data = workbook_bytes(
        (
            "Tasks",
            [
                [
                    "WBS",
                    "Task Name",
                    "Owner",
                    "Start",
                    "Finish",
                    "% Complete",
                    "Status",
                    "Predecessors",
                    "Notes",
                    "Cost",
                ],
                [
                    "1",
                    "Planning",
                    "Vendor",
                    datetime(2025, 4, 1),
                    datetime(2025, 4, 30),
                    100,
                    "Done",
                    None,
                    None,
                    100,
                ],
                [
                    "1.1",
                    "Kick-off",
                    "Both",
                    datetime(2025, 4, 2),
                    datetime(2025, 4, 2),
                    0,
                    "Not started",
                    "1FS+2d",
                    "x",
                    5,
                ],
                [
                    "1.2",
                    "Data extract",
                    "Customer",
                    datetime(2025, 5, 1),
                    datetime(2025, 5, 9),
                    40,
                    "In Progress",
                    "1, 1.1",
                    None,
                    1,
                ],
                [
                    "1.3",
                    "Sign-off",
                    "Municipality / Vendor",
                    None,
                    None,
                    None,
                    "N/A",
                    None,
                    None,
                    None,
                ],
            ],
        )
    )
    parsed = parse(data, "plan.xlsx")
    assert parsed.errors == []
    assert [(i.column, i.header) for i in parsed.ignored_columns] == [("J", "Cost")]
    items = by_code(parsed)
    assert items["1"]["responsibility"] == "vendor"
    assert items["1.1"]["responsibility"] == "joint"
    assert items["1.1"]["predecessors"] == ["1"]
    assert items["1.2"]["responsibility"] == "municipality"
    assert items["1.2"]["predecessors"] == ["1", "1.1"]
    assert (items["1.2"]["planned_start"], items["1.2"]["planned_end"]) == (
        date(2025, 5, 1),
        date(2025, 5, 9),
    )
    assert (items["1.2"]["status"], items["1.2"]["progress"]) == ("in_progress", 40)
    assert items["1.3"]["responsibility"] == "joint"
    assert (items["1.3"]["status"], items["1.3"]["progress"]) == ("not_applicable", 100)


def test_level_columns_with_merged_cells_make_up_codes_and_groups() -> None:
    workbook, sheet = build(
        [
            ["大項目", "中項目", "小項目", "担当", "担当課", "開始予定日", "終了予定日", "成果物"],
            ["計画", "体制", "体制図作成", "ベンダ", "PM", "2015/10/5", "2015/10/16", "体制図"],
            [None, None, "連絡先確認", "町", "企画課", 42292, "2015.10.20", None],
            [None, "計画書", "計画書作成", "ベンダー", None, "H27.10.5", "H27.10.30", "計画書"],
            ["移行", "データ", "抽出依頼", "団体・ベンダ", None, "平成27年11月", "28年1月", None],
        ]
    )
    sheet.merge_cells("A2:A4")
    sheet.merge_cells("B2:B3")
    parsed = parse(save(workbook), "levels.xlsx")
    assert parsed.errors == []
    items = by_code(parsed)
    assert [(code, items[code]["title"], items[code]["parent_code"]) for code in items] == [
        ("1", "計画", None),
        ("1.1", "体制", "1"),
        ("1.1.1", "体制図作成", "1.1"),
        ("1.1.2", "連絡先確認", "1.1"),
        ("1.2", "計画書", "1"),
        ("1.2.1", "計画書作成", "1.2"),
        ("2", "移行", None),
        ("2.1", "データ", "2"),
        ("2.1.1", "抽出依頼", "2.1"),
    ]
    assert items["1.1.1"]["responsibility"] == "vendor"
    assert items["1.1.2"]["responsibility"] == "municipality"
    assert items["1.1.2"]["assignee"] == "企画課"
    assert items["1.1.2"]["planned_start"] == date(2015, 10, 15)
    assert items["1.1"]["responsibility"] == "joint"
    assert (items["1.1"]["planned_start"], items["1.1"]["planned_end"]) == (
        date(2015, 10, 5),
        date(2015, 10, 20),
    )
    assert items["1.2"]["responsibility"] == "vendor"
    assert items["2.1.1"]["responsibility"] == "joint"
    assert (items["2.1.1"]["planned_start"], items["2.1.1"]["planned_end"]) == (
        date(2015, 11, 1),
        date(2016, 1, 31),
    )
    assert items["2.1.1"]["planned_end_text"] == "28年1月"


def test_indented_titles_without_codes_form_the_outline() -> None:
    workbook, sheet = build(
        [
            ["作業名", "担当", "期限"],
            ["要件定義", "共同", "2025/6/30"],
            ["現行業務の整理", "自治体", "2025/5/31"],
            ["　　標準仕様との比較", "ベンダー", "2025/6/15"],
            ["設計", "ベンダー", "2025/8/31"],
        ]
    )
    sheet["A3"].alignment = Alignment(indent=1)
    parsed = parse(save(workbook), "indent.xlsx")
    assert parsed.errors == []
    items = by_code(parsed)
    assert [(code, items[code]["title"], items[code]["parent_code"]) for code in items] == [
        ("1", "要件定義", None),
        ("1.1", "現行業務の整理", "1"),
        ("1.1.1", "標準仕様との比較", "1.1"),
        ("2", "設計", None),
    ]


def test_lettered_and_full_width_and_circled_codes() -> None:
    data = workbook_bytes(
        (
            "WBS",
            [
                ["No.", "作業項目", "担当"],
                ["１", "準備", "ベンダー"],
                ["１－２", "調整", "自治体"],
                ["ア)", "日程調整", "自治体"],
                ["イ)", "会場確保", "自治体"],
                ["②", "研修", "共同"],
                ["②-1", "研修計画", "ベンダー"],
                ["2.1.3.", "細目", "ベンダー"],
            ],
        )
    )
    parsed = parse(data, "codes.xlsx")
    assert parsed.errors == []
    items = by_code(parsed)
    assert list(items) == ["1", "1-2", "1-2-ア", "1-2-イ", "2", "2-1", "2.1.3"]
    assert items["1-2-ア"]["parent_code"] == "1-2"
    assert items["1-2-イ"]["parent_code"] == "1-2"
    assert items["1-2-イ"]["title"] == "会場確保"
    assert items["2-1"]["parent_code"] is None


def test_formula_cells_read_as_their_cached_values() -> None:
    workbook, sheet = build(
        [["項番", "作業項目", "担当", "進捗率"], ["1", "作業", "ベンダー", 0.25]]
    )
    sheet["D2"].number_format = "0%"
    data = with_formula(save(workbook), "D2", "1/4")
    assert by_code(parse(data, "f.xlsx"))["1"]["progress"] == 25


def test_1904_workbooks_read_serial_numbers_in_their_own_epoch() -> None:
    data = workbook_bytes(
        ("WBS", [["項番", "作業項目", "担当", "期限"], ["1", "作業", "ベンダー", 40000]]),
        epoch_1904=True,
    )
    assert by_code(parse(data, "mac.xlsx"))["1"]["planned_end"] == date(2013, 7, 7)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp932"])
def test_csv_in_utf8_with_or_without_bom_and_shift_jis(encoding: str) -> None:
    text = "項番,作業項目,担当,期限,進捗率,状況\r\n1,移行計画,ベンダー,R7.3.31,50%,作業中\r\n2,データ確認,自治体,令和7年10月下旬,,\r\n"
    parsed = parse(text.encode(encoding), "wbs.csv")
    assert parsed.errors == []
    items = by_code(parsed)
    assert items["1"]["planned_end"] == date(2025, 3, 31)
    assert (items["1"]["progress"], items["1"]["status"]) == (50, "in_progress")
    assert (items["2"]["planned_end"], items["2"]["planned_end_text"]) == (
        date(2025, 10, 31),
        "令和7年10月下旬",
    )
    assert items["2"]["responsibility"] == "municipality"


def test_every_error_in_one_answer_with_sheet_row_column_and_value() -> None:
    data = workbook_bytes(
        (
            "WBS",
            [
                ["項番", "作業項目", "担当", "開始予定日", "終了予定日", "状況"],
                ["1", "a", "ベンダー", "2025/4/1", "2025/4/30", "完了"],
                ["1", "b", "ベンダー", None, None, None],
                ["2", "c", "外注先", None, None, None],
                ["3", "d", "自治体", None, "平成27年13月40日", None],
                ["4", "e", "自治体", "2025/5/1", "2025/4/1", None],
                ["5", "f", "自治体", None, None, "たぶん"],
            ],
        )
    )
    parsed = parse(data, "bad.xlsx")
    found = {(e.row, e.column): e for e in parsed.errors}
    # Row 6 reads fine: that its end is before its start is the service's rule to check.
    assert set(found) == {(3, "A"), (4, "C"), (5, "E"), (7, "F")}
    assert all(e.sheet == "WBS" for e in parsed.errors)
    assert "row 2" in found[(3, "A")].message
    assert found[(4, "C")].value == "外注先"
    assert found[(5, "E")].value == "平成27年13月40日"
    assert found[(7, "F")].value == "たぶん"


def test_cover_and_legend_sheets_are_ignored_and_several_wbs_sheets_need_a_name() -> None:
    wbs = [["項番", "作業項目", "担当"], ["1", "作業", "ベンダー"]]
    data = workbook_bytes(
        ("表紙", [["住民記録システム標準化 WBS"]]), ("凡例", [["◎", "主担当"]]), ("WBS", wbs)
    )
    parsed = parse(data, "book.xlsx")
    assert parsed.sheet == "WBS"
    assert {s.name: s.role for s in parsed.sheets} == {"表紙": "side", "凡例": "side", "WBS": "wbs"}

    two = workbook_bytes(("A町", wbs), ("B市", wbs))
    with pytest.raises(SheetChoiceRequired) as choice:
        parse(two, "two.xlsx")
    assert choice.value.details["candidates"] == ["A町", "B市"]
    assert parse(two, "two.xlsx", sheet="B市").sheet == "B市"
    with pytest.raises(SheetChoiceRequired):
        parse(two, "two.xlsx", sheet="C村")


def test_a_mapping_rescues_a_sheet_detection_cannot_read() -> None:
    data = workbook_bytes(("WBS", [["番", "やること", "誰"], ["1", "作業", "ベンダー"]]))
    with pytest.raises(LayoutNotFound):
        parse(data, "odd.xlsx")
    parsed = parse(
        data, "odd.xlsx", mapping={"code": "A", "title": "やること", "responsibility": "C"}
    )
    assert by_code(parsed)["1"]["responsibility"] == "vendor"
    assert parsed.mapping == {"code": ["A"], "title": ["B"], "responsibility": ["C"]}
    with pytest.raises(LayoutNotFound, match="not a field"):
        parse(data, "odd.xlsx", mapping={"owner": "C", "title": "B"})


def _zip(**members: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _ole2(stream: str) -> bytes:
    """The first bytes of an Office 97-2003 file whose directory names this stream."""
    return (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + stream.encode("utf-16-le")
        + b"\x00" * 64
    )


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (_ole2("Workbook"), "old.xls", "legacy Excel 97-2003 workbook (.xls)"),
        (_ole2("EncryptedPackage"), "wbs.xlsx", "password-protected Excel workbook"),
        (_ole2("WordDocument"), "wbs.xls", "a Word document (.doc)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xls", "save it as .xlsx"),
        (_zip(**{"word/document.xml": "<w/>"}), "letter.xlsx", "a Word document (.docx)"),
        (_zip(**{"ppt/presentation.xml": "<p/>"}), "slides.xlsx", "PowerPoint presentation"),
        (
            _zip(mimetype="application/vnd.oasis.opendocument.spreadsheet"),
            "wbs.xlsx",
            "OpenDocument spreadsheet (.ods",
        ),
        (_zip(**{"a.txt": "x"}), "archive.xlsx", "a zip archive of other files"),
        (b"%PDF-1.7", "wbs.pdf", "a PDF document"),
        (b"%PDF-1.7", "wbs.csv", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n", "screenshot.xlsx", "a PNG image"),
        (b"<!DOCTYPE html><html><table>", "wbs.xls.csv", "a web page (HTML)"),
        (
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
            "wbs.xml",
            "an Excel 2003 XML spreadsheet",
        ),
        (b"", "wbs.csv", "empty"),
        (b"PK\x03\x04broken", "wbs.xlsx", "damaged"),
        (b"a,b\n1,2\n", "wbs.xlsx", "not a workbook"),
        (b"plain", "wbs.docx", "not supported"),
    ],
)
def test_files_that_are_not_workbooks_get_415_naming_what_they_are(
    data: bytes, name: str, says: str
) -> None:
    with pytest.raises(UnsupportedFile) as refused:
        parse(data, name)
    assert says in refused.value.message


def test_a_workbook_under_another_name_is_refused_as_what_it_is() -> None:
    good = workbook_bytes(("WBS", [["項番", "作業項目"], ["1", "x"]]))
    with pytest.raises(UnsupportedFile, match="holds a zip archive"):
        parse(good, "wbs.csv")


def test_caps_answer_413_before_reading_too_much() -> None:
    good = workbook_bytes(
        ("WBS", [["項番", "作業項目"], *[[str(n), "x" * 50] for n in range(1, 40)]])
    )
    with pytest.raises(FileTooLarge, match="MiB"):
        parse(good, "wbs.xlsx", limits=Limits(max_upload_bytes=1000))
    with pytest.raises(FileTooLarge, match=r"when unpacked, .* which a real WBS never does"):
        parse(good, "wbs.xlsx", limits=Limits(max_uncompressed_bytes=2000))
    with pytest.raises(FileTooLarge, match="rows"):
        parse(good, "wbs.xlsx", limits=Limits(max_rows=1, max_upload_bytes=10**7))
    with pytest.raises(FileTooLarge, match=r"cell B2 \(column B\) holds 50 characters"):
        parse(good, "wbs.xlsx", limits=Limits(max_cell_chars=10))
    wide = workbook_bytes(("WBS", [["項番", "作業項目", *["x"] * 30]]))
    with pytest.raises(FileTooLarge, match="columns"):
        parse(wide, "wbs.xlsx", limits=Limits(max_columns=10))


def test_macro_enabled_workbooks_import_and_their_macros_are_never_run() -> None:
    plain = workbook_bytes(("WBS", [["項番", "作業項目", "担当"], ["1", "作業", "ベンダー"]]))
    source = zipfile.ZipFile(io.BytesIO(plain))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            target.writestr(info, content)
        target.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not a real project: never executed")
    parsed = parse(out.getvalue(), "wbs.xlsm")
    assert by_code(parsed)["1"]["responsibility"] == "vendor"


def test_csv_with_stray_carriage_returns_is_read_or_named_not_crashed() -> None:
    parsed = parse("項番,作業項目,担当\r\n1,計画\r書作成,ベンダー\r\n".encode(), "wbs.csv")
    assert parsed.rows[0].values["title"] == "計画 書作成"
    with pytest.raises(ImportFileError, match="line 2"):
        parse("項番,作業項目\n".encode() + b"1," + b"x" * 200_000 + b"\n", "huge.csv")


ENTITY_ATTACKS = {
    # An internal entity, expanded silently by the parser before: "billion laughs" grow so.
    "entity": b'<!DOCTYPE worksheet [<!ENTITY x "\xe4\xbd\x9c\xe6\xa5\xad">]>',
    # An external one, which a resolving parser would fetch from the server's own disk.
    "external": b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
}


@pytest.mark.parametrize("attack", ENTITY_ATTACKS)
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_workbooks_declaring_xml_entities_are_refused_as_not_normal(attack: str, part: str) -> None:
    good = workbook_bytes(("WBS", [["項番", "作業項目", "担当"], ["1", "作業", "ベンダー"]]))

    def poison(xml: bytes) -> bytes:
        declared = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ENTITY_ATTACKS[attack] + xml
        return declared.replace("作業".encode(), b"&x;", 1)

    with pytest.raises(UnsupportedFile, match="not a normal Excel workbook") as refused:
        parse(rewritten(good, part, poison), "wbs.xlsx")
    assert part in refused.value.message
    assert "entities" in refused.value.message


def test_a_sheet_that_is_not_well_formed_xml_is_refused_not_crashed() -> None:
    good = workbook_bytes(("WBS", [["項番", "作業項目", "担当"], ["1", "作業", "ベンダー"]]))
    broken = rewritten(
        good, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("作業".encode(), b"&x;", 1)
    )
    with pytest.raises(UnsupportedFile, match="not a normal Excel workbook"):
        parse(broken, "wbs.xlsx")


def test_the_national_procedure_example_of_the_docs() -> None:
    workbook, sheet = build(
        [
            ["住民記録システム標準化 作業計画"],
            [],
            [],
            ["大項目", "項番", "作業項目", "役割分担", None, "予定", None, "進捗率"],
            [None, None, None, "団体", "事業者", "開始", "終了"],
            ["① 推進体制の立上げ", "①-1", "推進体制の検討", "◎", "○", "R7.4.1", "R7.4月下旬", 100],
            [None, "①-2", "庁内への周知", "◎", "△", "R7.4.21", "R7.5.9", 50],
            ["③ 標準仕様との比較分析", "③-2", "差異への対応方針", "◎", "◎", "R7.8.1", "R7.10月", 0],
            [None, "③-2-ア", "業務運用の見直し", "◎", "△", "R7.8.1", "R7.9.30", 0],
            [None, "ウ)", "例規改正の要否確認", "◎", None, "R7.9.1", "R7.10月", 0],
        ]
    )
    for span in ("A4:A5", "B4:B5", "C4:C5", "D4:E4", "F4:G4", "H4:H5", "A6:A7", "A8:A10"):
        sheet.merge_cells(span)
    items = by_code(parse(save(workbook), "national.xlsx"))
    shown = {
        code: (v["title"], v["parent_code"], v["responsibility"], v["planned_start"],
               v["planned_end"], v.get("status"))
        for code, v in items.items()
    }  # fmt: skip
    d = date
    assert shown == {
        "1": ("推進体制の立上げ", None, "joint", d(2025, 4, 1), d(2025, 5, 9), "in_progress"),
        "1-1": ("推進体制の検討", None, "joint", d(2025, 4, 1), d(2025, 4, 30), "done"),
        "1-2": ("庁内への周知", None, "municipality", d(2025, 4, 21), d(2025, 5, 9), "in_progress"),
        "3": ("標準仕様との比較分析", None, "joint", d(2025, 8, 1), d(2025, 10, 31), None),
        "3-2": ("差異への対応方針", None, "joint", d(2025, 8, 1), d(2025, 10, 31), "not_started"),
        "3-2-ア": ("業務運用の見直し", None, "municipality", d(2025, 8, 1), d(2025, 9, 30), "not_started"),
        "3-2-ウ": ("例規改正の要否確認", "3-2", "municipality", d(2025, 9, 1), d(2025, 10, 31), "not_started"),
    }  # fmt: skip
    assert items["1-1"]["planned_end_text"] == "R7.4月下旬"


def test_a_code_that_does_not_fall_under_its_group_is_a_problem_on_its_row() -> None:
    data = workbook_bytes(
        (
            "WBS",
            [
                ["大項目", "項番", "作業項目", "担当"],
                ["① 推進体制の立上げ", "①-1", "推進体制の検討", "共同"],
                [None, "②-1", "現行調査", "ベンダー"],
            ],
        )
    )
    parsed = parse(data, "wrong.xlsx")
    assert [(e.row, e.column, e.value) for e in parsed.errors] == [(3, "B", "2-1")]
    assert "does not fall under its group in column A" in parsed.errors[0].message


def test_a_completion_mark_against_the_status_beside_it_is_a_problem() -> None:
    data = workbook_bytes(
        (
            "WBS",
            [
                ["項番", "作業項目", "担当", "状況", "完了"],
                ["1", "a", "ベンダー", "作業中", "済"],
                ["2", "b", "ベンダー", None, "×"],
                ["3", "c", "ベンダー", None, "たぶん"],
            ],
        )
    )
    parsed = parse(data, "marks.xlsx")
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "E"), (4, "E")]
    assert "marks the item done" in parsed.errors[0].message
    assert by_code(parsed)["2"]["status"] == "not_started"
