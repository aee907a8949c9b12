"""Signing in with a one-time link by e-mail (passwords are handled by Django's LoginView)."""

from django import forms
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gensidig import tasks
from gensidig.services import rate_limits
from gensidig.services.jobs import soon
from gensidig.services.mail.demo_outbox import demo_outbox_on
from gensidig.services.sign_in_limits import client_address
from gensidig.services.signin import (
    LINK_LIFETIME,
    mail_delayed_since,
    request_sign_in_link,
    safe_next,
    use_sign_in_link,
)

LINK_MINUTES = int(LINK_LIFETIME.total_seconds() // 60)


class SignInLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        error_messages={"required": _("Write your e-mail address."), "invalid": _("That is not an e-mail address.")},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def request_link(request: HttpRequest) -> HttpResponse:
    form = SignInLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Limited per address and per client, counted alike for known and unknown addresses, so
        # being refused says nothing about whether anyone has that address either.
        per_address, per_client = rate_limits.sign_in_link_limits()
        if not rate_limits.allow(per_client, client_address(request)):
            return _too_many(request, per_client)
        if not rate_limits.allow(per_address, form.cleaned_data["email"]):
            return _too_many(request, per_address)
        # The same answer, and the same work, whether or not the address is known: the page tells
        # nobody who is here. The sender e-mails the link a moment later; if it could not reach
        # the mail server at its last try, the page says the e-mail is delayed (the request waits).
        request_sign_in_link(email=form.cleaned_data["email"], language=translation.get_language())
        soon(tasks.send_sign_in_links)  # the page promises the link within moments
        return render(
            request,
            "gensidig/registration/link_sent.html",
            {
                "email": form.cleaned_data["email"],
                "minutes": LINK_MINUTES,
                "delayed_since": mail_delayed_since(),
                "demo_outbox": demo_outbox_on(),
            },
        )
    status = 400 if form.errors else 200
    return render(
        request,
        "gensidig/registration/request_link.html",
        {"form": form, "demo_outbox": demo_outbox_on()},
        status=status,
    )


def _too_many(request: HttpRequest, limit: rate_limits.Limit) -> HttpResponse:
    minutes = int(limit.window.total_seconds() // 60)
    response = render(
        request,
        "gensidig/registration/too_many_links.html",
        {"per_address": limit.name.endswith("address"), "minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def use_link(request: HttpRequest, token: str) -> HttpResponse:
    # Opening the link only shows a button: mail scanners open links, and must not use them up.
    if request.method == "GET":
        return render(request, "gensidig/registration/use_link.html")
    user = use_sign_in_link(token=token)
    if user is None:
        return render(request, "gensidig/registration/link_unusable.html", {"minutes": LINK_MINUTES}, status=404)
    login(request, user, backend="gensidig.auth_backends.ModelBackend")
    # A link in a notification lands where it points (a shared report); only a path on this site.
    return redirect(safe_next(request.GET.get("next")) or "gensidig:home")
