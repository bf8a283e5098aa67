"""The three-way merge alone: old version, new version, the project's values."""

from __future__ import annotations

from datetime import date
from typing import Any

from service.templates.merge import LocalItem, merge


def values(code: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "parent_code": None,
        "title": f"作業 {code}",
        "description": None,
        "responsibility": "vendor",
        "planned_start": None,
        "planned_end": None,
        "deliverable": None,
        "step": None,
        "business": None,
        "predecessors": [],
        **fields,
    }


def local(code: str, status: str = "not_started", **fields: Any) -> LocalItem:
    return LocalItem(
        id=hash(code) % 1000, version=1, values=values(code, **fields), status=status,
        progress=0, started=False,
    )  # fmt: skip


def test_each_case_of_the_three_way_table() -> None:
    a, b, c = date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)
    plan = merge(
        [values("1", planned_end=a), values("2", planned_end=a), values("3", planned_end=a),
         values("4", planned_end=a)],
        [values("1", planned_end=a), values("2", planned_end=b), values("3", planned_end=b),
         values("4", planned_end=b)],
        [local("1", planned_end=c), local("2", planned_end=a), local("3", planned_end=b),
         local("4", planned_end=c)],
        from_version=1,
    )  # fmt: skip
    assert [(mine.values["code"], fields) for mine, fields in plan.updates] == [
        ("2", {"planned_end": b})
    ]
    assert [(x["code"], x["field"], x["local"]) for x in plan.conflicts] == [
        ("4", "planned_end", "2026-06-01")
    ]


def test_codes_and_links_compare_as_codes_do() -> None:
    plan = merge(
        [values("1-1", parent_code="1", predecessors=["1-2", "1-3"])],
        [values("1-1", parent_code="1", predecessors=["1-3", "1-2"])],
        [local("１－１", parent_code="１", predecessors=["1-3", "１－２"])],
        from_version=1,
    )
    assert (plan.updates, plan.conflicts) == ([], [])


def test_a_retired_item_stays_while_a_kept_item_waits_on_it() -> None:
    plan = merge(
        [values("1"), values("2"), values("3", predecessors=["2"])],
        [values("1"), values("3", predecessors=["2"])],
        [local("1"), local("2"), local("3", predecessors=["2"])],
        from_version=2,
    )
    assert plan.deletes == []
    assert plan.conflicts[0]["code"] == "2"
    assert "depend on it (3)" in plan.conflicts[0]["reason"]


def test_retired_children_go_before_their_parent() -> None:
    plan = merge(
        [values("1"), values("2"), values("2-1", parent_code="2"), values("2-2", parent_code="2")],
        [values("1")],
        [local("1"), local("2"), local("2-1", parent_code="2"), local("2-2", parent_code="2")],
        from_version=1,
    )
    assert [mine.values["code"] for mine in plan.deletes] == ["2-2", "2-1", "2"]
    assert plan.conflicts == []
