"""Error pages in the visitor's language, with a clear message and never a stack trace."""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    return render(request, "gensidig/errors/csrf.html", status=403)


def bad_request(request, exception=None):
    return render(request, "gensidig/errors/bad_request.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "gensidig/errors/forbidden.html", status=403)


def not_found(request, exception=None):
    return render(request, "gensidig/errors/not_found.html", status=404)


def server_error(request):
    return render(request, "gensidig/errors/server_error.html", status=500)
