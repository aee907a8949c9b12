"""The demo's outbox: the e-mails the demo sent, so sign-in links and invitations can be tried without a mail server.

Only while `gensidig demo` serves (GENSIDIG_DEMO_OUTBOX); otherwise these pages do not exist.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gensidig.models import SignInRequest
from gensidig.services.mail.demo_outbox import demo_outbox_on, stored_message, stored_messages


def _demo_only() -> None:
    if not demo_outbox_on():
        raise Http404


@never_cache
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    _demo_only()
    return render(
        request,
        "gensidig/demo/outbox.html",
        # A sign-in link asked for and not yet handed over: the page looks again in a moment.
        {"messages_sent": stored_messages(), "waiting": SignInRequest.objects.exists()},
    )


@never_cache
@require_GET
def outbox_message(request: HttpRequest, message_id: str) -> HttpResponse:
    _demo_only()
    message = stored_message(message_id)
    if message is None:
        raise Http404
    return render(request, "gensidig/demo/message.html", {"message": message})
