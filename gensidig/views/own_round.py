"""A chief's own round, run from the browser: start it, see the e-mails, remind, resend, move, close."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gensidig import tasks
from gensidig.forms.own_round import DEFAULT_DAYS, DEFAULT_TIME, ClosingTimeFields, ExtendForm, OwnRoundForm
from gensidig.models import AuditAction, Round, Team
from gensidig.models.choices import Language, RoundStatus
from gensidig.services.jobs import soon
from gensidig.services.mail import outbox
from gensidig.services.mail.preview import previews
from gensidig.services.survey.own_round import campaign_in_the_way, extend_round, open_own_round, remind_now
from gensidig.services.survey.rounds import RoundError

from . import chief
from .auditing import record
from .scoping import get_round_for_user, teams_for_user


def _team_for_chief(request, public_id: str) -> Team:
    """An active team the user leads; anything else is a 404, as if it did not exist."""
    team = (
        teams_for_user(request.user)
        .filter(public_id=public_id, active=True, chief__active=True)
        .select_related("organisation", "chief")
        .first()
    )
    if team is None:
        raise Http404
    return team


def _why_not(team: Team):
    """What stands in the way of a new round of the team's own: its open round, or a campaign."""
    open_round = Round.objects.filter(team=team, status=RoundStatus.OPEN).first()
    return open_round, (None if open_round else campaign_in_the_way(team))


@login_required
@require_http_methods(["GET", "POST"])
def round_new(request, public_id: str):
    """Start a round for the team: who is asked, when it closes; checked first, then sent."""
    team = _team_for_chief(request, public_id)
    open_round, campaign = _why_not(team)
    if open_round or campaign:
        context = {"team": team, "open_round": open_round, "campaign": campaign}
        return render(
            request, "gensidig/chief/round_new.html", context, status=400 if request.method == "POST" else 200
        )
    form = OwnRoundForm(request.POST or None, team=team)
    checked = False
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if request.POST.get("action") == "send" and form.was_checked():
                try:
                    round_ = open_own_round(
                        team=team,
                        closes_at=form.closes_at,
                        add=form.plan.added,
                        leave_out=form.leave_out_addresses(),
                    )
                except RoundError as error:
                    form.add_error(None, str(error))
                    status = 400
                else:
                    soon(tasks.send_mail)  # the invitations, now rather than at the next minute
                    invited = round_.leaders_invited
                    record(
                        AuditAction.ROUND_OPENED, request=request, round_=round_, detail={"leaders invited": invited}
                    )
                    messages.success(
                        request,
                        ngettext(
                            "Round %(number)d is open. The invitations are on their way to %(count)d leader and you.",
                            "Round %(number)d is open. The invitations are on their way to %(count)d leaders and you.",
                            invited,
                        )
                        % {"number": round_.number, "count": invited},
                    )
                    return redirect("gensidig:round", public_id=round_.public_id)
            else:
                if request.POST.get("action") == "send":
                    # Something changed after the check: show the plan again before anything is sent.
                    messages.info(request, _("You changed something after checking. Check the plan and send again."))
                data = request.POST.copy()
                data["checked"] = form.fingerprint()
                form = OwnRoundForm(data, team=team)
                form.is_valid()
                checked = True
        else:
            status = 400
    plan = form.plan if checked else None
    return render(
        request,
        "gensidig/chief/round_new.html",
        {
            "team": team,
            "form": form,
            "plan": plan,
            "checked": checked,
            "k": team.organisation.anonymity_threshold,
            "members": len(form.members),
            "preview_query": _preview_query(form if checked else None),
        },
        status=status,
    )


def _preview_query(form: OwnRoundForm | None) -> str:
    if form is None:
        return ""
    local = timezone.localtime(form.closes_at)
    return f"?closes_on={local:%Y-%m-%d}&closes_time={local:%H:%M}"


@login_required
@require_GET
def mail_preview(request, public_id: str):
    """The invitation and the reminder as the team's leaders and the chief will get them."""
    team = _team_for_chief(request, public_id)
    default = timezone.localdate() + datetime.timedelta(days=DEFAULT_DAYS)
    form = ClosingTimeFields(request.GET or {"closes_on": default.isoformat(), "closes_time": DEFAULT_TIME})
    if not form.is_valid():
        return render(request, "gensidig/chief/mail_preview.html", {"team": team, "form": form}, status=400)
    found = previews(
        organisation=team.organisation,
        team=team,
        closes_at=form.closes_at,
        k=team.organisation.anonymity_threshold,
    )
    languages: list[tuple[str, str, list]] = []
    for preview in found:
        if not languages or languages[-1][0] != preview.language:
            languages.append((preview.language, Language(preview.language).label, []))
        languages[-1][2].append(preview)
    return render(
        request,
        "gensidig/chief/mail_preview.html",
        {"team": team, "form": form, "closes_at": form.closes_at, "languages": languages},
    )


def _own_open_round(request, public_id: str) -> Round | None:
    """The round, if it is one the chief runs (not a campaign's); else a message, and None."""
    round_ = get_round_for_user(request, public_id)
    if round_.campaign_id:
        messages.error(request, _("This round is part of a campaign; HR runs it."))
        return None
    return round_


@login_required
@require_POST
def round_remind(request, public_id: str):
    round_ = _own_open_round(request, public_id)
    if round_ is not None:
        try:
            remind_now(round_=round_)
            soon(tasks.send_mail)
        except RoundError as error:
            messages.error(request, str(error))
        else:
            record(AuditAction.REMINDER_SENT, request=request, round_=round_)
            messages.success(
                request,
                _(
                    "A reminder is on its way to everyone who has not answered yet, each with a new link. "
                    "Nobody is named, to you or anyone."
                ),
            )
    return redirect("gensidig:round", public_id=public_id)


@login_required
@require_POST
def round_resend(request, public_id: str):
    """Send again, with new links, the invitations the mail server could not deliver."""
    round_ = _own_open_round(request, public_id)
    if round_ is not None:
        if not round_.accepts_answers():
            messages.error(request, _("The round is closed; its links can no longer be used."))
        else:
            queued = outbox.resend_failed(rounds=[round_])
            soon(tasks.send_mail)
            record(AuditAction.ROUND_CHANGED, request=request, round_=round_, detail={"invitations sent again": queued})
            messages.success(
                request,
                ngettext(
                    "%(count)d invitation will be sent again, with a new link.",
                    "%(count)d invitations will be sent again, with new links.",
                    queued,
                )
                % {"count": queued},
            )
    return redirect("gensidig:round", public_id=public_id)


@login_required
@require_POST
def round_extend(request, public_id: str):
    """Move the closing time later (never earlier: closing early is closing the round)."""
    round_ = _own_open_round(request, public_id)
    if round_ is None:
        return redirect("gensidig:round", public_id=public_id)
    form = ExtendForm(request.POST, round_=round_)
    if form.is_valid():
        try:
            extend_round(round_=round_, closes_at=form.closes_at)
        except RoundError as error:
            form.add_error(None, str(error))
        else:
            record(
                AuditAction.ROUND_CHANGED,
                request=request,
                round_=round_,
                detail={"change": "closes later", "closes": str(round_.closes_at)},
            )
            messages.success(
                request,
                _("The round now closes on %(date)s.")
                % {"date": formats.date_format(timezone.localtime(round_.closes_at), "j. F Y, H:i")},
            )
            return redirect("gensidig:round", public_id=public_id)
    return chief.render_round(request, round_, extend_form=form, status=400)


@login_required
@require_GET
def round_close_confirm(request, public_id: str):
    """What closing now means, before the chief closes the round."""
    round_ = get_round_for_user(request, public_id)
    if not round_.is_open:
        return redirect("gensidig:round", public_id=public_id)
    counted = chief.with_answer_counts(Round.objects.filter(pk=round_.pk)).get()
    return render(request, "gensidig/chief/round_close.html", {"round": round_, "counted": counted})
