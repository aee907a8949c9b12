"""The invitation and reminder e-mails: one person's, in their language, plain text with an HTML alternative.

`build_message` makes one person's message. `Letters` makes many for a sender: each kind of letter
is rendered once, and only the team's name, the person's name and the link are put in per letter;
the message is serialised by hand for Django's SMTP backend, where the email package, folding and
encoding every header and part anew, was the largest cost of a message.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import email.policy
import functools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid
from types import SimpleNamespace

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.timezone import get_current_timezone

from gensidig.models import Person, Round
from gensidig.models.choices import Role
from gensidig.services.results.figures import comments_threshold
from gensidig.services.survey.links import answer_url

# Headers every message carries: it is machine-made (RFC 3834), so auto-responders and
# Exchange's out-of-office replies should stay quiet.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "OOF, AutoReply"}


def _context(round_: Round, person, role: str, token: str) -> dict:
    return {
        "round": round_,
        "team": round_.team,
        "organisation": round_.team.organisation,
        "person": person,
        "url": answer_url(token),
        "is_leader": role == Role.LEADER,
        "k": round_.anonymity_threshold,
        "comments_k": comments_threshold(round_.anonymity_threshold),
    }


def _render(kind: str, context: dict) -> tuple[str, str, str]:
    subject = " ".join(render_to_string(f"gensidig/emails/{kind}_subject.txt", context).split())
    text = render_to_string(f"gensidig/emails/{kind}.txt", context)
    html = render_to_string(f"gensidig/emails/{kind}.html", context)
    return subject, text, html


def build_message(*, round_: Round, person: Person, role: str, token: str, reminder: bool = False):
    """One person's invitation (or reminder) in their language: plain text with an HTML alternative."""
    kind = "reminder" if reminder else "invitation"
    with translation.override(round_.team.organisation.language_for(person.language)):
        subject, text, html = _render(kind, _context(round_, person, role, token))
        message = EmailMultiAlternatives(subject=subject, body=text, to=[person.email], headers=dict(AUTOMATIC_HEADERS))
        message.attach_alternative(html, "text/html")
    return message


# --- Many messages, cheaply ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rendered:
    """One kind of letter rendered with stand-ins for the team's name, the person's name and the link."""

    subject: str
    text: str
    html: str


class Letters:
    """Invitations (or reminders) for many people, each kind rendered once.

    A kind is what the templates tell apart besides the team, the person and the link: the
    organisation, the closing time and k of the round, the role, the language, and whether the
    person has a name. The team's name, the person's name and the link are rendered as random
    stand-ins and put in per letter (names HTML-escaped in the HTML part, as the templates do), so
    a campaign of a thousand teams is rendered a few times, not a thousand. The templates may
    therefore use only the name of the team and of the person; the tests check that a letter is
    exactly what build_message makes.
    """

    def __init__(self, *, reminder: bool = False):
        self.kind = "reminder" if reminder else "invitation"
        # Letters and digits only, so that escaping and URL-building leave them as they are.
        self._team = "GensidigTeam" + secrets.token_hex(12)
        self._name = "GensidigName" + secrets.token_hex(12)
        self._token = "GensidigToken" + secrets.token_hex(15)
        self._rendered: dict[tuple, _Rendered] = {}
        self._heads: dict[str, bytes] = {}

    def message(self, *, round_: Round, person: Person, role: str, token: str) -> PreparedMessage:
        organisation = round_.team.organisation
        language = organisation.language_for(person.language)
        named = bool(person.name)
        key = (organisation.pk, round_.closes_at, round_.anonymity_threshold, role, language, named)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = self._render(round_, role, language, named=named)
        team = round_.team.name
        subject = " ".join(rendered.subject.replace(self._team, team).split())
        text = rendered.text.replace(self._team, team)
        html = rendered.html.replace(self._team, escape(team))
        if named:
            text = text.replace(self._name, person.name)
            html = html.replace(self._name, escape(person.name))
        head = self._heads.get(subject)
        if head is None:
            head = self._heads[subject] = _head(subject)
        return PreparedMessage(
            subject=subject,
            body=text.replace(self._token, token),
            html=html.replace(self._token, token),
            to=[person.email],
            head=head,
        )

    def _render(self, round_: Round, role: str, language: str, *, named: bool) -> _Rendered:
        context = _context(round_, SimpleNamespace(name=self._name if named else ""), role, self._token)
        context["team"] = SimpleNamespace(name=self._team)
        with translation.override(language):
            subject, text, html = _render(self.kind, context)
        return _Rendered(subject=subject, text=text, html=html)


def _head(subject: str) -> bytes:
    """The Subject and From lines, folded and encoded for SMTP."""
    # "=?" in plain text could be read as the start of an encoded word: such a subject is encoded too.
    if subject.isascii() and subject.isprintable() and "=?" not in subject and len(subject) <= 78 - len("Subject: "):
        subject_line = f"Subject: {subject}\r\n"
    elif subject.isprintable():
        subject_line = f"Subject: {_encoded_words(subject)}\r\n"
    else:
        subject_line = _folded("Subject", subject)
    return subject_line.encode("ascii") + _from_line(settings.DEFAULT_FROM_EMAIL)


def _encoded_words(text: str) -> str:
    """RFC 2047 encoded words (UTF-8, base64), one per folded line, never splitting a character.

    42 bytes make 56 base64 characters, 68 with the markers: with "Subject: " a line stays within 78.
    """
    words, word = [], b""
    for character in text:
        encoded = character.encode("utf-8")
        if len(word) + len(encoded) > 42:
            words.append(word)
            word = b""
        word += encoded
    words.append(word)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def _folded(name: str, value: str) -> str:
    head = email.message.EmailMessage(policy=email.policy.SMTP)
    head[name] = value
    return head.as_string()[: -len("\r\n")]  # the blank line that ends the headers


@functools.lru_cache(maxsize=4)
def _from_line(from_email: str) -> bytes:
    return _folded("From", from_email).encode("ascii")


_AUTOMATIC = "".join(f"{name}: {value}\r\n" for name, value in AUTOMATIC_HEADERS.items()).encode()


class PreparedMessage(EmailMultiAlternatives):
    """A letter: a Django message like any other, which serialises itself cheaply for the SMTP backend.

    Django's SMTP backend asks for message(policy=email.policy.SMTP) and sends its bytes; this
    writes those bytes directly (quoted-printable UTF-8 parts). Any other caller, or an address or
    sender that would need IDNA or encoded words, gets Django's own message.
    """

    def __init__(self, *, subject: str, body: str, html: str, to: list[str], head: bytes):
        super().__init__(subject=subject, body=body, to=to, headers=dict(AUTOMATIC_HEADERS))
        self.attach_alternative(html, "text/html")
        self._head = head

    def message(self, *, policy=email.policy.default):
        if (
            policy is not email.policy.SMTP
            or not _plain_address(self.to)
            or self.from_email != settings.DEFAULT_FROM_EMAIL
            or not self.from_email.isascii()  # Django would put an IDNA domain in it
        ):
            return super().message(policy=policy)
        return _Serialised(self._serialise())

    def _serialise(self) -> bytes:
        # "=_" never occurs in quoted-printable text, so the boundary cannot appear in a part.
        boundary = ("=_" + secrets.token_hex(16)).encode()
        now = datetime.now(get_current_timezone() if settings.EMAIL_USE_LOCALTIME else UTC)
        html = self.alternatives[0].content
        return b"".join(
            [
                b'Content-Type: multipart/alternative;\r\n boundary="',
                boundary,
                b'"\r\nMIME-Version: 1.0\r\n',
                self._head,
                b"To: ",
                self.to[0].encode("ascii"),
                b"\r\nDate: ",
                format_datetime(now).encode("ascii"),
                b"\r\nMessage-ID: ",
                make_msgid(domain=DNS_NAME).encode("ascii"),
                b"\r\n",
                _AUTOMATIC,
                b"\r\n--",
                boundary,
                b'\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
                _quoted_printable(self.body),
                b"\r\n--",
                boundary,
                b'\r\nContent-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
                _quoted_printable(html),
                b"\r\n--",
                boundary,
                b"--\r\n",
            ]
        )


class _Serialised:
    """What Django's SMTP backend takes from message(): something with as_bytes()."""

    def __init__(self, data: bytes):
        self._data = data

    def as_bytes(self, *args, **kwargs) -> bytes:
        return self._data


def _plain_address(to: list[str]) -> bool:
    """One ASCII address with nothing to fold or encode (anything else takes Django's path)."""
    return len(to) == 1 and to[0].isascii() and to[0].isprintable() and " " not in to[0] and "," not in to[0]


def _quoted_printable(content: str) -> bytes:
    data = content.replace("\r\n", "\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True).replace(b"\n", b"\r\n")
