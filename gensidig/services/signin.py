"""Signing in with a one-time link sent by e-mail, for chiefs, leaders and admins alike.

Nobody needs a password. The form only queues the request (one insert, the same for every
address) and answers at once; the sender (`gensidig send-mail`) looks the address up and, if it
belongs to someone, e-mails a link. So the page -- its words and its timing -- tells nobody who is
in the system, and no mail server is contacted while the visitor waits.
"""

from __future__ import annotations

import contextlib
import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from gensidig.models import Person, SignInLink, SignInRequest, User
from gensidig.services.mail.server import Result, Stop, deliver, mail_server
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


def sign_in_message(*, user: User, language: str, now: datetime.datetime) -> EmailMultiAlternatives:
    """Make a new link for the user and the e-mail that carries it (the token lives only in the message)."""
    token = new_token()
    SignInLink.objects.create(user=user, token_hash=token.token_hash, expires_at=now + LINK_LIFETIME)
    url = f"{settings.SITE_URL}/login/link/{token.token}/"
    with translation.override(language):
        context = {"url": url, "minutes": int(LINK_LIFETIME.total_seconds() // 60)}
        message = EmailMultiAlternatives(
            subject=render_to_string("gensidig/emails/sign_in_subject.txt", context).strip(),
            body=render_to_string("gensidig/emails/sign_in.txt", context),
            to=[user.email],
            headers={"Auto-Submitted": "auto-generated"},
        )
        message.attach_alternative(render_to_string("gensidig/emails/sign_in.html", context), "text/html")
    return message


def send_sign_in_links(*, now: datetime.datetime | None = None) -> int:
    """Handle the waiting requests: e-mail a link where the address belongs to someone; returns how many went.

    Each request is deleted before its e-mail goes (at most once). An unknown address, or one
    that has asked too often, is simply deleted. If the mail server cannot be reached, the
    requests not yet taken wait for the next run.
    """
    now = now or timezone.now()
    sent = 0
    with contextlib.ExitStack() as stack:
        server = None
        for pk, email, language in SignInRequest.objects.order_by("pk").values_list("pk", "email", "language")[:BATCH]:
            with transaction.atomic():
                if not SignInRequest.objects.filter(pk=pk).delete()[0]:
                    continue  # another sender took it
                user = user_for_email(email)
                if (
                    user is None
                    or SignInLink.objects.filter(user=user, expires_at__gt=now).count() >= LINKS_PER_LIFETIME
                ):
                    continue
                message = sign_in_message(user=user, language=language, now=now)
            try:
                server = server or stack.enter_context(mail_server())
            except Stop:
                break  # they can ask again; the rest wait for the next run
            if deliver(server, message).result is Result.SENT:
                sent += 1
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
