"""WBS codes: what a code may hold, the one form codes are compared in, and their natural order.

The parent a code implies is a rule of the item's (service/items/rules.py).
"""

from __future__ import annotations

import re
import unicodedata

# Characters nobody sees: a code holding one would look like another code and be a different one.
INVISIBLE = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_REFUSED = r"\s/\\?#%\x00-\x1f\x7f-\x9f" + "".join(f"\\u{ord(c):04x}" for c in INVISIBLE)
# Codes appear in URL paths, so the characters that structure a URL are refused, and so is a
# leading dot (a code `..` would be read as "the parent folder" on the way to the server).
# Controls and invisible characters are refused too.
CODE_PATTERN = rf"^[^{_REFUSED}.][^{_REFUSED}]{{0,63}}$"
SORT_KEY_LENGTH = 255
CODE_KEY_LENGTH = 255
_NUMBER_WIDTH = 10
# Hyphen-minus, full stop and their full-width and typographic forms as vendors type them.
SEPARATORS = frozenset("-.－．‐−")
_TOKENS = re.compile(r"\d+|[^\W\d_]+")
# Dashes vendors type for the hyphen: NFKC keeps these apart from "-", a reader does not.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−⁃", "-"))
_DROPPED = str.maketrans(dict.fromkeys(INVISIBLE))
# The long-vowel mark typed as a dash between numbers (①ー1, 3ー2), not inside a word (データ).
_VOWEL_MARK_AS_DASH = re.compile(r"(?<=[0-9])[ーｰ](?=[0-9])")


def code_key(code: str) -> str:
    """The one form codes are compared in: look-alikes are one code.

    `１－２`, `1−2`, `1‐2` and `1-2` (and one with an invisible joiner inside) are the same
    code; `①-1` is `1-1`. The code is kept as it was written; only comparisons use this.
    """
    folded = unicodedata.normalize("NFKC", code).translate(_DROPPED).translate(_DASHES)
    # NFKC may lengthen a code (㍻ is 平成); past the column's length nothing real is lost.
    return _VOWEL_MARK_AS_DASH.sub("-", folded)[:CODE_KEY_LENGTH]


def code_columns(code: str) -> dict[str, str]:
    """The columns an item's code sets: as written, as compared, and as sorted."""
    return {"code": code, "code_key": code_key(code), "sort_key": natural_key(code)}


def natural_key(code: str) -> str:
    """A string whose plain byte order is the natural order of codes.

    Numbers compare by value (2 before 10, 1-2 before 1-10), full-width digits and circled
    numbers as their ASCII values, separators alike; a parent sorts right before its children.
    """
    normalised = unicodedata.normalize("NFKC", code).casefold()
    tokens = (
        token.lstrip("0").rjust(_NUMBER_WIDTH, "0") if token.isdigit() else token
        for token in _TOKENS.findall(normalised)
    )
    return " ".join(tokens)[:SORT_KEY_LENGTH]
