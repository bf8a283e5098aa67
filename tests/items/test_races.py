"""Two writers pass If-Match on the same version: the database lets one win, the other hears 412.

Each test lets another writer commit its change right before the request writes its own, as a
second request racing it would, and checks the loser's answer and that nothing of it stands.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from service.items.models import Item
from tests.conftest import ItemFactory, World


@pytest.fixture
def racing_writer(app: FastAPI, db: Session) -> Iterator[list[object]]:
    """Statements another writer commits just before the request's next flush, once each."""
    pending: list[object] = []

    def first(session: Session, *_args: object) -> None:
        while pending:
            db.execute(pending.pop(0))  # type: ignore[call-overload]
            db.commit()

    event.listen(app.state.session_factory, "before_flush", first)
    yield pending
    event.remove(app.state.session_factory, "before_flush", first)


def url(world: World, code: str) -> str:
    return f"/api/v1/projects/{world.projects['a_x'].id}/items/{code}"


def test_the_loser_of_two_patches_on_one_version_hears_412_with_the_current_version(
    client: TestClient,
    world: World,
    make_item: ItemFactory,
    db: Session,
    racing_writer: list[object],
) -> None:
    make_item(code="1", responsibility="municipality")
    assert client.get(url(world, "1"), headers=world.auth("town_a")).status_code == 200
    racing_writer.append(
        update(Item).where(Item.code == "1").values(version=Item.version + 1, notes="先に書いた")
    )
    response = client.patch(
        url(world, "1"),
        headers={**world.auth("town_a"), "If-Match": '"v1"'},
        json={"status": "done", "progress": 100},
    )
    assert response.status_code == 412, response.text
    assert response.json()["current_version"] == 2
    assert response.headers["ETag"] == '"v2"'
    db.expire_all()
    item = db.scalars(select(Item).where(Item.code == "1")).one()
    assert (item.status.value, item.notes, item.version) == ("not_started", "先に書いた", 2)


def test_the_loser_of_a_delete_race_hears_412(
    client: TestClient,
    world: World,
    make_item: ItemFactory,
    db: Session,
    racing_writer: list[object],
) -> None:
    make_item(code="1")
    assert client.get(url(world, "1"), headers=world.auth("vendor_x")).status_code == 200
    racing_writer.append(update(Item).where(Item.code == "1").values(version=Item.version + 1))
    response = client.delete(
        url(world, "1"), headers={**world.auth("vendor_x"), "If-Match": '"v1"'}
    )
    assert response.status_code == 412, response.text
    assert response.json()["current_version"] == 2
    db.expire_all()
    assert db.scalar(select(Item.version).where(Item.code == "1")) == 2


def test_a_patch_of_an_item_deleted_meanwhile_hears_412(
    client: TestClient,
    world: World,
    make_item: ItemFactory,
    db: Session,
    racing_writer: list[object],
) -> None:
    make_item(code="1")
    assert client.get(url(world, "1"), headers=world.auth("vendor_x")).status_code == 200
    racing_writer.append(delete(Item).where(Item.code == "1"))
    response = client.patch(url(world, "1"), headers=world.auth("vendor_x"), json={"title": "改"})
    assert response.status_code == 412, response.text
    assert "deleted" in response.json()["detail"]
