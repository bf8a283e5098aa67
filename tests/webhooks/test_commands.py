"""The `wbs-sync webhook` commands, as an operator setting one up for a town uses them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from service.cli import main
from service.config import get_settings
from service.webhooks.worker import Worker
from tests.conftest import TEST_SECRET_KEY, ItemFactory, World
from tests.webhooks.conftest import Clock, drain
from tests.webhooks.receivers import Mailbox, receiving


@pytest.fixture
def cli_env(
    database_url: str, mailbox: Mailbox, db: Session, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    for name, value in {
        "WBS_DATABASE_URL": database_url,
        "WBS_SECRET_KEY": TEST_SECRET_KEY,
        "WBS_WEBHOOK_ALLOW_HTTP": "true",
        "WBS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "WBS_NOTIFY_LANGUAGE": "en",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_an_operator_subscribes_a_town_previews_its_digest_and_reads_the_secret(
    capsys: pytest.CaptureFixture[str],
    world: World,
    make_item: ItemFactory,
    worker: Worker,
    clock: Clock,
) -> None:
    with receiving() as receiver:
        assert main(["webhook", "create", "--org", "town-a", "--name", "town",
                     "--kind", "webhook", "--target", receiver.url,
                     "--event", "digest.daily", "--event", "item.status_changed"]) == 0  # fmt: skip
        hook = capsys.readouterr().out.strip()
        assert main(["webhook", "list"]) == 0
        listed = capsys.readouterr().out
        assert f"{hook}\t{world.orgs['town_a'].id}\twebhook\ttown\thttp://127.0.0.1:" in listed
        assert "/hook" not in listed

        assert main(["webhook", "digest", hook]) == 0
        assert "nothing to say" in capsys.readouterr().err
        late = (clock.now() - timedelta(days=2)).date().isoformat()
        make_item(
            code="1", title="Data extraction", responsibility="municipality", planned_end=late
        )
        assert main(["webhook", "digest", hook]) == 0
        shown = capsys.readouterr()
        assert shown.out.startswith("Overdue and due soon today")
        assert "1 overdue, 0 due soon, 0 waiting on the other side" in shown.out
        assert "Data extraction" in shown.out
        drain(worker)
        # The one asked for now, and the day's own if its time (08:30) has passed.
        received = receiver.wait_for(1)
        assert main(["webhook", "secret", hook]) == 0
        secret = capsys.readouterr().out.strip()
        for request in received:
            assert Webhook(secret).verify(request.body, request.headers)["type"] == "digest.daily"
        assert main(["webhook", "delete", hook]) == 0
        assert main(["webhook", "secret", hook]) == 2
        assert "no webhook subscription" in capsys.readouterr().err


@pytest.mark.usefixtures("cli_env")
def test_mail_speaks_english_when_the_server_says_so(
    capsys: pytest.CaptureFixture[str],
    world: World,
    make_item: ItemFactory,
    worker: Worker,
    mailbox: Mailbox,
) -> None:
    assert main(["webhook", "create", "--org", "vendor-x", "--name", "pm",
                 "--kind", "email", "--target", "pm@mirai.example.jp",
                 "--event", "item.created"]) == 0  # fmt: skip
    worker.settings = worker.sender.settings = get_settings().model_copy(
        update={"smtp_host": mailbox.host, "smtp_port": mailbox.port, "smtp_starttls": False}
    )
    make_item(code="1", title="Cut-over rehearsal")
    drain(worker)
    [mail] = mailbox.wait_for(1)
    assert mail["Subject"] == "[wbs-sync] Item added: 1 Cut-over rehearsal"
    assert "By: pmo/test" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert mail["Message-ID"].startswith("<msg_")
