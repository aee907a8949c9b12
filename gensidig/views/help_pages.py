"""Help for each role, in the project's own words: public, so a leader can read it before signing in."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from gensidig.services.results.figures import COMMENTS_FLOOR

ROLES = ("leader", "chief", "hr")


def index(request):
    return render(request, "gensidig/help/index.html")


def role(request, role: str):
    if role not in ROLES:
        raise Http404
    return render(
        request,
        f"gensidig/help/{role}.html",
        {
            "role": role,
            "default_k": settings.GENSIDIG_DEFAULT_THRESHOLD,
            "minimum_k": settings.GENSIDIG_MINIMUM_THRESHOLD,
            "comments_floor": COMMENTS_FLOOR,
        },
    )
