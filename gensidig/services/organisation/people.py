"""HR's changes to one person: add, edit, move to another manager, deactivate, reactivate.

Each is one change to the organisation's current chart, applied through the import
(chart_edits.change_chart), so the teams follow exactly as they do when a whole chart is imported:
whoever gets reports leads a team of exactly them, whoever loses the last one no longer does.
Nobody is deleted: someone who leaves is kept inactive for the rounds they took part in, and is never
invited again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gensidig.models import Organisation, Person
from gensidig.models.choices import Language
from gensidig.services.results.rendered import retire_naming

from .chart import ChartRow
from .chart_edits import ChangeRejected, CurrentChart, Problems, change_chart, check_details, row_for


@dataclass(frozen=True)
class PersonDetails:
    """What HR fills in about a person. An empty manager puts them at the top of the chart."""

    email: str
    name: str
    title: str = ""
    unit: str = ""
    language: str = Language.DANISH
    manager_email: str = ""

    def cleaned(self) -> PersonDetails:
        return PersonDetails(
            email=self.email.strip().lower(),
            name=self.name.strip(),
            title=self.title.strip(),
            unit=self.unit.strip(),
            language=self.language.strip(),
            manager_email=self.manager_email.strip().lower(),
        )

    @classmethod
    def of(cls, person: Person, *, manager_email: str = "") -> PersonDetails:
        return cls(
            email=person.email.lower(),
            name=person.name,
            title=person.title,
            unit=person.unit,
            language=person.language,
            manager_email=manager_email,
        )


def manager_email_of(person: Person) -> str:
    """The person's manager's address, if the manager is still in the chart."""
    manager = person.manager
    return manager.email.lower() if manager is not None and manager.active else ""


def add_person(*, organisation: Organisation, details: PersonDetails) -> Person:
    """Add someone to the chart under the manager given (at the top without one).

    Refused when someone in the organisation already has the address in any letter case -- also
    someone who has left: they are reactivated instead, so their past rounds stay theirs.
    """
    details = details.cleaned()

    def change(current: CurrentChart) -> None:
        problems = Problems()
        _check(problems, current, details, for_person=None, email_before=details.email)
        problems.raise_if_any()
        current.rows[details.email] = _row(details)

    change_chart(organisation=organisation, change=change)
    return Person.objects.get(organisation=organisation, email__iexact=details.email)


def edit_person(*, organisation: Organisation, person: Person, details: PersonDetails) -> Person:
    """Change an active person's details and manager; their team and the teams around them follow.

    A new e-mail address is the same person under another address (the import itself can only
    match people by address): their rounds stay theirs, and the account of the old address no
    longer signs in as them.
    """
    details = details.cleaned()

    def change(current: CurrentChart) -> None:
        before = _active_email(current, person)
        problems = Problems()
        _check(problems, current, details, for_person=current.people[before], email_before=before)
        problems.raise_if_any()
        if details.email != before:
            # The old mailbox may now be someone else's: its account must not act as this person.
            Person.objects.filter(pk=person.pk).update(email=details.email, user=None)
            current.rows = {
                (details.email if email == before else email): (
                    replace(row, manager_email=details.email) if row.manager_email == before else row
                )
                for email, row in current.rows.items()
            }
        current.rows[details.email] = _row(details)

    change_chart(organisation=organisation, change=change)
    person.refresh_from_db()
    # A new address is written before the import compares (above): its kept reports that name them
    # in an agreement go here; a new name is found by the import itself.
    retire_naming(person_ids=[person.pk])
    return person


def change_manager(*, organisation: Organisation, person: Person, manager_email: str) -> Person:
    """Move an active person to another manager (empty: to the top). Teams follow: the old
    manager's team loses them (and is dissolved if they were its last leader), the new manager's
    team gains them (and is formed if it is their first)."""
    manager_email = manager_email.strip().lower()

    def change(current: CurrentChart) -> None:
        email = _active_email(current, person)
        if problem := current.manager_problem(email=email, manager_email=manager_email):
            raise ChangeRejected({"manager_email": [problem]})
        current.rows[email] = replace(current.rows[email], manager_email=manager_email)

    change_chart(organisation=organisation, change=change)
    person.refresh_from_db()
    return person


def deactivate_person(*, organisation: Organisation, person: Person, reports_to: str = "") -> Person:
    """Take someone out of the chart: they are kept, inactive, and never invited again.

    Whoever reported to them moves to `reports_to` (the form suggests the person's own manager);
    someone with reports cannot leave without it, so nobody is left pointing at a manager who left.
    """
    reports_to = reports_to.strip().lower()

    def change(current: CurrentChart) -> None:
        email = _active_email(current, person)
        reports = current.reports_of(email)
        if reports:
            problem = None
            if not reports_to:
                problem = ngettext(
                    "%(person)s has %(count)d person reporting to them: choose who they will report to instead.",
                    "%(person)s has %(count)d people reporting to them: choose who they will report to instead.",
                    len(reports),
                ) % {"person": current.label(email), "count": len(reports)}
            elif reports_to == email:
                problem = _("%(person)s is the one leaving; choose someone else.") % {"person": current.label(email)}
            elif reports_to in current.branch_of(email):
                problem = _(
                    "%(manager)s reports to %(person)s, directly or through others. Choose someone who does not, "
                    "for example the manager of %(person)s."
                ) % {"manager": current.label(reports_to), "person": current.label(email)}
            else:
                problem = current.active_problem(reports_to)
            if problem:
                raise ChangeRejected({"reports_to": [problem]})
        del current.rows[email]
        for report in reports:
            current.rows[report] = replace(current.rows[report], manager_email=reports_to)

    change_chart(organisation=organisation, change=change)
    person.refresh_from_db()
    return person


def reactivate_person(*, organisation: Organisation, person: Person, manager_email: str = "") -> Person:
    """Bring someone who left back into the chart, under `manager_email` (empty: at the top)."""
    manager_email = manager_email.strip().lower()

    def change(current: CurrentChart) -> None:
        email = person.email.lower()
        if email in current.rows:
            raise ChangeRejected(
                {None: [_("%(person)s is already in the org chart.") % {"person": current.label(email)}]}
            )
        if problem := current.manager_problem(email=email, manager_email=manager_email):
            raise ChangeRejected({"manager_email": [problem]})
        current.rows[email] = row_for(current.people[email], manager_email=manager_email)

    change_chart(organisation=organisation, change=change)
    person.refresh_from_db()
    return person


def _active_email(current: CurrentChart, person: Person) -> str:
    """The person's address as the chart has it; refused if they have left (read under the lock)."""
    email = next((e for e, p in current.people.items() if p.pk == person.pk), None)
    if email is None or email not in current.rows:
        raise ChangeRejected(
            {None: [_("%(person)s has left the org chart; reactivate them first.") % {"person": person}]}
        )
    return email


def _check(
    problems: Problems, current: CurrentChart, details: PersonDetails, *, for_person: Person | None, email_before: str
) -> None:
    check_details(
        problems,
        current,
        email=details.email,
        name=details.name,
        title=details.title,
        unit=details.unit,
        language=details.language,
        for_person=for_person,
    )
    if details.manager_email and details.manager_email in {details.email, email_before}:
        problems.add("manager_email", _("Someone cannot be their own manager."))
    elif problem := current.manager_problem(email=email_before, manager_email=details.manager_email):
        problems.add("manager_email", problem)


def _row(details: PersonDetails) -> ChartRow:
    return ChartRow(
        line=0,
        email=details.email,
        name=details.name,
        manager_email=details.manager_email,
        unit=details.unit,
        title=details.title,
        language=details.language,
    )
