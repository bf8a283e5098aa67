"""Deterministic WBS data at scale: N municipalities × M items, about a fifth overdue.

Rows go in through SQLAlchemy Core in large batches (the ORM would dominate the set-up time);
every figure the benchmarks print is taken on data this module made from the same seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, insert, select, text

from service.items.codes import code_columns
from service.items.models import Item, item_predecessors
from service.organisations.models import Organisation, OrgKind
from service.projects.models import Project

AS_OF = date(2026, 4, 1)
SECTION = 20
BATCH = 20_000


@dataclass(frozen=True)
class Scale:
    municipalities: int
    items_per_project: int
    seed: int = 20260401

    @property
    def items(self) -> int:
        return self.municipalities * self.items_per_project


def _item_rows(
    rng: random.Random, project_id: int, first_id: int, count: int
) -> tuple[list[dict[str, object]], list[dict[str, int]]]:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    rows: list[dict[str, object]] = []
    links: list[dict[str, int]] = []
    section_id = None
    for n in range(count):
        item_id = first_id + n
        section, position = divmod(n, SECTION)
        code = f"{section + 1}" if position == 0 else f"{section + 1}-{position}"
        roll = rng.random()
        if roll < 0.2:  # late: ended before the as-of day, still open
            end, status, progress = (
                AS_OF - timedelta(days=rng.randint(1, 120)),
                "in_progress",
                rng.randint(0, 90),
            )
        elif roll < 0.75:  # finished
            end, status, progress = AS_OF - timedelta(days=rng.randint(1, 365)), "done", 100
        else:  # still ahead
            end, status, progress = AS_OF + timedelta(days=rng.randint(0, 365)), "not_started", 0
        rows.append(
            {
                "id": item_id,
                "project_id": project_id,
                **code_columns(code),
                "parent_id": None if position == 0 else section_id,
                "title": f"作業 {code}",
                "responsibility": ("vendor", "municipality", "joint")[n % 3],
                "assignee": ("住民課", "情報政策課", "SE")[n % 3],
                "planned_start": end - timedelta(days=14),
                "planned_end": end,
                "status": status,
                "progress": progress,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        if position == 0:
            section_id = item_id
        elif position > 1:
            links.append({"item_id": item_id, "predecessor_id": item_id - 1})
    return rows, links


def generate(engine: Engine, scale: Scale) -> None:
    """Fill an empty, migrated database."""
    rng = random.Random(scale.seed)
    vendors = max(1, scale.municipalities // 10)
    with engine.begin() as connection:
        connection.execute(
            insert(Organisation.__table__),
            [
                {
                    "kind": OrgKind.pmo.name,
                    "code": "pmo",
                    "name": "PMO",
                    "created_at": datetime.now(UTC),
                }
            ]
            + [
                {
                    "kind": OrgKind.vendor.name,
                    "code": f"v{n:03d}",
                    "name": f"ベンダー{n}",
                    "created_at": datetime.now(UTC),
                }
                for n in range(vendors)
            ]
            + [
                {
                    "kind": OrgKind.municipality.name,
                    "code": f"m{n:05d}",
                    "name": f"自治体{n}",
                    "created_at": datetime.now(UTC),
                }
                for n in range(scale.municipalities)
            ],
        )
        ids = dict(connection.execute(select(Organisation.code, Organisation.id)).all())
        connection.execute(
            insert(Project.__table__),
            [
                {
                    "municipality_id": ids[f"m{n:05d}"],
                    "vendor_id": ids[f"v{n % vendors:03d}"],
                    "name": "住民記録システム標準化移行",
                    "consortium": f"c{n // 4}",
                    "version": 1,
                    "created_at": datetime.now(UTC),
                    "updated_at": datetime.now(UTC),
                }
                for n in range(scale.municipalities)
            ],
        )
        project_ids = connection.execute(select(Project.id).order_by(Project.id)).scalars().all()
    next_id = 1
    pending: list[dict[str, object]] = []
    pending_links: list[dict[str, int]] = []
    for project_id in project_ids:
        rows, links = _item_rows(rng, project_id, next_id, scale.items_per_project)
        next_id += scale.items_per_project
        pending += rows
        pending_links += links
        if len(pending) >= BATCH:
            _flush(engine, pending, pending_links)
            pending, pending_links = [], []
    _flush(engine, pending, pending_links)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('items', 'id'), max(id)) FROM items")
            )
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))
        assert connection.scalar(select(func.count()).select_from(Item)) == scale.items


def _flush(engine: Engine, rows: list[dict[str, object]], links: list[dict[str, int]]) -> None:
    if not rows:
        return
    with engine.begin() as connection:
        connection.execute(insert(Item.__table__), rows)
        if links:
            connection.execute(insert(item_predecessors), links)
