"""Agreements: what a management team decides to do about a theme, who does it, by when."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from gensidig.models import Agreement, AgreementOwner, AgreementStatus, Person, Round
from gensidig.models.choices import Role
from gensidig.services.results.rendered import retire, retire_rounds
from gensidig.services.results.trends import previous_round
from gensidig.services.survey.instruments import framework_for

MAX_TEXT = 1000


class AgreementRejected(ValueError):
    """The agreement cannot be recorded as given; the message says why."""


def leaders_of(round_: Round) -> list[Person]:
    """The leaders invited to the round: the only people an agreement can name."""
    return list(
        Person.objects.filter(invitations__round=round_, invitations__role=Role.LEADER).order_by("name", "email")
    )


def record_agreement(
    *,
    round_: Round,
    theme_key: str,
    text: str,
    owner: str,
    item_keys: list[str] = (),
    owner_person: Person | None = None,
    due_on: datetime.date | None = None,
) -> Agreement:
    """Write down an agreement made about a closed round's theme."""
    fields = _checked(round_, theme_key, text, owner, item_keys, owner_person)
    agreement = Agreement.objects.create(round=round_, theme_key=theme_key, due_on=due_on, **fields)
    # The report and the guide of this round and the next show it: their kept renders go.
    retire(team_ids=[round_.team_id])
    return agreement


def edit_agreement(
    *,
    agreement: Agreement,
    text: str,
    owner: str,
    item_keys: list[str] = (),
    owner_person: Person | None = None,
    due_on: datetime.date | None = None,
) -> Agreement:
    """Change what an agreement says, who does it and by when; its theme and status stay."""
    fields = _checked(agreement.round, agreement.theme_key, text, owner, item_keys, owner_person)
    for name, value in {**fields, "due_on": due_on}.items():
        setattr(agreement, name, value)
    agreement.save(update_fields=[*fields, "due_on"])
    retire_rounds(round_ids=[agreement.round_id])
    return agreement


def _checked(round_: Round, theme_key: str, text: str, owner: str, item_keys, owner_person) -> dict:
    """An agreement's fields, checked: its theme's own items, a text, and a leader of the round as owner."""
    framework = framework_for(round_.instrument, "da")
    themes = {theme.key: theme for theme in framework.themes}
    if theme_key not in themes:
        raise AgreementRejected(_("Choose one of the six themes."))
    theme = themes[theme_key]
    allowed = {item.key for item in (*theme.needs, *theme.expectations)}
    if not set(item_keys) <= allowed:
        raise AgreementRejected(_("An agreement can only point at items of its own theme."))
    text = text.strip()
    if not text:
        raise AgreementRejected(_("Write what you agree."))
    if len(text) > MAX_TEXT:
        raise AgreementRejected(_("Keep the agreement to %(limit)d characters.") % {"limit": MAX_TEXT})
    if owner not in AgreementOwner.values:
        raise AgreementRejected(_("Choose who is responsible."))
    if owner == AgreementOwner.LEADER:
        if owner_person is None or owner_person.pk not in {p.pk for p in leaders_of(round_)}:
            raise AgreementRejected(_("Choose the leader who agreed to it, from this round's leaders."))
    else:
        owner_person = None
    return {"item_keys": list(item_keys), "text": text, "owner": owner, "owner_person": owner_person}


def update_status(*, agreement: Agreement, status: str) -> Agreement:
    if status not in AgreementStatus.values:
        raise AgreementRejected(_("Choose one of the statuses shown."))
    agreement.status = status
    agreement.save(update_fields=["status"])
    # An earlier round's agreement is also shown in the reports of the rounds after it (the same team).
    retire_rounds(round_ids=[agreement.round_id])
    return agreement


def delete_agreement(*, agreement: Agreement) -> None:
    """Delete an agreement written down by mistake; the pages and PDFs that showed it follow."""
    round_id = agreement.round_id
    agreement.delete()
    retire_rounds(round_ids=[round_id])


def agreements_by_theme(round_: Round) -> dict[str, list[Agreement]]:
    found: dict[str, list[Agreement]] = {}
    for agreement in Agreement.objects.filter(round=round_).select_related("owner_person"):
        found.setdefault(agreement.theme_key, []).append(agreement)
    return found


def earlier_agreements(round_: Round, *, previous: Round | None = None) -> dict[str, list[Agreement]]:
    """The agreements made after the team's previous round, by theme, to follow up on now.

    Pass `previous` when the caller already knows it (a trend has it), to save the query.
    """
    previous = previous or previous_round(round_)
    return agreements_by_theme(previous) if previous else {}
