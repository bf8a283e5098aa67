"""The national standardisation procedure: its 40 steps and the businesses it is run for.

The 総務省 手順書 numbers its work in 18 major steps (①…⑱), each in sub-steps (①-1, ①-2 …),
40 in all; the national PMO's survey numbers them 1–40 in this order, and its progress layout
(業務別ステップ別進捗一覧) gives each a column. A municipality runs the procedure once per
business: the 20 standardised businesses, and 共通 for the work common to all of them.

Steps are stored as `major-sub` ("3-2"): what an API client can type and what compares; sheets
and reports show them circled ("③-2", importers.values.circled_step). Every list of steps or
businesses elsewhere (the item field's values, the API's patterns, the export's columns) is
read from here.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from importers.values import (
    ValueProblem,
    circled_step,
    key,
    read_step,
    unknown_step,
)


class Business(enum.StrEnum):
    """The 20 standardised businesses (標準化対象業務) and 共通, named as the procedure does."""

    juminkiroku = "住民記録"
    senkyonin = "選挙人名簿管理"
    kotei_shisanzei = "固定資産税"
    kojin_juminzei = "個人住民税"
    hojin_juminzei = "法人住民税"
    keijidoshazei = "軽自動車税"
    kokuho = "国民健康保険"
    kokumin_nenkin = "国民年金"
    shogaisha_fukushi = "障害者福祉"
    koki_koreisha = "後期高齢者医療"
    kaigo = "介護保険"
    jido_teate = "児童手当"
    seikatsu_hogo = "生活保護"
    kenko_kanri = "健康管理"
    shugaku = "就学"
    jido_fuyo_teate = "児童扶養手当"
    kodomo_kosodate = "子ども・子育て支援"
    inkan = "印鑑登録"
    koseki = "戸籍"
    koseki_fuhyo = "戸籍の附票"
    kyotsu = "共通"


# What sheets call a business besides its name: the short forms offices write in sheet names
# and 業務 columns (住基, 国保), and the システム suffix (住民記録システム).
_BUSINESS_ALIASES: dict[Business, tuple[str, ...]] = {
    Business.juminkiroku: ("住基", "住民基本台帳"),
    Business.senkyonin: ("選挙", "選挙人名簿"),
    Business.kotei_shisanzei: ("固資", "固定資産"),
    Business.kojin_juminzei: ("個人住民", "住民税"),
    Business.hojin_juminzei: ("法人住民",),
    Business.keijidoshazei: ("軽自", "軽自動車"),
    Business.kokuho: ("国保", "国民健康保険税"),
    Business.kokumin_nenkin: ("国年",),
    Business.shogaisha_fukushi: ("障害福祉", "障がい者福祉"),
    Business.koki_koreisha: ("後期高齢",),
    Business.kaigo: ("介護",),
    Business.jido_teate: ("児手",),
    Business.seikatsu_hogo: ("生保",),
    Business.kenko_kanri: ("健康",),
    Business.shugaku: ("学齢簿", "就学事務"),
    Business.jido_fuyo_teate: ("児扶", "児童扶養"),
    Business.kodomo_kosodate: ("子ども子育て", "子育て支援", "子子"),
    Business.inkan: ("印鑑",),
    Business.koseki: (),
    Business.koseki_fuhyo: ("附票",),
    Business.kyotsu: ("共通事項", "全業務共通"),
}

# Every word that names a business, folded as the importer compares headers and cells.
BUSINESS_WORDS: dict[str, str] = {
    key(word): business.value
    for business in Business
    for word in (
        business.value,
        f"{business.value}システム",
        f"{business.value}業務",
        *_BUSINESS_ALIASES[business],
    )
}


@dataclass(frozen=True)
class Step:
    number: int  # 1–40, as the national survey counts them
    code: str  # "3-2", as stored
    major_name: str  # the major step's name (③ 標準仕様との比較分析)
    name: str

    @property
    def circled(self) -> str:
        return circled_step(self.code)


# The major steps and their sub-steps, in the procedure's order (手順書 第2章, 作業項目).
_PROCEDURE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("推進体制の立上げ", ("推進体制の検討", "庁内への周知", "事業者との役割分担の確認")),
    ("現行システムの概要調査", ("現行システムの概要調査", "調査結果の確認")),
    ("標準仕様との比較分析", ("Fit&Gap分析", "差異への対応方針の検討")),
    ("移行計画の作成", ("移行方針の決定", "移行計画書の作成")),
    ("情報提供依頼 (RFI)", ("RFI資料の作成", "RFIの実施と回答の分析")),
    ("予算の確保", ("経費の見積り", "予算要求")),
    ("調達", ("調達仕様書の作成", "事業者の選定")),
    ("契約", ("契約の締結", "詳細スケジュールの確定")),
    ("現行事業者との調整", ("移行データの提供依頼", "現行契約の終了手続")),
    ("ガバメントクラウドの利用準備", ("利用の申請と接続回線の準備", "環境の構築")),
    ("システムの設定", ("パラメータの設定", "他システムとの連携設定")),
    ("データ移行", ("移行データの抽出", "データの変換・投入", "移行データの確認")),
    ("テスト", ("連携テスト", "運用テスト", "移行リハーサル")),
    ("研修", ("操作研修", "運用マニュアルの整備")),
    ("例規の改正", ("改正が要る例規の洗い出し", "例規の改正")),
    ("本番移行", ("移行判定", "本番データ移行", "稼働開始")),
    ("稼働後の対応", ("稼働後の運用支援", "課題の整理")),
    ("現行システムの撤去", ("現行データの消去", "現行環境の撤去")),
)

STEPS: tuple[Step, ...] = tuple(
    Step(number, code, major_name, name)
    for number, (code, major_name, name) in enumerate(
        (
            (f"{major}-{sub}", major_name, name)
            for major, (major_name, names) in enumerate(_PROCEDURE, start=1)
            for sub, name in enumerate(names, start=1)
        ),
        start=1,
    )
)
STEP_BY_CODE = {step.code: step for step in STEPS}
# Every code a step may take: the procedure's editions and the sheets written from them do not
# all split a major step into the same sub-steps (a vendor's ⑩-3 where this list stops at
# ⑩-2), so any sub-step of a major step is taken and kept; reports give the list above its
# columns and add any other step the items carry (reports/national.py).
MAX_SUB_STEP = 9
STEP_CODES: tuple[str, ...] = tuple(
    f"{major}-{sub}"
    for major in range(1, len(_PROCEDURE) + 1)
    for sub in range(1, MAX_SUB_STEP + 1)
)
_STEP_CODE_SET = frozenset(STEP_CODES)


def extra_step(code: str) -> Step:
    """A step outside the list above, as a report's column names it: its major step's name."""
    major = int(code.split("-")[0])
    return Step(0, code, _PROCEDURE[major - 1][0], "")


# As the API's schema states it: a major step 1–18 and a sub-step (the values are checked too).
STEP_PATTERN = r"^(?:[1-9]|1[0-8])-[1-9]$"


def _notations(number: int, circled: bool) -> str:
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in str(number))
    return "|".join((str(number), full_width, *([chr(0x2460 + number - 1)] if circled else ())))


def _step_notation() -> str:
    """Exactly the step codes taken, in the notations the API takes: 3-2, ③-2, ３－２,
    手順3-2, ステップ③-2. Literal characters only, so JSON Schema's regular expressions and
    Python's agree on every string."""
    subs: dict[int, list[int]] = {}
    for code in STEP_CODES:
        major, sub = (int(part) for part in code.split("-"))
        subs.setdefault(major, []).append(sub)
    steps = "|".join(
        f"(?:{_notations(major, True)})[-－−]"
        f"(?:{'|'.join(_notations(sub, False) for sub in parts)})"
        for major, parts in subs.items()
    )
    return f"^(?:手順|ステップ)?(?:{steps})$"


STEP_NOTATION = _step_notation()
_NOTATION = re.compile(STEP_NOTATION)


def _known_step(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a step is text such as 3-2 or ③-2")
    if _NOTATION.match(value):
        code = read_step(value)
        assert code is not None
        return code
    try:
        code = read_step(value)
    except ValueProblem as problem:
        raise ValueError(str(problem)) from None
    if code is not None and code not in _STEP_CODE_SET:
        raise ValueError(unknown_step(code, STEP_CODES))
    raise ValueError("a step is written 3-2, ③-2, ３－２ or 手順3-2, with nothing around it")


# A step as clients may send it (3-2, ③-2, 手順3-2, ３－２), stored as `major-sub`.
NationalStep = Annotated[
    str,
    BeforeValidator(_known_step),
    Field(
        description="The national procedure's step (手順): a major step ①–⑱ and a sub-step 1–9, "
        "`3-2`, or as sheets write it, `③-2`, `３－２`, `手順3-2`; stored and answered as `3-2`. "
        "The procedure's 40 steps are the national report's columns; a sub-step beyond them is "
        "kept and reported in a column of its own.",
        examples=["3-2"],
        json_schema_extra={"pattern": STEP_NOTATION},
    ),
]
