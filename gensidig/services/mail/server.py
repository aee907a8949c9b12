"""Talking to the mail server: one connection per run, and what became of each message handed over.

Whether the server could be reached at the sender's last try is noted in the data folder, so a
page can tell someone waiting for an e-mail that it is delayed (the sign-in page does). It is one
machine's note: where the sender runs on another machine than the web server, the page does not
know, and says what it always says.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.utils import timezone
from django.utils.translation import gettext as _

# The server's "service not available, closing connection": it took nothing, so nothing is lost
# by trying again later.
SERVICE_NOT_AVAILABLE = 421


class Result(Enum):
    SENT = "sent"
    FAILED = "failed"  # refused for this message; the next may go through
    NOT_TAKEN = "not taken"  # the server took nothing and is going away: stop, try later
    LOST = "lost"  # the connection went away mid-message: it may or may not have arrived
    SKIPPED = "skipped"  # another sender claimed it first


@dataclass(frozen=True)
class Outcome:
    result: Result
    error: str = ""


class Stop(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Trouble:
    """The mail server could not be reached at the sender's last try: since when, and why."""

    since: datetime.datetime
    error: str


def _trouble_file() -> Path:
    return Path(settings.DATA_DIR) / "mail-server-trouble.json"


def mail_server_trouble() -> Trouble | None:
    """Whether the sender's last try found the mail server unreachable; None when it got through."""
    try:
        noted = json.loads(_trouble_file().read_text())
        return Trouble(since=datetime.datetime.fromisoformat(noted["since"]), error=str(noted["error"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _note_trouble(reason: str) -> None:
    earlier = mail_server_trouble()
    since = earlier.since if earlier else timezone.now()
    with contextlib.suppress(OSError):  # a note that cannot be written must not stop the sender
        path = _trouble_file()
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps({"since": since.isoformat(), "error": reason}))
        partial.replace(path)


def _note_reachable() -> None:
    with contextlib.suppress(OSError):
        _trouble_file().unlink(missing_ok=True)


@contextlib.contextmanager
def mail_server() -> Iterator:
    """One connection for the whole run; a server that cannot be reached stops the run before anything is claimed."""
    connection = mailers.default
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:
        reason = _("The mail server could not be reached: %(error)s") % {"error": _describe(error)}
        _note_trouble(reason)
        raise Stop(reason) from error
    _note_reachable()
    try:
        yield connection
    except Stop as stop:  # the server went away, or is not taking messages now
        _note_trouble(stop.reason)
        raise
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()


def deliver(connection, message: EmailMultiAlternatives) -> Outcome:
    """Hand one message to the server and say what became of it. Other exceptions are bugs and propagate."""
    try:
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as error:
        replies = list(error.recipients.values())
        if any(code == SERVICE_NOT_AVAILABLE for code, _reply in replies):
            return Outcome(Result.NOT_TAKEN, _("The mail server is not taking messages now."))
        reply = "; ".join(_reply_text(code, text) for code, text in replies)
        return Outcome(Result.FAILED, _("The mail server refused the address: %(reply)s") % {"reply": reply})
    except smtplib.SMTPResponseException as error:  # SMTPSenderRefused, SMTPDataError and others with a reply
        if error.smtp_code == SERVICE_NOT_AVAILABLE:
            return Outcome(Result.NOT_TAKEN, _("The mail server is not taking messages now."))
        reply = _reply_text(error.smtp_code, error.smtp_error)
        return Outcome(Result.FAILED, _("The mail server refused the message: %(reply)s") % {"reply": reply})
    except smtplib.SMTPServerDisconnected as error:
        return Outcome(Result.LOST, _("The connection to the mail server was lost: %(error)s") % {"error": error})
    except smtplib.SMTPException as error:
        return Outcome(Result.FAILED, _describe(error))
    except ValueError as error:  # Django refuses an address it cannot put on the envelope
        return Outcome(Result.FAILED, _("Not a usable e-mail address: %(error)s") % {"error": error})
    except OSError as error:
        return Outcome(Result.LOST, _("The connection to the mail server was lost: %(error)s") % {"error": error})
    return Outcome(Result.SENT)


def _reply_text(code, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(f"{code} {text}".split())


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply_text(error.smtp_code, error.smtp_error)
    return " ".join(str(error).split()) or type(error).__name__
