"""HR's pages for one management team: create, rename, dissolve (services/organisation/team_admin.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gensidig.forms.people import DissolveTeamForm, RenameTeamForm, TeamForm, show_rejection
from gensidig.models import AuditAction, Organisation, Team
from gensidig.services.organisation.chart_edits import ChangeRejected
from gensidig.services.organisation.people import manager_email_of
from gensidig.services.organisation.team_admin import create_team, dissolve_team, rename_team

from .auditing import record_change
from .people import page_with_people
from .scoping import get_organisation_for_admin


def _active_team(organisation: Organisation, public_id: str) -> Team:
    team = (
        Team.objects.filter(organisation=organisation, public_id=public_id, active=True)
        .select_related("chief__manager", "parent")
        .first()
    )
    if team is None:
        raise Http404
    return team


@login_required
@require_http_methods(["GET", "POST"])
def team_new(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = create_team(
                organisation=organisation,
                chief_email=data["chief_email"],
                leader_emails=data["leader_emails"],
                name=data["name"],
            )
        except ChangeRejected as rejected:
            show_rejection(form, rejected)
        else:
            record_change(AuditAction.TEAM_CHANGED, request, organisation, team.name, "formed")
            messages.success(request, _("The team “%(team)s” is formed.") % {"team": team.name})
            return redirect("gensidig:org-teams", slug=slug)
    return page_with_people(request, "gensidig/organisation/team_new.html", {"organisation": organisation}, form)


@login_required
@require_http_methods(["GET", "POST"])
def team_rename(request, slug: str, public_id: str):
    organisation = get_organisation_for_admin(request, slug)
    team = _active_team(organisation, public_id)
    form = RenameTeamForm(request.POST or None, initial={"name": team.name})
    if request.method == "POST" and form.is_valid():
        old_name = team.name
        try:
            team = rename_team(team=team, name=form.cleaned_data["name"])
        except ChangeRejected as rejected:
            show_rejection(form, rejected)
        else:
            record_change(AuditAction.TEAM_CHANGED, request, organisation, team.name, "renamed", **{"from": old_name})
            messages.success(request, _("“%(old)s” is now called “%(new)s”.") % {"old": old_name, "new": team.name})
            return redirect("gensidig:org-teams", slug=slug)
    return page_with_people(
        request, "gensidig/organisation/team_rename.html", {"organisation": organisation, "team": team}, form
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_dissolve(request, slug: str, public_id: str):
    organisation = get_organisation_for_admin(request, slug)
    team = _active_team(organisation, public_id)
    form = DissolveTeamForm(request.POST or None, initial={"reports_to": manager_email_of(team.chief)})
    if request.method == "POST" and form.is_valid():
        try:
            dissolve_team(organisation=organisation, team=team, reports_to=form.cleaned_data["reports_to"])
        except ChangeRejected as rejected:
            show_rejection(form, rejected)
        else:
            record_change(AuditAction.TEAM_CHANGED, request, organisation, team.name, "dissolved")
            messages.success(request, _("The team “%(team)s” is dissolved.") % {"team": team.name})
            return redirect("gensidig:org-teams", slug=slug)
    context = {
        "organisation": organisation,
        "team": team,
        "leaders": list(team.leaders.filter(active=True).order_by("name")),
    }
    return page_with_people(request, "gensidig/organisation/team_dissolve.html", context, form)
