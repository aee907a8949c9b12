"""Signing in with a one-time link sent by e-mail, for chiefs, leaders and admins alike.

Nobody needs a password: asking for a link with an address we know sends one; asking with an
address we do not know looks exactly the same, so the page tells nobody who is in the system.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from gensidig.models import Person, SignInLink, User
from gensidig.services.survey.tokens import hash_token, new_token

LINK_LIFETIME = datetime.timedelta(minutes=30)
# More requests than this within one lifetime send nothing more, so the form cannot be used to
# flood someone's inbox.
LINKS_PER_LIFETIME = 5


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


def send_sign_in_link(*, email: str, language: str, now: datetime.datetime | None = None) -> bool:
    """E-mail a one-time sign-in link if the address belongs to someone; True if one was sent."""
    now = now or timezone.now()
    user = user_for_email(email)
    if user is None:
        return False
    recent = SignInLink.objects.filter(user=user, expires_at__gt=now).count()
    if recent >= LINKS_PER_LIFETIME:
        return False
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
    message.send()
    return True


def use_sign_in_link(*, token: str, now: datetime.datetime | None = None) -> User | None:
    """The user a link signs in, using the link up; None for an unknown, used or expired link."""
    with transaction.atomic():
        link = SignInLink.objects.select_for_update().filter(token_hash=hash_token(token)).first()
        if link is None or not link.usable(now):
            return None
        link.used = True
        link.save(update_fields=["used"])
    return link.user
