"""Rate limits counted in the database, so every app server shares them.

A limit is a name, a number of requests and a window; what is counted is a keyed hash of who asked
(an e-mail address, a client address), so the table never holds the addresses themselves.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gensidig.models import RateLimitHit


@dataclass(frozen=True)
class Limit:
    name: str
    requests: int
    window: datetime.timedelta


def _key(limit: Limit, who: str) -> str:
    message = f"{limit.name}:{who.strip().lower()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def allow(limit: Limit, who: str | None, *, now: datetime.datetime | None = None) -> bool:
    """Count this request against the limit for `who`; False if it is over (then it is not counted)."""
    if not who:
        return True
    now = now or timezone.now()
    key = _key(limit, who)
    with transaction.atomic():
        recent = RateLimitHit.objects.filter(key=key, at__gt=now - limit.window).count()
        if recent >= limit.requests:
            return False
        RateLimitHit.objects.create(key=key, at=now)
    return True


def clear_old_hits(*, now: datetime.datetime | None = None, longest_window: datetime.timedelta | None = None) -> int:
    """Delete counts older than any window (the daily jobs run this)."""
    longest_window = longest_window or datetime.timedelta(days=1)
    deleted, _ = RateLimitHit.objects.filter(at__lt=(now or timezone.now()) - longest_window).delete()
    return deleted


def sign_in_link_limits() -> tuple[Limit, Limit]:
    hour = datetime.timedelta(hours=1)
    return (
        Limit("sign-in-link/address", settings.GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_ADDRESS, hour),
        Limit("sign-in-link/client", settings.GENSIDIG_SIGN_IN_LINK_REQUESTS_PER_CLIENT, hour),
    )
