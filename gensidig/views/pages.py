"""Public pages: the front page, what the survey asks, and a health check."""

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import translation

from gensidig import framework as fw

from .chief import dashboard


def home(request):
    if request.user.is_authenticated:
        return dashboard(request)
    return render(request, "gensidig/pages/home.html")


def about(request):
    """The framework as it stands, with the source credited."""
    framework = fw.load(fw.CURRENT_VERSION, translation.get_language())
    return render(request, "gensidig/pages/about.html", {"framework": framework})


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
