"""How many have answered, per team and per branch, under the same rules as the answers.

Counts only, never who. Which counts are shown is decided by a suppression pattern of their own,
audited with the real bounds (services.results.protection.protect_participation): both while a
campaign runs (HR follows it live) and when it closes. Every reader is audited: HR sees every
shown count; a chief sees their own teams' and everything below, and knows how many of their own
team answered (they see it while the round is open); what the published answers say about
participation (a team's n and "don't know" count), the campaign's reminder counts, and every count
HR was shown while the campaign ran (kept as floors: counts only grow), are part of what a reader
sees.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Sum
from django.utils import timezone

from gensidig.models import (
    Campaign,
    CampaignStatus,
    Invitation,
    LiveParticipation,
    OrganisationAdmin,
    ParticipationFloor,
    ReminderBatch,
    ReminderStatus,
    Team,
)
from gensidig.models.choices import Role
from gensidig.services.results.hierarchy import Hierarchy, campaign_hierarchy
from gensidig.services.results.protection import ParticipationResult, ParticipationTeam, protect_participation


@dataclass(frozen=True)
class ParticipationRow:
    team_id: int
    invited: int
    answered: int | None  # None where the pattern withholds it
    branch_invited: int
    branch_answered: int | None
    parent_id: int | None = None


def not_answered_at_most(*, campaign: Campaign, round_ids) -> int | None:
    """What the campaign's reminder counts say: at most this many had not answered at the latest
    reminder that every round got in full (sent and failed together are everyone then waiting)."""
    round_ids = set(round_ids)
    waiting: dict[int, int] = defaultdict(int)
    complete: dict[int, set] = defaultdict(set)
    # The campaign's batches, kept to the rounds asked about: the same rows as filtering by the
    # rounds' ids, without a list of thousands of ids in the statement.
    for round_id, number, sent, failed, status, interrupted in ReminderBatch.objects.filter(
        round__campaign=campaign
    ).values_list("round_id", "number", "sent", "failed", "status", "interrupted"):
        if round_id not in round_ids:
            continue
        if status == ReminderStatus.DONE and not interrupted:
            waiting[number] += sent + failed
            complete[number].add(round_id)
    counts = [waiting[number] for number, rounds in complete.items() if rounds == round_ids]
    return min(counts) if counts else None


def chiefs_of(hierarchy: Hierarchy, organisation) -> tuple[dict, set]:
    """Who leads which of the hierarchy's teams, and which of those chiefs are also HR."""
    led: dict = defaultdict(list)
    users = {}
    in_hierarchy = set(hierarchy.team_ids)  # read by organisation, not by a list of thousands of ids
    for team_id, chief_id, user_id in Team.objects.filter(organisation=organisation).values_list(
        "pk", "chief_id", "chief__user_id"
    ):
        if team_id in in_hierarchy and chief_id is not None:
            led[chief_id].append(team_id)
            users[chief_id] = user_id
    admin_users = set(OrganisationAdmin.objects.filter(organisation=organisation).values_list("user_id", flat=True))
    admins = {chief for chief, user in users.items() if user is not None and user in admin_users}
    return dict(led), admins


def shown_floors(campaign: Campaign) -> tuple[dict[int, int], dict[int, int]]:
    """The highest own and branch counts HR has been shown of each team while the campaign ran."""
    own, branch = {}, {}
    for team_id, scope, floor in ParticipationFloor.objects.filter(campaign=campaign).values_list(
        "team_id", "scope", "floor"
    ):
        (own if scope == ParticipationFloor.Scope.OWN else branch)[team_id] = floor
    return own, branch


def remember_shown(campaign: Campaign, rows: list[ParticipationRow]) -> None:
    """Keep the counts a page has just shown as floors (only those that went up are written)."""
    own, branch = shown_floors(campaign)
    changed = []
    for row in rows:
        for scope, value, known in (
            (ParticipationFloor.Scope.OWN, row.answered, own),
            (ParticipationFloor.Scope.BRANCH, row.branch_answered, branch),
        ):
            if value is not None and value > known.get(row.team_id, -1):
                changed.append(ParticipationFloor(campaign=campaign, team_id=row.team_id, scope=scope, floor=value))
    if changed:
        ParticipationFloor.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["campaign", "team", "scope"],
            update_fields=["floor"],
        )


_PATTERNS: dict[tuple, ParticipationResult] = {}
_PATTERNS_KEPT = 16


def _protected(*, teams: tuple, k: int, chiefs: dict, admins: set, not_answered_at_most: int | None):
    """protect_participation, remembered for exactly the same inputs (per process).

    The audited pattern is a function of what it is given and nothing else, so the campaign page,
    asked again while nobody has answered since, gets the pattern it got last time instead of
    auditing the whole hierarchy again. Any change in a count, a floor, a chief or a reminder is a
    different key, and is audited afresh.
    """
    key = (
        teams,
        k,
        tuple((chief, tuple(led)) for chief, led in chiefs.items()),
        frozenset(admins),
        not_answered_at_most,
    )
    found = _PATTERNS.get(key)
    if found is None:
        found = protect_participation(
            teams=teams, k=k, chiefs=chiefs, admins=admins, not_answered_at_most=not_answered_at_most
        )
        while len(_PATTERNS) >= _PATTERNS_KEPT:
            _PATTERNS.pop(next(iter(_PATTERNS)), None)
        _PATTERNS[key] = found
    return found


def participation_rows(
    *,
    campaign: Campaign,
    hierarchy: Hierarchy,
    invited: Mapping[int, int],
    answered: Mapping[int, int],
    at_least: Mapping[int, int] | None = None,
) -> list[ParticipationRow]:
    """Every team's own and branch counts, with those the audited pattern withholds left out.

    What HR has seen before is part of what HR knows: a count shown earlier, while the campaign
    ran, is a floor in the audit of this view.
    """
    at_least = at_least or {}
    own_floor, branch_floor = shown_floors(campaign)
    chiefs, admins = chiefs_of(hierarchy, campaign.organisation)
    result = _protected(
        teams=tuple(
            ParticipationTeam(
                key=t,
                parent=hierarchy.parent[t],
                invited=invited.get(t, 0),
                answered=answered.get(t, 0),
                at_least=max(at_least.get(t, 0), own_floor.get(t, 0)),
                branch_at_least=branch_floor.get(t, 0),
            )
            for t in hierarchy.team_ids
        ),
        k=campaign.anonymity_threshold,
        chiefs=chiefs,
        admins=admins,
        not_answered_at_most=not_answered_at_most(
            campaign=campaign, round_ids=[r.pk for r in hierarchy.round_of.values()]
        ),
    )
    # Each branch's sums from its children's, bottom up: once per team, where walking every
    # team's whole branch costs the tree's size times its depth (thousands of units at 20,000).
    branch_invited: dict[int, int] = {}
    branch_answered: dict[int, int] = {}
    for team_id in hierarchy.bottom_up():
        below = hierarchy.children[team_id]
        branch_invited[team_id] = invited.get(team_id, 0) + sum(branch_invited[c] for c in below)
        branch_answered[team_id] = answered.get(team_id, 0) + sum(branch_answered[c] for c in below)
    rows = []
    for team_id in hierarchy.team_ids:
        if team_id not in branch_invited:  # not under a top team: its branch summed as it stands
            branch = hierarchy.subtree(team_id)
            branch_invited[team_id] = sum(invited.get(t, 0) for t in branch)
            branch_answered[team_id] = sum(answered.get(t, 0) for t in branch)
        rows.append(
            ParticipationRow(
                team_id=team_id,
                invited=invited.get(team_id, 0),
                answered=answered.get(team_id, 0) if team_id in result.own_shown else None,
                branch_invited=branch_invited[team_id],
                branch_answered=branch_answered[team_id] if team_id in result.total_shown else None,
                parent_id=hierarchy.parent[team_id],
            )
        )
    return rows


def counts_now(hierarchy: Hierarchy) -> tuple[dict, dict]:
    """How many leaders each team invited, and how many have answered so far."""
    team_of_round = {r.pk: team_id for team_id, r in hierarchy.round_of.items()}
    invited, answered = defaultdict(int), defaultdict(int)
    campaigns = {r.campaign_id for r in hierarchy.round_of.values()}
    if len(campaigns) == 1 and None not in campaigns:
        # One campaign's rounds: read by campaign, not by a list of thousands of round ids.
        found = Invitation.objects.filter(round__campaign_id=campaigns.pop(), role=Role.LEADER)
    else:
        found = Invitation.objects.filter(round_id__in=team_of_round, role=Role.LEADER)
    # Counted by the database, a row per round: at 20,000 people that is about a thousand rows to
    # read instead of twenty thousand invitations.
    counted = (
        found.order_by()
        .values_list("round_id")
        .annotate(invited=Count("pk"), answered=Count("pk", filter=Q(used=True)))
    )
    for round_id, in_round, used in counted:
        if round_id not in team_of_round:
            continue
        invited[team_of_round[round_id]] += in_round
        answered[team_of_round[round_id]] += used
    return invited, answered


@dataclass(frozen=True)
class ParticipationView:
    """Participation laid out as the hierarchy, for a page: (team, depth, row) from the top down.

    With a page number, `rows` holds that page of the hierarchy only and `page` says where it is;
    the totals are the whole campaign's either way.
    """

    rows: list[tuple[Team, int, ParticipationRow]]
    invited: int
    answered: int | None
    page: Page | None = None
    counted_at: datetime | None = None  # when an open campaign's counts were counted; None once closed


def _closed_rows(campaign: Campaign) -> tuple[dict[int, tuple], dict[int, str]]:
    """The counts as stored at close (already protected), as plain values by team, and the teams'
    names, in one statement (rows are made only for the teams a page shows)."""
    from gensidig.models import RollupParticipation

    values, names = {}, {}
    for *row, name in RollupParticipation.objects.filter(campaign=campaign).values_list(
        "team_id", "invited", "answered", "branch_invited", "branch_answered", "parent_id", "team__name"
    ):
        values[row[0]] = tuple(row)
        names[row[0]] = name
    return values, names


def tree_order(parent: Mapping[int, int | None], names: Mapping[int, str], units) -> list[tuple[int, int]]:
    """(team, depth) depth first from the tops, siblings by name: the order the page lists them in.

    One sort of every unit by name, then each unit put under its parent in that order, so every
    list of siblings comes out sorted without sorting each again.
    """
    tops, children = [], defaultdict(list)
    for team_id in sorted(units, key=names.__getitem__):
        parent_id = parent.get(team_id)
        (tops if parent_id is None else children[parent_id]).append(team_id)
    ordered: list[tuple[int, int]] = []

    def walk(siblings: list[int], depth: int) -> None:  # as deep as the tree, a handful of levels
        for team_id in siblings:
            ordered.append((team_id, depth))
            if team_id in children:
                walk(children[team_id], depth + 1)

    walk(tops, 0)
    return ordered


LIVE_SECONDS_DEFAULT = 60


def live_seconds() -> int:
    """How long an open campaign's counts are shown before they are counted again."""
    return getattr(settings, "GENSIDIG_LIVE_PARTICIPATION_SECONDS", LIVE_SECONDS_DEFAULT)


def _must_show_at_once(campaign: Campaign) -> str:
    """A digest of what must never be shown stale: a different one counts again at once.

    The campaign's state and threshold; its reminders (a reminder count is shown beside the counts,
    and the audit must have had it); and the admins who lead teams (the audit combines what they
    see as chiefs with what they see as HR). Each is a few rows, whatever the organisation's size.
    """
    reminders = list(
        ReminderBatch.objects.filter(round__campaign=campaign)
        .order_by()
        .values_list("number", "status", "interrupted")
        .annotate(rounds=Count("pk"), sent=Sum("sent"), failed=Sum("failed"))
        .order_by("number", "status", "interrupted")
    )
    admins_leading = list(
        Team.objects.filter(
            organisation_id=campaign.organisation_id,
            chief__user__in=OrganisationAdmin.objects.filter(organisation_id=campaign.organisation_id).values(
                "user_id"
            ),
        )
        .order_by("pk")
        .values_list("pk", "chief_id")
    )
    state = [campaign.status, campaign.anonymity_threshold, reminders, admins_leading]
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()


# A kept row: [team, depth, *these], the ParticipationRow's fields after the team's.
_ROW_FIELDS = ("invited", "answered", "branch_invited", "branch_answered", "parent_id")


def _count_live(campaign: Campaign) -> dict:
    """Participation now, from the invitations, audited, in the page's order (the costly part)."""
    hierarchy = campaign_hierarchy(campaign, light=True)
    invited, answered = counts_now(hierarchy)
    rows = participation_rows(campaign=campaign, hierarchy=hierarchy, invited=invited, answered=answered)
    remember_shown(campaign, rows)
    values = {row.team_id: row for row in rows}
    # Read by organisation, not by a list of thousands of ids (building and planning that costs more).
    names = dict(Team.objects.filter(organisation_id=campaign.organisation_id).values_list("pk", "name"))
    top = [row for row in rows if row.parent_id is None]
    answered_parts = [row.branch_answered for row in top]
    return {
        "rows": [
            [t, depth, *(getattr(values[t], f) for f in _ROW_FIELDS)]
            for t, depth in tree_order(hierarchy.parent, names, values)
        ],
        "invited": sum(row.branch_invited for row in top),
        "answered": sum(answered_parts) if answered_parts and None not in answered_parts else None,
    }


def live_snapshot(campaign: Campaign) -> LiveParticipation:
    """The open campaign's counts as last shown, counted again when older than live_seconds() or
    when something that must show at once has changed (every app server reads the same row)."""
    inputs = _must_show_at_once(campaign)
    now = timezone.now()
    kept = LiveParticipation.objects.filter(campaign=campaign).first()
    if kept is not None and kept.inputs == inputs and now - kept.counted_at < timedelta(seconds=live_seconds()):
        return kept
    fresh = LiveParticipation(campaign=campaign, counted_at=now, inputs=inputs, content=_count_live(campaign))
    LiveParticipation.objects.bulk_create(
        [fresh],
        update_conflicts=True,
        unique_fields=["campaign"],
        update_fields=["counted_at", "inputs", "content"],
    )
    return fresh


def live_participation(
    *, campaign: Campaign, page_number: int | str | None = None, per_page: int = 100
) -> ParticipationView:
    """Participation now: counted and audited from the invitations while open (at most once in
    live_seconds(), see live_snapshot), read as stored once closed.

    Given a page number, only that page's teams are read in full (the campaign page at 20,000
    people shows a page of the hierarchy, not all of it); the order and the totals are the same.
    """
    counted_at = None
    if campaign.status == CampaignStatus.CLOSED:
        values, names = _closed_rows(campaign)
        if any(row[5] is not None for row in values.values()):  # the hierarchy as it was at close
            parent = {team_id: row[5] for team_id, row in values.items()}
        else:
            parent = campaign_hierarchy(campaign, light=True).parent
        # The order needs only the names; whole teams are read for the rows shown.
        ordered = tree_order(parent, names, values)
        top = [values[t] for t in values if parent.get(t) is None]
        invited_total = sum(row[3] for row in top)
        answered_parts = [row[4] for row in top]
        answered_total = sum(answered_parts) if answered_parts and None not in answered_parts else None

        def row_of(team_id: int, _depth: int) -> ParticipationRow:
            return ParticipationRow(*values[team_id])
    else:
        snapshot = live_snapshot(campaign)
        counted_at = snapshot.counted_at
        ordered = snapshot.content["rows"]
        invited_total = snapshot.content["invited"]
        answered_total = snapshot.content["answered"]

        def row_of(team_id: int, _depth: int, *counts) -> ParticipationRow:
            return ParticipationRow(team_id, *counts)

    page = None
    shown = ordered
    if page_number is not None:
        page = Paginator(ordered, per_page).get_page(page_number)
        shown = list(page.object_list)
    # Rows (and whole teams) are made only for the teams the page shows.
    teams = {team.pk: team for team in Team.objects.filter(pk__in=[item[0] for item in shown]).select_related("chief")}
    return ParticipationView(
        # A team removed since the counts were kept is left out rather than failing the page.
        rows=[(teams[item[0]], item[1], row_of(*item)) for item in shown if item[0] in teams],
        invited=invited_total,
        answered=answered_total,
        page=page,
        counted_at=counted_at,
    )
