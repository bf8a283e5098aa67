"""codes compared in one form: items.code_key, unique per project

Look-alike codes (１－２, 1−2, 1‐2, 1-2 and one with an invisible joiner) could coexist as
separate items. Each item now keeps the form codes are compared in beside the code as written,
and that form is unique per project. Look-alikes that already coexist are not merged (which of
them holds the truth is for the project's people to say): the first keeps the plain key, each
later one keeps a key of its own, and the migration names every such pair in its log so they
can be renamed or merged; `wbs-sync db upgrade` prints them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

import logging
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# The comparison form as this revision wrote it (service.items.codes.code_key at the time):
# frozen here, so the migration writes the same keys whatever the function later becomes.
_INVISIBLE = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−⁃", "-"))
_DROPPED = str.maketrans(dict.fromkeys(_INVISIBLE))
_VOWEL_MARK_AS_DASH = re.compile(r"(?<=[0-9])[ーｰ](?=[0-9])")


def _key(code: str) -> str:
    folded = unicodedata.normalize("NFKC", code).translate(_DROPPED).translate(_DASHES)
    return _VOWEL_MARK_AS_DASH.sub("-", folded)[:255]


_KEY_TYPE = sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code_key", _KEY_TYPE, nullable=True))
    items = sa.table(
        "items",
        sa.column("id", sa.Integer),
        sa.column("project_id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("code_key", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(items.c.id, items.c.project_id, items.c.code).order_by(items.c.id)
    )
    first: dict[tuple[int, str], tuple[int, str]] = {}
    keys = []
    for item_id, project_id, code in rows:
        key = _key(code)
        taken = first.setdefault((project_id, key), (item_id, code))
        if taken[0] != item_id:
            log.warning(
                "project %s: items %s (%r) and %s (%r) have look-alike codes; the second keeps "
                "a key of its own until one of them is renamed",
                project_id, taken[0], taken[1], item_id, code,
            )  # fmt: skip
            key = f"{key}~{item_id}"
        keys.append({"item_id": item_id, "key": key})
    for start in range(0, len(keys), 1000):
        connection.execute(
            items.update()
            .where(items.c.id == sa.bindparam("item_id"))
            .values(code_key=sa.bindparam("key")),
            keys[start : start + 1000],
        )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.alter_column("code_key", existing_type=_KEY_TYPE, nullable=False)
        batch_op.drop_constraint("uq_items_project_id_code", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_items_project_id_code_key"), ["project_id", "code_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_items_project_id_code_key"), type_="unique")
        batch_op.create_unique_constraint("uq_items_project_id_code", ["project_id", "code"])
        batch_op.drop_column("code_key")
