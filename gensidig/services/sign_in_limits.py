"""Limits on signing in: who is the client, and under what name wrong passwords are counted.

Wrong passwords are counted by django-axes (settings: AXES_*); these are the hooks it calls.
"""

from __future__ import annotations

from django.conf import settings


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind GENSIDIG_PROXY_COUNT proxies the one they recorded.

    Each proxy appends the address it got the request from to X-Forwarded-For, so with n trusted
    proxies the client is the n-th entry from the right; entries further left are the client's own
    claims, which anyone can forge.
    """
    proxies = settings.GENSIDIG_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def username_for_limits(request, credentials) -> str:
    """The account an attempt was for, as the sign-in form compares it: one count per address, any letter case."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(raw).strip().lower()[:254]


def lockout_response(request, original_response=None, credentials=None):
    """429 with our page (in the visitor's language) and Retry-After: how long the pause lasts."""
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(request, "gensidig/errors/locked_out.html", {"cooloff_minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
