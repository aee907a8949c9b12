"""Setting up a team by hand (`gensidig create-team`), and the address and short-name rules the import shares."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from gensidig.models import Organisation, Person, Team, TeamMembership, User
from gensidig.services.results.rendered import retire_naming


class TeamError(ValueError):
    """The team cannot be created as given; the message says why."""


def normalise_email(raw: str) -> str:
    email = raw.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise TeamError(_("“%(email)s” is not a valid e-mail address.") % {"email": raw.strip()}) from None
    return email


DANISH_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})


def slug_for(name: str) -> str:
    """A URL-safe short name that keeps Danish letters readable ("Ældre" becomes "aeldre", not "ldre")."""
    return slugify(name.translate(DANISH_LETTERS))


def get_or_create_organisation(*, slug: str, name: str | None = None) -> Organisation:
    organisation, _created = Organisation.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    return organisation


def upsert_person(*, organisation: Organisation, email: str, name: str = "", language: str | None = None) -> Person:
    person = Person.objects.filter(organisation=organisation, email__iexact=email).first()
    if person is None:
        return Person.objects.create(organisation=organisation, email=email, name=name, language=language or "da")
    changed = []
    if name and person.name != name:
        person.name, changed = name, [*changed, "name"]
    if language and person.language != language:
        person.language, changed = language, [*changed, "language"]
    if changed:
        person.save(update_fields=changed)
        if "name" in changed:
            retire_naming(person_ids=[person.pk])  # kept reports with an agreement that names them
    return person


def ensure_login(*, person: Person) -> User:
    """Give a person an account to sign in with (no usable password until they set one)."""
    if person.user_id:
        return person.user
    user = User.objects.filter(email__iexact=person.email).first() or User.objects.create_user(
        email=person.email, password=None, first_name=person.name[:150]
    )
    person.user = user
    person.save(update_fields=["user"])
    return user


def create_team(
    *,
    organisation: Organisation,
    name: str,
    chief_email: str,
    leader_emails: list[str],
    chief_name: str = "",
    slug: str | None = None,
) -> Team:
    """Create a management team with its chief and leaders; people already known are reused."""
    chief_email = normalise_email(chief_email)
    leaders = []
    for raw in leader_emails:
        email = normalise_email(raw)
        if email == chief_email:
            raise TeamError(_("The chief cannot also be one of the team's leaders."))
        if email not in leaders:
            leaders.append(email)
    slug = slug_for(slug or name)
    if not slug:
        raise TeamError(_("The team needs a name."))
    with transaction.atomic():
        if Team.objects.filter(organisation=organisation, slug=slug).exists():
            raise TeamError(_("The organisation already has a team with the short name “%(slug)s”.") % {"slug": slug})
        chief = upsert_person(organisation=organisation, email=chief_email, name=chief_name)
        ensure_login(person=chief)
        team = Team.objects.create(organisation=organisation, name=name, slug=slug, chief=chief)
        TeamMembership.objects.bulk_create(
            TeamMembership(team=team, person=upsert_person(organisation=organisation, email=email)) for email in leaders
        )
    return team
