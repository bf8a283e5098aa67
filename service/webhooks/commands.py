"""`wbs-sync worker`, `wbs-sync webhook …` and `wbs-sync secrets …`."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging.config
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, cast

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service.access import Caller
from service.config import Settings, get_settings
from service.db import utcnow
from service.items.models import Responsibility
from service.organisations.service import get_organisation_by_code
from service.sessions import command_session, create_db_engine, create_session_factory
from service.webhooks.models import SUBSCRIBABLE, Kind, Subscription

# What only a running command needs (the HTTP client, the crypto, the schemas) is imported
# when it runs: every other `wbs-sync` command started 0.3 s slower with it loaded here.


def _only_worker(settings: Settings) -> IO[str] | None:
    """On SQLite, a lock file beside the database: a second worker would only queue behind
    the first on the one write lock."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database + ".worker.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ValueError(
            f"another worker already runs on {url.database} (one per SQLite file)"
        ) from None
    return handle


def run_worker(args: argparse.Namespace) -> int:
    from service.logs import LOGGING_CONFIG
    from service.webhooks.worker import Worker

    settings = get_settings()
    logging.config.dictConfig(LOGGING_CONFIG)
    held = _only_worker(settings)
    engine = create_db_engine(settings)
    worker = Worker(settings, create_session_factory(engine), concurrency=args.concurrency)
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr=args.metrics_host)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        watching = asyncio.create_task(_stop_with(args.parent, stop)) if args.parent else None
        await worker.run(stop)
        if watching is not None:
            watching.cancel()

    try:
        asyncio.run(main())
    finally:
        engine.dispose()
        if held is not None:
            held.close()
    return 0


async def _stop_with(parent: int, stop: asyncio.Event) -> None:
    """Stop once the server that started us is gone: uvicorn ends its process by raising the
    SIGTERM it handled again, so the server cannot always stop us itself."""
    while not stop.is_set():
        if os.getppid() != parent:
            stop.set()
        await asyncio.sleep(0.5)


class WorkerBeside:
    """`serve --with-worker`: one `wbs-sync worker` process beside the server, started again
    if it dies, stopped with it. The embedded default then works whole from one command."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="worker-beside", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            self._process = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "worker", "--parent", str(os.getpid())]
            )
            self._process.wait()
            # A crash loop must not spin: wait a little before the next start.
            self._stopping.wait(5)

    def stop(self) -> None:
        self._stopping.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._thread.join(timeout=10)


def cli_caller(session: Session, code: str) -> Caller:
    organisation = get_organisation_by_code(session, code)
    return Caller(
        organisation_id=organisation.id,
        organisation_kind=organisation.kind,
        organisation_code=organisation.code,
        token_id=0,
        token_name="cli",
        read_only=False,
    )


def _subscription(session: Session, subscription_id: int) -> Subscription:
    found = session.get(Subscription, subscription_id)
    if found is None:
        raise ValueError(f"there is no webhook subscription {subscription_id}")
    return found


def run_webhook(args: argparse.Namespace) -> int:
    from service.secretbox import secret_box
    from service.tabular import Language
    from service.webhooks import messages, service
    from service.webhooks.schemas import SubscriptionCreate

    settings = get_settings()
    now = utcnow()
    with command_session(settings) as session:
        if args.action == "create":
            caller = cli_caller(session, args.org)
            data = SubscriptionCreate(
                name=args.name,
                kind=Kind(args.kind),
                target=args.target,
                event_types=args.event or None,
                project_ids=args.project,
                fields=args.field,
                responsibilities=[Responsibility(side) for side in args.side],
                digest_time=args.digest_time,
                contact_email=args.contact,
            )
            created = service.create_subscription(
                session, caller, data, settings, secret_box(settings)
            )
            print(created.id)
        elif args.action == "list":
            query = select(Subscription).order_by(Subscription.id)
            if args.org:
                query = query.where(
                    Subscription.organisation_id == get_organisation_by_code(session, args.org).id
                )
            print("id\torganisation\tkind\tname\ttarget\tenabled\tevents")
            for row in session.scalars(query):
                enabled = "yes" if row.enabled else f"no: {row.disabled_reason or ''}"
                print(
                    f"{row.id}\t{row.organisation_id}\t{row.kind.value}\t{row.name}\t"
                    f"{row.target_hint}\t{enabled}\t{','.join(row.event_types)}"
                )
        elif args.action == "delete":
            service.delete_subscription(session, _subscription(session, args.id))
        elif args.action == "secret":
            print(
                service.read_secret(
                    _subscription(session, args.id), secret_box(settings), now
                ).secret
            )
        elif args.action == "rotate-secret":
            subscription = _subscription(session, args.id)
            service.rotate_secret(
                session, subscription, args.overlap_hours, secret_box(settings), now
            )
            print(service.read_secret(subscription, secret_box(settings), now).secret)
        elif args.action == "test":
            test = service.send_test(session, _subscription(session, args.id), now)
            print(f"delivery {test.id} queued; a running worker sends it", file=sys.stderr)
        else:
            subscription = _subscription(session, args.id)
            data_now, delivery = service.digest_now(session, subscription, now, settings)
            language = cast(Language, subscription.language or settings.notify_language)
            if delivery is None:
                print("nothing to say today: nothing was sent", file=sys.stderr)
            else:
                message = messages.render(
                    "digest.daily",
                    {"data": data_now.model_dump(mode="json")},
                    language,
                    settings.public_base,
                )
                print(message.title)
                print(message.plain_text(language))
                print(f"delivery {delivery.id} queued; a running worker sends it", file=sys.stderr)
    return 0


def run_secrets(args: argparse.Namespace) -> int:
    from cryptography.fernet import Fernet

    from service.secretbox import secret_box

    if args.action == "new-key":
        print(Fernet.generate_key().decode())
        return 0
    settings = get_settings()
    box = secret_box(settings)
    count = 0
    with command_session(settings) as session:
        for subscription in session.scalars(select(Subscription)):
            subscription.target_sealed = box.reseal(subscription.target_sealed)
            for name in ("secret_sealed", "previous_secret_sealed"):
                sealed = getattr(subscription, name)
                if sealed is not None:
                    setattr(subscription, name, box.reseal(sealed))
            count += 1
    print(f"{count} subscriptions' secrets now encrypted with the first key", file=sys.stderr)
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="send webhook, chat and mail deliveries; reminders")
    worker.add_argument("--concurrency", type=int, default=8, help="deliveries in flight at once")
    worker.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    worker.add_argument("--metrics-host", default="127.0.0.1")
    worker.add_argument("--parent", type=int, help=argparse.SUPPRESS)
    worker.set_defaults(handler=run_worker)

    webhook = commands.add_parser("webhook", help="webhook, chat and mail subscriptions")
    actions = webhook.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="subscribe an organisation; prints its id")
    create.add_argument("--org", required=True, help="organisation code")
    create.add_argument("--name", required=True)
    create.add_argument("--kind", required=True, choices=[kind.value for kind in Kind])
    create.add_argument("--target", required=True, help="https:// URL, or a mail address")
    create.add_argument("--event", action="append", default=[],
                        choices=[kind.value for kind in SUBSCRIBABLE])  # fmt: skip
    create.add_argument("--project", action="append", type=int, default=[], help="project id")
    create.add_argument("--field", action="append", default=[], help="item field, e.g. status")
    create.add_argument("--side", action="append", default=[],
                        choices=[side.value for side in Responsibility])  # fmt: skip
    create.add_argument("--digest-time", default="08:30", help="HH:MM, WBS_TIMEZONE")
    create.add_argument("--contact", help="mail address told if it is disabled")
    listing = actions.add_parser("list", help="list subscriptions (targets masked)")
    listing.add_argument("--org", help="organisation code")
    for name, text in (
        ("delete", "delete a subscription"),
        ("secret", "print a webhook's signing secret"),
        ("rotate-secret", "replace the signing secret; prints the new one"),
        ("test", "queue a test message"),
        ("digest", "queue today's digest now and print what it says"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=int)
        if name == "rotate-secret":
            action.add_argument("--overlap-hours", type=int, default=24)
    webhook.set_defaults(handler=run_webhook)

    secrets = commands.add_parser("secrets", help="the key that encrypts stored secrets")
    secret_actions = secrets.add_subparsers(dest="action", required=True)
    secret_actions.add_parser("new-key", help="print a new key for WBS_SECRET_KEY")
    secret_actions.add_parser(
        "rotate", help="re-encrypt every stored secret with the first WBS_SECRET_KEY"
    )
    secrets.set_defaults(handler=run_secrets)
