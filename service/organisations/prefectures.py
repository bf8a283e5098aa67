"""Prefectures by the JIS X 0401 code that begins every local government code.

A municipality's 6-digit local government code (全国地方公共団体コード, 012025 for 旭川市) starts
with its prefecture's two digits: 01 北海道 … 47 沖縄県. The national reports name the
prefecture from it, so no organisation has to state it twice.
"""

from __future__ import annotations

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)  # fmt: skip


def prefecture_of(local_government_code: str | None) -> str | None:
    """The prefecture a local government code's first two digits name; None when there is no
    code, or its digits name none (the demo's 99…)."""
    if not local_government_code or not local_government_code[:2].isdigit():
        return None
    number = int(local_government_code[:2])
    return PREFECTURES[number - 1] if 1 <= number <= len(PREFECTURES) else None
