"""Real receivers on loopback: an HTTP server that records what it is sent and answers as a
test scripts it, and an SMTP server (aiosmtpd) that keeps the mails. Tests wait on what they
receive (a condition), never on a fixed sleep."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import PATIENCE, free_port

WAIT = PATIENCE


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Receiver:
    """Records each request as it arrives, then answers it with the next scripted answer
    (then `default`) once `hold` is set (it is, unless a test clears it to keep a request in
    flight)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    default: Answer = (200, {}, b"ok")
    hold: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.hold.set()

    def arrive(self, request: Received) -> Answer:
        with self.arrived:
            self.received.append(request)
            self.arrived.notify_all()
        self.hold.wait(WAIT)
        with self.arrived:
            return self.script.pop(0) if self.script else self.default

    def wait_for(self, count: int, timeout: float = WAIT) -> list[Received]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(
                    f"expected {count} requests within {timeout} s, got {len(self.received)}"
                )
            return list(self.received)

    def bodies(self) -> list[Any]:
        import json

        with self.arrived:
            return [json.loads(request.body) for request in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Headers and body go out as two writes: with Nagle's algorithm the second waits for
        # the client's delayed ACK, 40 ms a request.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            request = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
            )
            status, headers, body = receiver.arrive(request)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the sender went away (a killed worker)

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@contextmanager
def receiving(path: str = "/hook", host: str = "127.0.0.1") -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer((host, 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://{host}:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.hold.set()
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    mails: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.mails.append((envelope, parsed))  # type: ignore[arg-type]
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = WAIT) -> list[EmailMessage]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.mails) >= count, timeout):
                raise AssertionError(f"expected {count} mails, got {len(self.mails)}")
            return [mail for _, mail in self.mails]


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(port=free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def until(check: Callable[[], bool], timeout: float = WAIT, every: float = 0.05) -> None:
    """Poll an observable state (a database row) until it holds."""
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the awaited state did not come")
        time.sleep(every)
