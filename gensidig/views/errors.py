"""Error pages in the visitor's language, with a clear message and never a stack trace."""

import sys

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation


def csrf_failure(request, reason=""):
    return render(request, "gensidig/errors/csrf.html", status=403)


def bad_request(request, exception=None):
    return render(request, "gensidig/errors/bad_request.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "gensidig/errors/forbidden.html", status=403)


def not_found(request, exception=None):
    return render(request, "gensidig/errors/not_found.html", status=404)


def too_large(request, *, limit: int) -> HttpResponse:
    """413: the body is over the limit, and was not read.

    Refused before the locale middleware runs, so the visitor's language is looked up here.
    """
    with translation.override(translation.get_language_from_request(request)):
        response = render(
            request, "gensidig/errors/too_large.html", {"limit_mb": max(1, round(limit / (1024 * 1024)))}, status=413
        )
    # The rest of the body is never read; the connection cannot be reused for another request.
    response["Connection"] = "close"
    return response


def database_unavailable(request=None) -> HttpResponse:
    """503 with Retry-After: the database is down, unreachable or too slow (the statement timeout).

    Rendered without the request's context processors, which would ask the database again for the
    session and the user; so the page shows no signed-in navigation.
    """
    body = render_to_string("gensidig/errors/unavailable.html", {"user": AnonymousUser(), "hide_login": True})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(settings.GENSIDIG_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request):
    # Django calls this inside its handler for the exception, so the exception is at hand. A
    # database that is down, unreachable or cancelled a statement for taking too long raises
    # OperationalError or InterfaceError: not our bug, and it passes; the visitor is asked to
    # come back. Anything else is a bug: 500.
    if isinstance(sys.exception(), OperationalError | InterfaceError):
        return database_unavailable(request)
    try:
        return render(request, "gensidig/errors/server_error.html", status=500)
    except Exception:
        body = render_to_string("gensidig/errors/server_error.html", {"user": AnonymousUser(), "hide_login": True})
        return HttpResponse(body, status=500)
