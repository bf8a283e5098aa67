"""The national step and business, read from sheets as offices write them: a 手順 column beside
the codes, a step at the start of a code or title, the business in a 業務 column, in the sheet's
name, or in its title block."""

from __future__ import annotations

from openpyxl.styles import Alignment

from tests.importers.sheets import build, parse, save, workbook_bytes


def national(
    data: bytes, name: str = "wbs.xlsx", **options: object
) -> dict[str, tuple[object, object]]:
    parsed = parse(data, name, **options)
    assert parsed.errors == [], parsed.errors
    return {row.code: (row.values.get("step"), row.values.get("business")) for row in parsed.rows}


def test_a_step_column_beside_the_codes_in_every_notation_people_write() -> None:
    book, sheet = build(
        [
            ["No.", "手順", "作業項目", "担当", "業務"],
            [1, "③-1", "Fit&Gap分析", "ベンダー", "住民記録"],
            [2, "手順3-2", "差異への対応方針の検討", "共同", "住民記録システム"],
            [3, "３－２", "帳票の確認", "自治体", "住基"],
            [4, "ステップ⑫の3", "移行データの確認", "自治体", "国保"],
            [5, "12-1", "移行データの抽出", "ベンダー", "戸籍の附票"],
            [6, None, "定例会", "共同", "共通"],
            [7, "－", "議事録の作成", "ベンダー", None],
        ]
    )
    sheet["B3"].alignment = Alignment(wrap_text=True)
    assert national(save(book)) == {
        "1": ("3-1", "住民記録"),
        "2": ("3-2", "住民記録"),
        "3": ("3-2", "住民記録"),
        "4": ("12-3", "国民健康保険"),
        "5": ("12-1", "戸籍の附票"),
        "6": (None, "共通"),
        "7": (None, None),
    }


def test_the_step_the_code_or_title_starts_with_and_the_business_of_the_sheets_name() -> None:
    data = workbook_bytes(
        ("表紙", [["介護保険システム標準化 移行計画"]]),
        (
            "個人住民税WBS",
            [
                ["項番", "作業項目", "担当"],
                ["⑬-1", "連携テスト", "ベンダー"],
                ["⑬-1-ア", "テストデータの準備", "自治体"],
                ["A-1", "【手順13-2】 運用テスト", "自治体"],
                ["A-2", "③-2 は済んだ前提で進める", "共同"],
                ["A-3", "第1-2回 定例会", "共同"],
                ["A-4", "13-3 移行リハーサル", "ベンダー"],
            ],
        ),
    )
    # The cover names another business: the sheet's own name wins over any other sheet's.
    assert national(data, sheet="個人住民税WBS") == {
        "13-1": ("13-1", "個人住民税"),
        "13-1-ア": ("13-1", "個人住民税"),
        "A-1": ("13-2", "個人住民税"),
        # A circled step leading a title is the step, whatever the sentence says after it.
        "A-2": ("3-2", "個人住民税"),
        # 第1-2回 and a bare 13-3 are any WBS's numbering, not the procedure's step.
        "A-3": (None, "個人住民税"),
        "A-4": (None, "個人住民税"),
    }


def test_each_sheet_of_a_workbook_has_the_business_its_name_says() -> None:
    sheets = [
        (name, [["項番", "作業項目", "担当"], ["①-1", "推進体制の検討", "共同"]])
        for name in ("戸籍", "戸籍の附票", "児童扶養手当", "子ども・子育て支援", "後期高齢者医療")
    ]
    data = workbook_bytes(*sheets)
    businesses = {name: national(data, sheet=name)["1-1"][1] for name, _ in sheets}
    # The longest name found wins: 戸籍の附票 is not 戸籍, 児童扶養手当 not 児童手当.
    assert businesses == {name: name for name, _ in sheets}


def test_a_business_column_wins_over_the_sheets_name_and_the_title_block_gives_one_too() -> None:
    with_column = workbook_bytes(
        ("住民記録", [["項番", "作業項目", "業務"], ["1", "帳票確認", "介護"], ["2", "研修", None]])
    )
    # A 業務 column says each row's business, and a blank one says none.
    assert national(with_column) == {"1": (None, "介護保険"), "2": (None, None)}
    titled = workbook_bytes(
        (
            "Sheet1",
            [
                ["令和7年度 軽自動車税システム 移行作業一覧"],
                [],
                ["項番", "作業項目"],
                ["1", "設計"],
            ],
        )
    )
    assert national(titled) == {"1": (None, "軽自動車税")}
    # A sheet for several businesses names none of them for its rows.
    several = workbook_bytes(
        (
            "住民記録・印鑑登録",
            [["基幹系（住基・国保）標準化"], ["項番", "作業項目"], ["1", "設計"]],
        )
    )
    assert national(several) == {"1": (None, None)}


def test_a_step_or_business_that_is_none_of_the_procedures_is_said_where_it_sits() -> None:
    data = workbook_bytes(
        (
            "WBS",
            [
                ["項番", "手順番号", "作業項目", "業務"],
                ["1", "③-12", "差異の整理", "住民記録"],
                ["2", "③", "比較分析", "住民記録"],
                ["3", "3-1", "Fit&Gap分析", "下水道"],
                # The step column is the row's step: its code is not read for one.
                ["④-9", None, "移行計画書の作成", "住民記録"],
            ],
        )
    )
    parsed = parse(data, "wbs.xlsx")
    found = [(e.row, e.column, e.value, e.kind) for e in parsed.errors]
    assert found == [(2, "B", "③-12", "step"), (4, "D", "下水道", "business")]
    messages = [e.message for e in parsed.errors]
    assert "③ has ③-1, ③-2" in messages[0]
    assert "住民記録" in messages[1]
    assert "共通" in messages[1]
    # ③ alone is its group's row, no one of the 40 steps: no step, and no problem either.
    assert [row.values["step"] for row in parsed.rows[1::2]] == [None, None]
    coded = parse(workbook_bytes(("WBS", [["項番", "作業項目"], ["④-12", "移行計画"]])), "w.xlsx")
    assert [(e.row, e.column, e.value) for e in coded.errors] == [(2, "A", "④-12")]
    assert "④ has ④-1, ④-2" in coded.errors[0].message
    # A sub-step another edition of the procedure has (④-9 where the list stops at ④-2) is kept.
    kept = parse(workbook_bytes(("WBS", [["項番", "作業項目"], ["④-9", "移行計画"]])), "w.xlsx")
    assert (kept.errors, kept.rows[0].values["step"]) == ([], "4-9")
