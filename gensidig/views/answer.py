"""Answering through a token link: intake, the theme-by-theme form, and the thank-you page.

Opening a link (GET or HEAD, as mail scanners do) never uses it up. The first visit moves the
token's hash into the session and redirects to a URL without the token; only sending the last
page uses the invitation (DESIGN.md 2.7).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gensidig import framework as fw
from gensidig.forms.answer import AnswerForm, complete_answers
from gensidig.models.choices import Role
from gensidig.services.results import comments_threshold
from gensidig.services.survey.answering import (
    MAX_COMMENT_LENGTH,
    AnswersRejected,
    InvitationUnusable,
    invitation_id_for,
    questions_for,
    submit_answers,
    ticket_for,
    usable_invitation,
)
from gensidig.services.survey.instruments import framework_for
from gensidig.services.survey.tokens import hash_token, looks_like_token

SESSION_KEY = "answer_invitation"
INTRO_STEP = 0


@never_cache
@require_http_methods(["GET", "HEAD"])
def token_intake(request: HttpRequest, token: str) -> HttpResponse:
    # The same redirect whatever the token, so the response tells nothing about it.
    # The session keeps which invitation the link was for, not the link itself: a reminder may
    # replace the link while someone is answering, and their answers must still be accepted.
    invitation_id = invitation_id_for(token_hash=hash_token(token)) if looks_like_token(token) else None
    request.session[SESSION_KEY] = invitation_id or 0
    return HttpResponseRedirect(reverse("gensidig:answer"))


def _unusable(request: HttpRequest) -> HttpResponse:
    """One neutral page for an unknown, used or expired link."""
    return render(request, "gensidig/answer/unusable.html", status=404)


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest) -> HttpResponse:
    invitation_id = request.session.get(SESSION_KEY) or 0
    if request.method == "POST" and request.POST.get("action") == "send" and invitation_id:
        sent = _send_complete_form(request, invitation_id)
        if sent is not None:
            return sent

    invitation = usable_invitation(invitation_id=invitation_id) if invitation_id else None
    if invitation is None:
        return _unusable(request)
    round_ = invitation.round
    themes = framework_for(round_.instrument, fw.LANGUAGES[0]).themes
    current = _bounded_int(request.POST.get("step"), INTRO_STEP, len(themes))
    action = request.POST.get("action")
    _prefer_language(request, invitation)
    framework = framework_for(round_.instrument, translation.get_language())
    context = {
        "invitation": invitation,
        "round": round_,
        "team": round_.team,
        "organisation": round_.team.organisation,
        "framework": framework,
        "is_leader": invitation.role == Role.LEADER,
        "k": round_.anonymity_threshold,
        "comments_k": comments_threshold(round_.anonymity_threshold),
    }
    if request.method == "GET":
        return render(request, "gensidig/answer/intro.html", context)

    form = AnswerForm(request.POST, framework=framework, role=invitation.role, instrument=round_.instrument)
    if action == "back":
        return _show_step(request, context, form, max(current - 1, INTRO_STEP), with_errors=False)
    if action == "next" and current < len(themes):
        if current == INTRO_STEP or form.step_is_valid(form.steps()[current - 1]):
            return _show_step(request, context, form, current + 1, with_errors=False)
        return _show_step(request, context, form, current, with_errors=True)
    if action == "send" and current == len(themes):
        return _show_step(request, context, form, form.first_step_with_errors() or 1, with_errors=True)
    return render(request, "gensidig/errors/bad_request.html", status=400)


def _send_complete_form(request: HttpRequest, invitation_id: int) -> HttpResponse | None:
    """The common case, and the hot path: the last page is sent with every answer valid.

    It needs no form, no page and no team, so it reads none. Anything else (a missing or wrong
    answer, a used link) returns None and goes the long way, which says what is wrong.
    """
    ticket = ticket_for(invitation_id=invitation_id)
    if ticket is None or ticket.used:
        return None
    themes = framework_for(ticket.instrument, fw.LANGUAGES[0]).themes
    if _bounded_int(request.POST.get("step"), INTRO_STEP, len(themes)) != len(themes):
        return None
    answers = complete_answers(
        request.POST,
        questions=questions_for(instrument=ticket.instrument, role=ticket.role),
        theme_keys=[theme.key for theme in themes],
        role=ticket.role,
    )
    if answers is None:
        return None
    return _submit(request, ticket, answers)


def _submit(request: HttpRequest, ticket, answers) -> HttpResponse:
    try:
        submit_answers(ticket=ticket, answers=answers)
    except InvitationUnusable:
        return _unusable(request)
    except AnswersRejected:
        return render(request, "gensidig/errors/bad_request.html", status=400)
    # The session is left as it is: writing it would be a second transaction per answer, and
    # the link it points to is used up now anyway.
    return HttpResponseRedirect(reverse("gensidig:answer-thanks"), status=303)


def _show_step(request, context, form: AnswerForm, number: int, *, with_errors: bool) -> HttpResponse:
    if number == INTRO_STEP:
        return render(request, "gensidig/answer/intro.html", context)
    steps = form.steps(show_errors_for=number if with_errors else None)
    step = steps[number - 1]
    errors = [(f, error) for f in step.fields for error in f.errors]
    return render(
        request,
        "gensidig/answer/step.html",
        {
            **context,
            "step": step,
            "steps": steps,
            "is_last": number == len(steps),
            "carried": form.carried(except_step=step),
            "error_list": errors,
            "comment_max_length": MAX_COMMENT_LENGTH,
        },
        status=400 if errors else 200,
    )


def _bounded_int(raw, low: int, high: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return low
    return min(max(value, low), high)


def _prefer_language(request: HttpRequest, invitation) -> None:
    """Answer in the person's own language unless they have chosen one themselves."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES or invitation.person is None:
        return
    language = invitation.round.team.organisation.language_for(invitation.person.language)
    translation.activate(language)
    request.LANGUAGE_CODE = language


@never_cache
def thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "gensidig/answer/thanks.html")
