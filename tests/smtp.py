"""A real SMTP server for tests (aiosmtpd), and settings that send to it over Django's SMTP backend.

It keeps every message it accepts and refuses, with 550, any recipient whose address contains
"bounce", as a mail server refuses an unknown mailbox.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
import socket
import threading
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

LINK = re.compile(r"/a/([A-Za-z0-9_\-]{43})/")
# aiosmtpd says at INFO when a client hangs up. Its server thread can outlive a test, and then it
# wrote to the test's captured stream after pytest had closed it ("--- Logging error ---").
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_settings(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    recipients: tuple[str, ...]
    message: email.message.EmailMessage

    @property
    def to(self) -> str:
        (address,) = self.recipients
        return address

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        found = [p for p in self.message.walk() if p.get_content_type() == content_type]
        assert len(found) == 1, f"expected one {content_type} part, found {len(found)}"
        return found[0].get_content()

    @property
    def text(self) -> str:
        return self.part("text/plain")

    @property
    def html(self) -> str:
        return self.part("text/html")

    @property
    def token(self) -> str:
        tokens = set(LINK.findall(self.text)) | set(LINK.findall(self.html))
        assert len(tokens) == 1, tokens
        return tokens.pop()


class RecordingHandler:
    def __init__(self):
        self.received: list[Received] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "bounce" in address:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(Received(recipients=tuple(envelope.rcpt_tos), message=message))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, handler: RecordingHandler, port: int):
        self.handler, self.port = handler, port

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received if address in m.recipients]

    def recipients(self) -> list[str]:
        """Every recipient of every message, with repeats: a repeat is someone who got two."""
        return [address for m in self.received for address in m.recipients]

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.received.clear()


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server on a free local port, with Django's default mailer pointed at it.

    Django's test runner swaps MAILERS for the in-memory backend when the run starts; this puts
    the real SMTP backend back for the test that asks for it.
    """
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = smtp_settings(port)
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()


@pytest.fixture
def no_smtp_server(settings):
    """Django's default mailer pointed at a local port where nothing listens."""
    settings.MAILERS = smtp_settings(free_port())
    return settings.MAILERS
