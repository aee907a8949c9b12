"""Who administers an organisation (HR): list, add by e-mail address, remove.

An organisation always keeps at least one admin, or nobody could import its chart or launch its
campaigns again from the web.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gensidig.models import Organisation, OrganisationAdmin, User

from .teams import TeamError, normalise_email


class AdminError(ValueError):
    """The admin cannot be added or removed; the message says why."""


def organisation_admins(*, organisation: Organisation) -> list[OrganisationAdmin]:
    """The organisation's admins, by e-mail address."""
    return list(
        OrganisationAdmin.objects.filter(organisation=organisation).select_related("user").order_by("user__email")
    )


def add_organisation_admin(*, organisation: Organisation, email: str) -> OrganisationAdmin:
    """Make the owner of this address an admin; they get an account if they have none, and sign in
    with a one-time link sent to the address."""
    try:
        email = normalise_email(email)
    except TeamError as error:
        raise AdminError(str(error)) from None
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first() or User.objects.create_user(email=email, password=None)
        admin, created = OrganisationAdmin.objects.get_or_create(organisation=organisation, user=user)
        if not created:
            raise AdminError(
                _("%(email)s is already an admin of %(organisation)s.")
                % {
                    "email": user.email,
                    "organisation": organisation.name,
                }
            )
    return admin


def remove_organisation_admin(*, organisation: Organisation, admin_id: int) -> User:
    """Remove an admin and return whose access it was; never the last one.

    Raises `OrganisationAdmin.DoesNotExist` for an admin of no such id in this organisation.
    """
    with transaction.atomic():
        # Under the organisation's lock, two admins removing each other cannot leave it with none.
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        admin = OrganisationAdmin.objects.select_related("user").get(organisation=organisation, pk=admin_id)
        if OrganisationAdmin.objects.filter(organisation=organisation).count() <= 1:
            raise AdminError(
                _("%(email)s is the organisation's only admin. Add another admin before removing this one.")
                % {"email": admin.user.email}
            )
        admin.delete()
    return admin.user
