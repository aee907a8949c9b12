"""Who may see what: the organisation admin, the chief and the leader.

Everything a page shows goes through these functions, so a rule is written once. Whatever is not
someone's is treated as if it did not exist (the views answer 404).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q, QuerySet

from gensidig.db.prepared import Prepared
from gensidig.models import Campaign, Organisation, OrganisationAdmin, Round, Team
from gensidig.models.choices import Role


def administered_organisations(user) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(admins__user=user)


def is_admin_of(user, organisation: Organisation) -> bool:
    return administered_organisations(user).filter(pk=organisation.pk).exists()


def led_teams(user) -> QuerySet[Team]:
    """Teams the user is the chief of (through any of their people, in any organisation).

    Only while that person is in the chart: a chief who has left keeps no access to the team's
    reports (until they come back), though they stay the chief the team's rounds name.
    """
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(_led_by(user.pk))


def _led_by(user_id: int, path: str = "") -> Q:
    """led_teams's rule, for a team reached through `path` (e.g. "team__" from a round)."""
    return Q(**{f"{path}chief__user_id": user_id, f"{path}chief__active": True})


def joined_teams(user) -> QuerySet[Team]:
    """Teams the user is a leader in."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__person__user=user, memberships__person__active=True).distinct()


def shared_rounds(user) -> QuerySet[Round]:
    """Rounds whose report the chief has shared, where the user was invited as a leader (and is
    still in the chart: someone who has left no longer reads their old team's reports)."""
    if not user.is_authenticated:
        return Round.objects.none()
    return Round.objects.filter(_shared_with(user.pk)).distinct()


def _shared_with(user_id: int) -> Q:
    """shared_rounds's rule."""
    return Q(
        shared_on__isnull=False,
        invitations__role=Role.LEADER,
        invitations__person__user_id=user_id,
        invitations__person__active=True,
    )


# --- The same rules for one round or the navigation, asked on every signed-in page -------------
# Compiled once per process (gensidig/db/prepared.py): on these pages building the SQL cost more
# than running it. Each is one statement without a subquery, by the round's public id or the user.

# What a round's pages use besides the round: its team, the team's organisation and chief, and the
# instrument (whose framework text is read through framework_for's cache, not here).
_ROUND_JOINS = ("team__organisation", "team__chief", "instrument")

_led_round = Prepared(
    Round,
    # led_teams's rule, put on the chief the lookup joins anyway; one round at most (its public id
    # is unique), so no order.
    lambda public_id, user_id: (
        Round.objects.select_related(*_ROUND_JOINS)
        .defer("instrument__content")
        .filter(_led_by(user_id, "team__"), public_id=public_id)
        .order_by()
    ),
    public_id=str,
    user_id=int,
)

_shared_round = Prepared(
    Round,
    # shared_rounds's rule for one round.
    lambda public_id, user_id: (
        Round.objects.select_related(*_ROUND_JOINS)
        .defer("instrument__content")
        .filter(_shared_with(user_id), public_id=public_id)
        .order_by()
        .distinct()
    ),
    public_id=str,
    user_id=int,
)

_administered_pairs = Prepared(
    OrganisationAdmin,
    # administered_organisations's rule, as (slug, name) pairs straight from the admin rows.
    lambda user_id: (
        OrganisationAdmin.objects.filter(user_id=user_id)
        .order_by("organisation__name", "organisation__slug")
        .values_list("organisation__slug", "organisation__name")
    ),
    user_id=int,
)


def led_round(user, public_id: str) -> Round | None:
    """The round with this public id if the user leads its team (else None), with its team,
    organisation, chief and instrument."""
    if not user.is_authenticated:
        return None
    return _led_round.first(public_id=public_id, user_id=user.pk)


def shared_round(user, public_id: str) -> Round | None:
    """The round with this public id if it is one of `shared_rounds(user)` (else None)."""
    if not user.is_authenticated:
        return None
    return _shared_round.first(public_id=public_id, user_id=user.pk)


def administered_pairs(user_id: int) -> list[tuple[str, str]]:
    """(slug, name) of each organisation the user administers, by name."""
    return _administered_pairs.rows(user_id=user_id)


def descendants(teams: list[Team], *, organisation: Organisation) -> dict[int, list[int]]:
    """For each given team, the ids of every team below it (its branch), following parent links."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for team_id, parent_id in Team.objects.filter(organisation=organisation).values_list("pk", "parent_id"):
        children[parent_id].append(team_id)
    result = {}
    for team in teams:
        below, stack = [], list(children[team.pk])
        while stack:
            current = stack.pop()
            below.append(current)
            stack.extend(children[current])
        result[team.pk] = below
    return result


def rollup_teams_for(user, campaign: Campaign) -> set[int]:
    """The teams of a campaign whose roll-up the user may open: the admin all of them, a chief
    their own teams and every team below them (drill-down follows the hierarchy only)."""
    organisation = campaign.organisation
    if is_admin_of(user, organisation):
        return set(Team.objects.filter(organisation=organisation).values_list("pk", flat=True))
    own = list(led_teams(user).filter(organisation=organisation))
    visible = {team.pk for team in own}
    for below in descendants(own, organisation=organisation).values():
        visible.update(below)
    return visible


def add_admin(*, email: str, organisation_slug: str, organisation_name: str | None = None):
    """Make the person with this address an admin of the organisation (both made if new)."""
    from gensidig.models import OrganisationAdmin, User

    organisation, _created = Organisation.objects.get_or_create(
        slug=organisation_slug, defaults={"name": organisation_name or organisation_slug}
    )
    user = User.objects.filter(email__iexact=email).first() or User.objects.create_user(email=email, password=None)
    OrganisationAdmin.objects.get_or_create(organisation=organisation, user=user)
    return organisation, user
