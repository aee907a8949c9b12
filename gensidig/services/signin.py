"""Signing in with a one-time link sent by e-mail, for chiefs, leaders and admins alike.

Nobody needs a password. The form only queues the request (one insert, the same for every
address) and answers at once; the sender (`gensidig send-mail`) looks the address up and, if it
belongs to someone, e-mails a link. So the page -- its words and its timing -- tells nobody who is
in the system, and no mail server is contacted while the visitor waits.
"""

from __future__ import annotations

import contextlib
import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme

from gensidig.models import Person, SignInLink, SignInRequest, User
from gensidig.services.mail.server import Result, Stop, deliver, mail_server, mail_server_trouble
from gensidig.services.survey.tokens import hash_token, new_token

LINK_LIFETIME = datetime.timedelta(minutes=30)
# More requests than this within one lifetime send nothing more, so the form cannot be used to
# flood someone's inbox.
LINKS_PER_LIFETIME = 5
# Requests handled per run of the sender.
BATCH = 500


def user_for_email(email: str) -> User | None:
    """The account for an address, made on first use for anyone in an organisation's chart."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    people = Person.objects.filter(email__iexact=email, active=True)
    if user is None:
        if not people.exists():
            return None
        user = User.objects.create_user(email=email, password=None)
    people.filter(user__isnull=True).update(user=user)
    return user if user.is_active else None


def request_sign_in_link(*, email: str, language: str) -> None:
    """Queue a sign-in link for an address, known or not; the sender decides whether one goes out."""
    SignInRequest.objects.create(email=email.strip().lower()[:254], language=language)


def mail_delayed_since() -> datetime.datetime | None:
    """When the sender last found the mail server unreachable, if it has not got through since.

    The same for every address (it is about the server, not the person), so saying it on the
    page tells nobody who is in the system.
    """
    trouble = mail_server_trouble()
    return trouble.since if trouble else None


def sign_in_message(*, user: User, language: str, now: datetime.datetime) -> EmailMultiAlternatives:
    """Make a new link for the user and the e-mail that carries it (the token lives only in the message)."""
    return _new_link(user=user, language=language, now=now)[1]


def new_link(
    *, user: User, now: datetime.datetime, lifetime: datetime.timedelta = LINK_LIFETIME, next_path: str = ""
) -> tuple[SignInLink, str]:
    """A new one-time link for the user and its URL (the token lives only in the URL returned).

    With `next_path`, a same-site path such as a shared report's, the link lands there once used.
    """
    token = new_token()
    link = SignInLink.objects.create(user=user, token_hash=token.token_hash, expires_at=now + lifetime)
    url = f"{settings.SITE_URL}/login/link/{token.token}/"
    if next_path:
        if safe_next(next_path) is None:
            raise ValueError(f"not a path on this site: {next_path!r}")
        url += "?" + urlencode({"next": next_path})
    return link, url


def safe_next(path: str | None) -> str | None:
    """The path to land on after signing in, if it is a path on this site; None for anything else.

    Only a plain absolute path is taken: no scheme, no host, no "//" or "/\\" that a browser would
    read as another host, no control characters. So a link cannot send anyone elsewhere.
    """
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 or c == "\\" for c in path):
        return None
    if not url_has_allowed_host_and_scheme(path, allowed_hosts=set(), require_https=False):
        return None
    return path


def _new_link(*, user: User, language: str, now: datetime.datetime) -> tuple[SignInLink, EmailMultiAlternatives]:
    link, url = new_link(user=user, now=now)
    with translation.override(language):
        context = {"url": url, "minutes": int(LINK_LIFETIME.total_seconds() // 60)}
        message = EmailMultiAlternatives(
            subject=render_to_string("gensidig/emails/sign_in_subject.txt", context).strip(),
            body=render_to_string("gensidig/emails/sign_in.txt", context),
            to=[user.email],
            headers={"Auto-Submitted": "auto-generated"},
        )
        message.attach_alternative(render_to_string("gensidig/emails/sign_in.html", context), "text/html")
    return link, message


def send_sign_in_links(*, now: datetime.datetime | None = None) -> int:
    """Handle the waiting requests: e-mail a link where the address belongs to someone; returns how many went.

    The mail server is reached first: while it cannot be, every request waits for the next run
    (and the sign-in page says e-mail is delayed). Each request is then deleted before its e-mail
    goes (at most once). An unknown address, or one that has asked too often, is simply deleted.
    If the server takes nothing and goes away, the request being sent waits again (its link is
    dropped, having reached nobody) and so do the rest; if the connection is lost half-way, that
    one link may or may not have arrived, and is not sent again.
    """
    now = now or timezone.now()
    if not SignInRequest.objects.exists():
        return 0  # nothing to send: the mail server is not contacted
    sent = 0
    with contextlib.suppress(Stop), mail_server() as server:
        for pk, email, language in SignInRequest.objects.order_by("pk").values_list("pk", "email", "language")[:BATCH]:
            with transaction.atomic():
                if not SignInRequest.objects.filter(pk=pk).delete()[0]:
                    continue  # another sender took it
                user = user_for_email(email)
                if user is None:
                    continue
                # Only the short-lived links asked for here count: a longer one in a notification
                # (a shared report's) must not use up someone's requests.
                recent = SignInLink.objects.filter(user=user, expires_at__gt=now, expires_at__lte=now + LINK_LIFETIME)
                if recent.count() >= LINKS_PER_LIFETIME:
                    continue
                link, message = _new_link(user=user, language=language, now=now)
            outcome = deliver(server, message)
            if outcome.result is Result.SENT:
                sent += 1
            elif outcome.result is Result.NOT_TAKEN:
                with transaction.atomic():
                    link.delete()
                    SignInRequest.objects.create(email=email, language=language)
                raise Stop(outcome.error)
            elif outcome.result is Result.LOST:
                raise Stop(outcome.error)
            # FAILED: the server refused this address; there is nothing to try again.
    return sent


def use_sign_in_link(*, token: str, now: datetime.datetime | None = None) -> User | None:
    """The user a link signs in, using the link up; None for an unknown, used or expired link."""
    with transaction.atomic():
        link = SignInLink.objects.select_for_update().filter(token_hash=hash_token(token)).first()
        if link is None or not link.usable(now):
            return None
        link.used = True
        link.save(update_fields=["used"])
    return link.user
