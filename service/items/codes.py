"""WBS codes: their natural order and the parent a code implies."""

from __future__ import annotations

import re
import unicodedata

# Codes appear in URL paths, so the characters that structure a URL are refused, and so is a
# leading dot (a code `..` would be read as "the parent folder" on the way to the server).
CODE_PATTERN = r"^[^\s/\\?#%.\x00-\x1f\x7f][^\s/\\?#%\x00-\x1f\x7f]{0,63}$"
SORT_KEY_LENGTH = 255
_NUMBER_WIDTH = 10
# Hyphen-minus, full stop and their full-width and typographic forms as vendors type them.
SEPARATORS = frozenset("-.－．‐−")
_TOKENS = re.compile(r"\d+|[^\W\d_]+")


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
