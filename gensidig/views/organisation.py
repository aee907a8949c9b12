"""The organisation admin's pages: overview, people, teams and settings.

Admins see people, teams, counts and roll-ups. No page here reads a team's answers.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gensidig.forms.organisation import SettingsForm
from gensidig.models import AuditAction, Campaign, Person, Team
from gensidig.services.checklist import first_run_checklist

from .auditing import record
from .scoping import get_organisation_for_admin

PEOPLE_PER_PAGE = 50
TEAMS_PER_PAGE = 50


@login_required
def home(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    context = {
        "organisation": organisation,
        "people": Person.objects.filter(organisation=organisation, active=True).count(),
        "teams": Team.objects.filter(organisation=organisation, active=True).count(),
        "campaigns": Campaign.objects.filter(organisation=organisation).order_by("-opens_on")[:5],
        "checklist": first_run_checklist(organisation),
    }
    return render(request, "gensidig/organisation/home.html", context)


@login_required
def people(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    # No name or address holds a NUL, and PostgreSQL refuses to compare text with one.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    found = Person.objects.filter(organisation=organisation).select_related("manager").order_by("-active", "name", "pk")
    if query:
        found = found.filter(Q(name__icontains=query) | Q(email__icontains=query) | Q(unit__icontains=query))
    page = Paginator(found, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "gensidig/organisation/people.html", {"organisation": organisation, "page": page, "q": query}
    )


@login_required
def teams(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    # The chart's shape is read from an index (id, parent, name); whole teams, with their chief and
    # leader count, only for the page shown: at 20,000 people the list is thousands of teams long.
    shape = list(
        Team.objects.filter(organisation=organisation, active=True)
        .order_by("name", "pk")
        .values_list("pk", "parent_id")
    )
    children: dict = {}
    for team_id, parent_id in shape:
        children.setdefault(parent_id, []).append(team_id)
    ids = {team_id for team_id, _parent in shape}
    ordered = []
    stack = [(team_id, 0) for team_id, parent_id in reversed(shape) if parent_id not in ids]
    while stack:  # top down, each team followed by its branch, siblings by name
        team_id, depth = stack.pop()
        ordered.append((team_id, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(team_id, [])))
    page = Paginator(ordered, TEAMS_PER_PAGE).get_page(request.GET.get("page"))
    shown = {
        team.pk: team
        for team in Team.objects.filter(pk__in=[team_id for team_id, _depth in page])
        .select_related("chief")
        .annotate(n=Count("memberships", filter=Q(memberships__person__active=True)))
    }
    rows = [(shown[team_id], depth) for team_id, depth in page]
    return render(
        request,
        "gensidig/organisation/teams.html",
        {"organisation": organisation, "rows": rows, "page": page, "k": organisation.anonymity_threshold},
    )


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    form = SettingsForm(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        record(
            AuditAction.SETTINGS_CHANGED,
            request=request,
            organisation=organisation,
            detail={name: str(form.cleaned_data[name]) for name in form.changed_data},
        )
        messages.success(request, _("The settings are saved. Rounds already open keep their threshold."))
        return redirect("gensidig:org-settings", slug=organisation.slug)
    return render(
        request,
        "gensidig/organisation/settings.html",
        {"organisation": organisation, "form": form},
        status=400 if form.errors else 200,
    )
