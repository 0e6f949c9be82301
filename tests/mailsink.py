"""A real SMTP server (aiosmtpd) on localhost that keeps every message it receives."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def body_text(message: EmailMessage) -> str:
    """The text/plain part of a received e-mail."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def body_html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part else ""


class MailSink:
    """Start with ``start()``; ``stop()`` makes the port refuse connections (SMTP down).

    ``messages`` are the e-mails the server accepted; ``attempts`` every e-mail it received,
    whatever it answered. Set ``answer`` (e.g. "554 5.7.1 Refusé") to refuse each e-mail with
    that reply; ``hold_from = n`` makes the n-th e-mail received (and later ones) wait, unanswered,
    until ``release()`` (``holding`` is set meanwhile), then refuses it with 451: a server that
    never accepted it. ``answer_after = s`` makes the server take ``s`` seconds to accept each
    e-mail (``received`` is set as soon as one has arrived): a mail in flight.
    """

    def __init__(self, port: int | None = None):
        self.messages: list[EmailMessage] = []
        self.attempts: list[EmailMessage] = []
        self.answer: str | None = None
        self.hold_from: int | None = None
        self.holding = threading.Event()
        self.answer_after = 0.0
        self.received = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self.port = port or free_port()
        self._controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                msg = message_from_bytes(envelope.content, policy=policy.default)
                with sink._lock:
                    sink.attempts.append(msg)
                    held = sink.hold_from is not None and len(sink.attempts) >= sink.hold_from
                    answer = sink.answer
                sink.received.set()
                if held:
                    sink.holding.set()
                    while not sink._released.is_set():
                        await asyncio.sleep(0.02)
                    return "451 4.3.0 Not accepted"
                if answer:
                    return answer
                if sink.answer_after:
                    await asyncio.sleep(sink.answer_after)
                with sink._lock:
                    sink.messages.append(msg)
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller:
            self._controller.stop()
            self._controller = None

    def release(self):
        """Let held e-mails go (refused: the server never accepted them)."""
        self._released.set()

    def clear(self):
        with self._lock:
            self.messages.clear()
            self.attempts.clear()

    def wait_for(self, predicate=lambda m: True, *, count: int = 1, timeout: float = 15.0):
        """The messages matching ``predicate`` once at least ``count`` arrived (or the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [m for m in self.messages if predicate(m)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


class SilentServer:
    """Accepts TCP connections and never says a word (no SMTP greeting): a hung mail server."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.1)
        self.port = self._socket.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._closed.is_set():
            try:
                conn, _ = self._socket.accept()
            except OSError:  # timeout (check for close), or closed
                continue
            self.connections.append(conn)

    def close(self):
        self._closed.set()
        self._thread.join()
        self._socket.close()
        for conn in self.connections:
            conn.close()
