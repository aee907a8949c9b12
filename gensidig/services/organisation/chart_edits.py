"""One change to the organisation's current chart, applied through the import itself.

HR's changes to one person or one team (people.py, team_admin.py) are made to the chart the
organisation has now -- its active people as import rows -- and that chart is applied with
`chart.apply_import`. So a manager's move re-forms teams, their parents, memberships and short names
exactly as importing a whole chart would, and the import's checks (unique e-mail addresses in any
letter case, managers in the chart, no circles, lengths, languages) are the last word on every change.

Before that, each change checks its own input and says what is wrong about the field HR filled in
(`ChangeRejected.errors`), since "line 37" means nothing on a form. The chart is read under the
organisation's lock, inside the transaction that applies it: two admins changing two people at once
never apply a chart that undoes the other's change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from gensidig.models import Organisation, Person
from gensidig.models.choices import Language

from .chart import Chart, ChartRow, ImportResult, apply_import, is_email, validate_chart

EMAIL_MAX_LENGTH = Person._meta.get_field("email").max_length
TEXT_MAX_LENGTH = {name: Person._meta.get_field(name).max_length for name in ("name", "title", "unit")}


class ChangeRejected(ValueError):
    """The change breaks a rule of the chart, so nothing was changed.

    `errors` maps the name of the input that is wrong (as the service function calls it) to its
    messages; the key None holds problems with the change as a whole.
    """

    def __init__(self, errors: dict[str | None, list[str]]):
        self.errors = {key: list(messages) for key, messages in errors.items() if messages}
        super().__init__("; ".join(message for messages in self.errors.values() for message in messages))


@dataclass
class Problems:
    """Messages collected while checking a change, by input name."""

    errors: dict[str | None, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, key: str | None, message: str) -> None:
        self.errors[key].append(message)

    def __bool__(self) -> bool:
        return any(self.errors.values())

    def raise_if_any(self) -> None:
        if self:
            raise ChangeRejected(dict(self.errors))


@dataclass
class CurrentChart:
    """The organisation's active people as import rows, in a fixed order, ready to be changed."""

    organisation: Organisation
    rows: dict[str, ChartRow]  # by lower-cased e-mail address
    people: dict[str, Person]  # every person of the organisation, active or not, by lower-cased address

    def reports_of(self, email: str) -> list[str]:
        return [row.email for row in self.rows.values() if row.manager_email == email]

    def branch_of(self, email: str) -> set[str]:
        """Everyone who reports to this person, directly or through others."""
        below: dict[str, list[str]] = defaultdict(list)
        for row in self.rows.values():
            if row.manager_email:
                below[row.manager_email].append(row.email)
        found, stack = set(), list(below[email])
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(below[current])
        return found

    def label(self, email: str) -> str:
        person = self.people.get(email)
        return f"{person.name} ({person.email})" if person is not None and person.name else email

    def active_problem(self, email: str) -> str | None:
        """Why `email` is not someone in the chart now, or None if they are."""
        if email in self.rows:
            return None
        if not is_email(email):
            return _("“%(email)s” is not a valid e-mail address.") % {"email": email}
        if email in self.people:
            return _("%(person)s has left the org chart; choose someone who is in it.") % {"person": self.label(email)}
        return _("Nobody in the org chart has the e-mail address %(email)s.") % {"email": email}

    def manager_problem(self, *, email: str, manager_email: str) -> str | None:
        """Why `manager_email` cannot be the manager of the active person `email`, or None.

        An empty manager puts the person at the top of the chart, which is allowed.
        """
        if not manager_email:
            return None
        if manager_email == email:
            return _("Someone cannot be their own manager.")
        if problem := self.active_problem(manager_email):
            return problem
        if manager_email in self.branch_of(email):
            return _(
                "%(manager)s reports to %(person)s, directly or through others, so the reporting lines "
                "would go round in a circle."
            ) % {"manager": self.label(manager_email), "person": self.label(email)}
        return None

    def chart(self) -> Chart:
        """The rows as a chart with every column, numbered as the people list's export numbers its lines."""
        rows = [_with_line(row, number) for number, row in enumerate(self.rows.values(), start=2)]
        chart = Chart(rows=rows, has_title=True, has_language=True)
        chart.errors = validate_chart(chart=chart)
        return chart


def _with_line(row: ChartRow, line: int) -> ChartRow:
    return ChartRow(
        line=line,
        email=row.email,
        name=row.name,
        manager_email=row.manager_email,
        unit=row.unit,
        title=row.title,
        language=row.language,
    )


def row_for(person: Person, *, manager_email: str) -> ChartRow:
    """A person's import row as the chart gives it, with the manager given."""
    return ChartRow(
        line=0,
        email=person.email.lower(),
        name=person.name,
        manager_email=manager_email,
        unit=person.unit,
        title=person.title,
        language=person.language,
    )


def current_chart(organisation: Organisation) -> CurrentChart:
    """The organisation's active people as import rows, sorted by name and e-mail address.

    Someone whose manager has left gets an empty manager, as the import would give them.
    """
    everyone = list(Person.objects.filter(organisation=organisation).order_by("name", Lower("email"), "pk"))
    active_email = {person.pk: person.email.lower() for person in everyone if person.active}
    rows = {
        person.email.lower(): row_for(person, manager_email=active_email.get(person.manager_id, ""))
        for person in everyone
        if person.active
    }
    return CurrentChart(
        organisation=organisation, rows=rows, people={person.email.lower(): person for person in everyone}
    )


def change_chart(*, organisation: Organisation, change: Callable[[CurrentChart], None]) -> ImportResult:
    """Lock the organisation, read its current chart, let `change` check and change it, and apply it.

    `change` raises `ChangeRejected` for input it cannot accept, and may write what the import
    cannot express (a new e-mail address for a known person) before the chart is applied: it runs in
    the same transaction, so a rejected chart takes that back too. A chart the import's own checks
    reject is reported as a problem with the whole change.
    """
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        current = current_chart(organisation)
        change(current)
        chart = current.chart()
        if chart.errors:
            raise ChangeRejected({None: [error.message for error in chart.errors]})
        return apply_import(organisation_slug=organisation.slug, chart=chart)


def check_details(
    problems: Problems,
    current: CurrentChart,
    *,
    email: str,
    name: str,
    title: str,
    unit: str,
    language: str,
    for_person: Person | None,
) -> None:
    """Check a person's details: a valid address nobody else has (in any letter case), lengths, language."""
    if not email:
        problems.add("email", _("Write the person's e-mail address."))
    elif len(email) > EMAIL_MAX_LENGTH:
        problems.add(
            "email", _("The e-mail address can be at most %(limit)d characters.") % {"limit": EMAIL_MAX_LENGTH}
        )
    elif not is_email(email):
        problems.add("email", _("“%(email)s” is not a valid e-mail address.") % {"email": email})
    else:
        holder = current.people.get(email)
        if holder is not None and (for_person is None or holder.pk != for_person.pk):
            if holder.active:
                message = _("%(person)s already has this e-mail address (addresses are the same in any letter case).")
            else:
                message = _(
                    "%(person)s, who has left the org chart, has this e-mail address (addresses are the same "
                    "in any letter case). Reactivate them instead."
                )
            problems.add("email", message % {"person": current.label(email)})
    if not name:
        problems.add("name", _("Write the person's name."))
    for key, value in (("name", name), ("title", title), ("unit", unit)):
        limit = TEXT_MAX_LENGTH[key]
        if len(value) > limit:
            problems.add(key, _("This can be at most %(limit)d characters.") % {"limit": limit})
    if language not in Language.values:
        problems.add("language", _("Choose Danish or English."))
