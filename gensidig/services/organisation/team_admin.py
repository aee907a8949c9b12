"""HR's changes to one management team: create, rename, dissolve.

A team is not made by hand: it is whoever has people reporting to them, with exactly those people
as its leaders. So creating a team moves people to report to its chief, and dissolving one moves its
leaders to another manager, both through the import (chart_edits.change_chart), and the teams around
them follow as after any import. Only the name is HR's own: once HR names a team, imports keep that
name instead of naming the team after its chief's unit.
"""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction
from django.utils.translation import gettext as _

from gensidig.models import Organisation, Team

from .chart_edits import ChangeRejected, CurrentChart, Problems, change_chart

NAME_MAX_LENGTH = Team._meta.get_field("name").max_length


def create_team(*, organisation: Organisation, chief_email: str, leader_emails: list[str], name: str = "") -> Team:
    """Form a team: the people given now report to the chief, who leads them as a team.

    Refused for a chief who already leads a team (give it more leaders by changing their manager)
    and for a leader above the chief, which would close a circle. Without a name the team is named
    after the chief's unit, as on import.
    """
    chief = chief_email.strip().lower()
    leaders = list(dict.fromkeys(email.strip().lower() for email in leader_emails if email.strip()))
    name = name.strip()

    def change(current: CurrentChart) -> None:
        problems = Problems()
        if not chief:
            problems.add("chief_email", _("Choose the team's chief."))
        elif problem := current.active_problem(chief):
            problems.add("chief_email", problem)
        elif current.reports_of(chief):
            team = Team.objects.filter(organisation=organisation, chief__email__iexact=chief, active=True).first()
            problems.add(
                "chief_email",
                _("%(person)s already leads the team “%(team)s”. To give it more leaders, change their manager.")
                % {"person": current.label(chief), "team": team.name if team else chief},
            )
        if not leaders:
            problems.add("leader_emails", _("Choose at least one person to report to the chief."))
        for leader in leaders:
            if leader == chief:
                problems.add("leader_emails", _("The chief cannot also be one of the team's leaders."))
            elif problem := current.active_problem(leader) or (
                chief in current.rows and current.manager_problem(email=leader, manager_email=chief)
            ):
                problems.add("leader_emails", problem)
        _check_name(problems, name, required=False)
        problems.raise_if_any()
        for leader in leaders:
            current.rows[leader] = replace(current.rows[leader], manager_email=chief)

    with transaction.atomic():
        change_chart(organisation=organisation, change=change)
        team = Team.objects.get(organisation=organisation, chief__email__iexact=chief, active=True)
        if name:
            team.name, team.named_by_hr = name, True
            team.save(update_fields=["name", "named_by_hr"])
    return team


def rename_team(*, team: Team, name: str) -> Team:
    """Give an active team a name of HR's choosing, which later imports keep."""
    name = name.strip()
    problems = Problems()
    _check_name(problems, name, required=True)
    problems.raise_if_any()
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        if not team.active:
            raise ChangeRejected({None: [_("The team “%(team)s” has been dissolved.") % {"team": team.name}]})
        team.name, team.named_by_hr = name, True
        team.save(update_fields=["name", "named_by_hr"])
    return team


def dissolve_team(*, organisation: Organisation, team: Team, reports_to: str) -> Team:
    """Dissolve an active team: its leaders now report to `reports_to` (the form suggests the chief's
    own manager), and the team becomes inactive. The chief stays in the chart; past rounds stay."""
    reports_to = reports_to.strip().lower()

    def change(current: CurrentChart) -> None:
        fresh = Team.objects.select_related("chief").get(pk=team.pk)
        if not fresh.active:
            raise ChangeRejected({None: [_("The team “%(team)s” has been dissolved.") % {"team": fresh.name}]})
        chief = fresh.chief.email.lower()
        problem = None
        if not reports_to:
            problem = _("Choose who the team's leaders will report to.")
        elif reports_to == chief:
            problem = _("%(person)s is the chief of the team being dissolved; choose someone else.") % {
                "person": current.label(chief)
            }
        elif reports_to in current.branch_of(chief):
            problem = _(
                "%(manager)s reports to %(person)s, directly or through others. Choose someone who does not, "
                "for example the manager of %(person)s."
            ) % {"manager": current.label(reports_to), "person": current.label(chief)}
        else:
            problem = current.active_problem(reports_to)
        if problem:
            raise ChangeRejected({"reports_to": [problem]})
        for leader in current.reports_of(chief):
            current.rows[leader] = replace(current.rows[leader], manager_email=reports_to)

    with transaction.atomic():
        change_chart(organisation=organisation, change=change)
        team.refresh_from_db()
    return team


def _check_name(problems: Problems, name: str, *, required: bool) -> None:
    if required and not name:
        problems.add("name", _("Give the team a name."))
    elif len(name) > NAME_MAX_LENGTH:
        problems.add("name", _("The name can be at most %(limit)d characters.") % {"limit": NAME_MAX_LENGTH})
