"""One person's personal data: what HR hands over when asked (GDPR art. 15), and erasure (art. 17).

The export holds what Gensidig keeps about the person as a person: who they are in the chart, their
account, the rounds they were invited to, agreements that name them and what they did as staff.
It never says whether they answered a round, nor which reminders reached them (a reminder goes
only to those who had not answered): nobody, HR included, may learn that (DESIGN.md rule 5). The
answers themselves were never linked to anyone, so there is nothing of theirs to hand over there.

Erasure removes their name, address, title and unit, detaches their invitations, removes their
account, and leaves every closed result as it was: figures were counted without names. People who
left the organisation are erased by the worker GENSIDIG_ERASE_LEAVERS_AFTER_DAYS after they left.
"""

from __future__ import annotations

import datetime

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.models import (
    Agreement,
    AuditAction,
    AuditEvent,
    Invitation,
    InvitationMail,
    OrganisationAdmin,
    Person,
    ReportNotice,
    SignInRequest,
    Team,
)
from gensidig.services.results.rendered import retire_naming


class ErasureRefused(ValueError):
    """The person cannot be erased yet; the message says why."""


def personal_data(person: Person) -> dict:
    """Everything kept about the person, as a JSON-ready dict (no answer, and nothing that tells whether they answered)."""
    user = person.user
    return {
        "organisation": person.organisation.name,
        "person": {
            "name": person.name,
            "email": person.email,
            "title": person.title,
            "unit": person.unit,
            "language": person.language,
            "manager": (person.manager.name or person.manager.email) if person.manager_id else None,
            "active": person.active,
            "left_on": person.left_on.isoformat() if person.left_on else None,
        },
        "account": None
        if user is None
        else {
            "email": user.email,
            "created": user.date_joined.isoformat(timespec="seconds"),
            "last_sign_in": user.last_login.isoformat(timespec="seconds") if user.last_login else None,
            "hr_admin_of": sorted(
                OrganisationAdmin.objects.filter(user=user).values_list("organisation__name", flat=True)
            ),
        },
        "teams_led": sorted(Team.objects.filter(chief=person).values_list("name", flat=True)),
        "teams_belonged_to": sorted(person.teams_joined.values_list("name", flat=True)),
        "invited_to": [
            {
                "team": invitation.round.team.name,
                "round": invitation.round.public_id,
                "role": invitation.role,
                "opened": invitation.round.opened_on.isoformat(),
                "closes": invitation.round.closes_at.isoformat(timespec="seconds"),
            }
            for invitation in Invitation.objects.filter(person=person)
            .select_related("round__team")
            .order_by("round__opened_on", "round__pk")
        ],
        "agreements_naming_them": [
            {"round": agreement.round.public_id, "text": agreement.text, "due_on": str(agreement.due_on or "")}
            for agreement in Agreement.objects.filter(owner_person=person).select_related("round")
        ],
        "staff_actions": [
            {"at": event.at.isoformat(timespec="seconds"), "action": event.action, "concerning": event.target}
            for event in (AuditEvent.objects.filter(actor=user).order_by("at") if user else AuditEvent.objects.none())
        ],
    }


@transaction.atomic
def erase_person(*, person: Person, by=None, request=None) -> Person:
    """Remove who the person was; what was counted stays counted. Only for someone who has left."""
    from gensidig.services import audit_trail

    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.erased:
        return person
    if person.active:
        raise ErasureRefused(_("Mark the person as left first, so that anyone who reports to them gets a new manager."))
    if Person.objects.filter(manager=person, active=True).exists():
        raise ErasureRefused(_("Active people still report to this person. Give them a new manager first."))
    address = person.email
    invitations = Invitation.objects.filter(person=person)
    # A delivery error may quote the address back ("550 <kim@...> unknown").
    InvitationMail.objects.filter(invitation__in=invitations).update(error="")
    ReportNotice.objects.filter(person=person).update(error="")
    invitations.update(person=None)
    # An agreement named them: the kept pages and PDFs that showed their name go too.
    retire_naming(person_ids=[person.pk])
    Agreement.objects.filter(owner_person=person).update(owner_person=None)
    Person.objects.filter(manager=person).update(manager=None)
    SignInRequest.objects.filter(email__iexact=address).delete()
    AccessAttempt.objects.filter(username__iexact=address).delete()
    AccessFailureLog.objects.filter(username__iexact=address).delete()
    user = person.user
    person.name = person.title = person.unit = ""
    person.email = f"erased-{person.pk}@erased.invalid"
    person.manager = None
    person.user = None
    person.erased = True
    person.save()
    if user is not None and not user.people.exists() and not OrganisationAdmin.objects.filter(user=user).exists():
        # The audit trail keeps the account's address on what it did as staff, for its retention.
        user.delete()
    audit_trail.record(
        AuditAction.PERSON_ERASED,
        request=request,
        actor=by,
        organisation=person.organisation,
        target=_("Person no. %(number)s") % {"number": person.pk},
    )
    return person


def leavers_due(*, today: datetime.date | None = None):
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=settings.GENSIDIG_ERASE_LEAVERS_AFTER_DAYS)
    return Person.objects.filter(active=False, erased=False, left_on__lte=cutoff)


def erase_leavers(*, today: datetime.date | None = None) -> int:
    """Erase everyone who left more than the set number of days ago (the worker runs this daily)."""
    erased = 0
    for person in leavers_due(today=today).order_by("pk"):
        try:
            erase_person(person=person)
        except ErasureRefused:
            continue  # someone still reports to them; the next run tries again
        erased += 1
    return erased
