"""Answering through a token link: intake, the theme-by-theme form, and the thank-you page.

Opening a link (GET or HEAD, as mail scanners do) never uses it up. The first visit moves the
token out of the URL: it redirects to /answer/, with the invitation the link was for in a
signed, HttpOnly cookie scoped to the answer pages (SameSite=Strict, Secure over https). Nothing
about the person answering is kept on the server until they send: no session row, no draft
(DESIGN.md 2.1 and 2.7). Only sending the last page uses the invitation.

Every page a respondent's typing can change is padded to a size fixed for its step (views.padding), so an access log's byte counts say nothing about what was written.
"""

from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gensidig import framework as fw
from gensidig.forms.answer import AnswerForm, complete_answers, worst_case_data
from gensidig.models.choices import Role
from gensidig.services.results.figures import comments_threshold
from gensidig.services.survey.answering import (
    InvitationUnusable,
    invitation_id_for,
    submit_answers,
    ticket_for,
    usable_invitation,
)
from gensidig.services.survey.instruments import framework_for
from gensidig.services.survey.questions import MAX_COMMENT_LENGTH, AnswersRejected, questions_for
from gensidig.services.survey.tokens import hash_token, looks_like_token

from . import padding
from .form_body import read_form_quickly

ANSWER_COOKIE = "gensidig_answer"
# Long enough to answer at leisure in one sitting; the round's own closing time still applies.
ANSWER_COOKIE_AGE = 60 * 60 * 24
_signer = signing.TimestampSigner(salt="gensidig.answer-invitation")
INTRO_STEP = 0
# Set on the one extra hop that carries the cookie when the link came from another site (below).
OPENED = "opened"


def _answer_path() -> str:
    return _path("gensidig:answer", get_script_prefix())


@lru_cache(maxsize=16)
def _path(name: str, _script_prefix: str) -> str:
    # Built once: reversing cost more than a query on the hot path (the prefix is in the key).
    return reverse(name)


def _remember_invitation(response: HttpResponse, invitation_id: int) -> None:
    # A fixed-width value: the cookie is as long for an unknown link as for a real one.
    response.set_cookie(
        ANSWER_COOKIE,
        _signer.sign(f"{invitation_id:020d}"),
        max_age=ANSWER_COOKIE_AGE,
        path=_answer_path(),
        secure=settings.SECURE_COOKIES,
        httponly=True,
        samesite="Strict",
    )


def _forget_invitation(response: HttpResponse) -> None:
    response.delete_cookie(ANSWER_COOKIE, path=_answer_path(), samesite="Strict")


def _remembered_invitation(request: HttpRequest) -> int | None:
    """The invitation id in the answer cookie; 0 for a cookie that is not ours; None for no cookie."""
    raw = request.COOKIES.get(ANSWER_COOKIE)
    if raw is None:
        return None
    try:
        return int(_signer.unsign(raw, max_age=ANSWER_COOKIE_AGE))
    except (signing.BadSignature, ValueError):
        return 0


@never_cache
@require_http_methods(["GET", "HEAD"])
def token_intake(request: HttpRequest, token: str) -> HttpResponse:
    # The same redirect whatever the token, so the response tells nothing about it. The cookie
    # keeps which invitation the link was for, not the link itself: a reminder may bring a new
    # link while someone is answering, and their answers must still be accepted.
    invitation_id = invitation_id_for(token_hash=hash_token(token)) if looks_like_token(token) else None
    response = HttpResponseRedirect(_answer_path())
    _remember_invitation(response, invitation_id or 0)
    return response


def _unusable(request: HttpRequest) -> HttpResponse:
    """One neutral page for an unknown, used or expired link."""
    return render(request, "gensidig/answer/unusable.html", status=404)


THANKS_FOR_CHIEF = "chief"


@read_form_quickly
@never_cache
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest) -> HttpResponse:
    invitation_id = _remembered_invitation(request)
    if invitation_id is None and request.method == "GET" and OPENED not in request.GET:
        # A SameSite=Strict cookie set while following a link from another site (webmail) is
        # not sent on that same redirect; one hop started from our own page carries it.
        return render(request, "gensidig/answer/opening.html", {"next": f"{_answer_path()}?{OPENED}=1"})
    invitation_id = invitation_id or 0
    if request.method == "POST" and request.POST.get("action") == "send" and invitation_id:
        sent = _send_complete_form(request, invitation_id)
        if sent is not None:
            return sent

    # Looked up even for an unknown link, so it takes as long as a used one.
    invitation = usable_invitation(invitation_id=invitation_id)
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
    try:
        submit_answers(ticket=ticket, answers=answers)
    except InvitationUnusable:
        return _unusable(request)
    except AnswersRejected:
        return render(request, "gensidig/errors/bad_request.html", status=400)
    thanks_url = _path("gensidig:answer-thanks", get_script_prefix())
    if ticket.role == Role.CHIEF:
        thanks_url += f"?{THANKS_FOR_CHIEF}"  # the chief's own answers are not anonymous: a page of their own
    response = HttpResponseRedirect(thanks_url, status=303)
    _forget_invitation(response)
    return response


def _step_context(context, form: AnswerForm, number: int, *, with_errors: bool) -> dict:
    steps = form.steps(show_errors_for=number if with_errors else None)
    step = steps[number - 1]
    return {
        **context,
        "step": step,
        "steps": steps,
        "is_last": number == len(steps),
        "carried": form.carried(except_step=step),
        "error_list": [(f, error) for f in step.fields for error in f.errors],
        "comment_max_length": MAX_COMMENT_LENGTH,
    }


def _show_step(request, context, form: AnswerForm, number: int, *, with_errors: bool) -> HttpResponse:
    if number == INTRO_STEP:
        return render(request, "gensidig/answer/intro.html", context)
    step_context = _step_context(context, form, number, with_errors=with_errors)
    response = render(
        request, "gensidig/answer/step.html", step_context, status=400 if step_context["error_list"] else 200
    )
    return padding.pad(response, padding.step_size(request, context, number, _largest_step_page))


def _largest_step_page(request, context, number: int) -> int:
    """The size of the largest page this step can be (forms.answer.worst_case_data), in bytes."""
    invitation, framework = context["invitation"], context["framework"]
    instrument = invitation.round.instrument
    sizes = []
    for rating in ("", "9"):  # missing, or not one of the answers: each has its own error message
        data = worst_case_data(
            framework=framework, instrument=instrument, role=invitation.role, step=number, rating=rating
        )
        form = AnswerForm(data, framework=framework, role=invitation.role, instrument=instrument)
        page = render_to_string(
            "gensidig/answer/step.html", _step_context(context, form, number, with_errors=True), request
        )
        sizes.append(len(page.encode()))
    return max(sizes)


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
    return render(request, "gensidig/answer/thanks.html", {"chief": THANKS_FOR_CHIEF in request.GET})
