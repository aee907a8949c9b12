"""The demo's outbox: e-mails are kept in the data folder and shown on a page, instead of being sent.

`gensidig demo` switches it on (the GENSIDIG_DEMO_OUTBOX setting) when it serves the demo, so
that sign-in links, invitations and reminders can be tried without a mail server: the sender
hands its messages to this backend, and /demo/outbox/ lists them. Off, the page does not exist
(404) and mail goes to the configured server; it is never on in production.
"""

from __future__ import annotations

import contextlib
import datetime
import email
import email.policy
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

BACKEND = "gensidig.services.mail.demo_outbox.DemoOutboxBackend"
# The environment variable the setting is read from (gensidig/settings.py), passed on to the
# demo's sender process.
VARIABLE = "GENSIDIG_DEMO_OUTBOX"
# A stored message's id: when it was stored (nanoseconds, so they sort) and a random part.
MESSAGE_ID = re.compile(r"^[0-9]{19,20}-[0-9a-f]{16}$")


def demo_outbox_on() -> bool:
    return bool(getattr(settings, "GENSIDIG_DEMO_OUTBOX", False))


def outbox_folder() -> Path:
    return Path(settings.DATA_DIR) / "demo-outbox"


class DemoOutboxBackend(BaseEmailBackend):
    """Keeps each message as an .eml file in the demo outbox folder, newest last."""

    def send_messages(self, email_messages) -> int:
        folder = outbox_folder()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{time.time_ns():020d}-{secrets.token_hex(8)}"
            partial = folder / f"{name}.part"
            partial.write_bytes(message.message().as_bytes())
            partial.replace(folder / f"{name}.eml")  # whole or not at all, for the page reading it
        return len(email_messages)


@dataclass(frozen=True)
class StoredMessage:
    id: str
    to: str
    subject: str
    sent_at: datetime.datetime | None
    text: str


def stored_messages() -> list[StoredMessage]:
    """Every message in the outbox, newest first."""
    folder = outbox_folder()
    if not folder.is_dir():
        return []
    names = sorted((path.stem for path in folder.glob("*.eml") if MESSAGE_ID.match(path.stem)), reverse=True)
    return [message for name in names if (message := stored_message(name)) is not None]


def stored_message(message_id: str) -> StoredMessage | None:
    """One message by its id; None for an id that is not one, or is not there."""
    if not MESSAGE_ID.match(message_id):
        return None
    try:
        raw = (outbox_folder() / f"{message_id}.eml").read_bytes()
    except FileNotFoundError:
        return None
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    sent_at = None
    with contextlib.suppress(TypeError, ValueError):
        sent_at = parsedate_to_datetime(str(parsed["Date"]))
    return StoredMessage(
        id=message_id,
        to=str(parsed["To"] or ""),
        subject=str(parsed["Subject"] or ""),
        sent_at=sent_at,
        text=body.get_content() if body is not None else "",
    )


def empty_outbox() -> None:
    """Forget every stored message (the demo starts afresh: the links in them no longer work)."""
    shutil.rmtree(outbox_folder(), ignore_errors=True)


@contextlib.contextmanager
def switched_on() -> Iterator[None]:
    """The demo outbox on in this process, and in the processes it starts, until the block ends."""
    before = {
        "GENSIDIG_DEMO_OUTBOX": settings.GENSIDIG_DEMO_OUTBOX,
        "MAILERS": settings.MAILERS,
    }
    variable = os.environ.get(VARIABLE)
    settings.GENSIDIG_DEMO_OUTBOX = True
    settings.MAILERS = {**settings.MAILERS, "default": {"BACKEND": BACKEND, "OPTIONS": {}}}
    os.environ[VARIABLE] = "true"
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(settings, name, value)
        if variable is None:
            os.environ.pop(VARIABLE, None)
        else:
            os.environ[VARIABLE] = variable
