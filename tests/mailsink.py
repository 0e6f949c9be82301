"""A real SMTP server (aiosmtpd) on localhost that keeps every message it receives."""

from __future__ import annotations

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
    """Start with ``start()``; ``stop()`` makes the port refuse connections (SMTP down)."""

    def __init__(self, port: int | None = None):
        self.messages: list[EmailMessage] = []
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
                    sink.messages.append(msg)
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller:
            self._controller.stop()
            self._controller = None

    def clear(self):
        with self._lock:
            self.messages.clear()

    def wait_for(self, predicate=lambda m: True, *, count: int = 1, timeout: float = 15.0):
        """The messages matching ``predicate`` once at least ``count`` arrived (or the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [m for m in self.messages if predicate(m)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
