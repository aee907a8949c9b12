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

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from gensidig.models import (
    Campaign,
    CampaignStatus,
    Invitation,
    OrganisationAdmin,
    ParticipationFloor,
    ReminderBatch,
    ReminderStatus,
    Team,
)
from gensidig.models.choices import Role
from gensidig.services.results.hierarchy import Hierarchy, campaign_hierarchy
from gensidig.services.results.protection import ParticipationTeam, protect_participation


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
    for round_id, number, sent, failed, status, interrupted in ReminderBatch.objects.filter(
        round_id__in=round_ids
    ).values_list("round_id", "number", "sent", "failed", "status", "interrupted"):
        if status == ReminderStatus.DONE and not interrupted:
            waiting[number] += sent + failed
            complete[number].add(round_id)
    counts = [waiting[number] for number, rounds in complete.items() if rounds == round_ids]
    return min(counts) if counts else None


def chiefs_of(hierarchy: Hierarchy, organisation) -> tuple[dict, set]:
    """Who leads which of the hierarchy's teams, and which of those chiefs are also HR."""
    led: dict = defaultdict(list)
    users = {}
    for team_id, chief_id, user_id in Team.objects.filter(pk__in=hierarchy.team_ids).values_list(
        "pk", "chief_id", "chief__user_id"
    ):
        if chief_id is not None:
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
    result = protect_participation(
        teams=[
            ParticipationTeam(
                key=t,
                parent=hierarchy.parent[t],
                invited=invited.get(t, 0),
                answered=answered.get(t, 0),
                at_least=max(at_least.get(t, 0), own_floor.get(t, 0)),
                branch_at_least=branch_floor.get(t, 0),
            )
            for t in hierarchy.team_ids
        ],
        k=campaign.anonymity_threshold,
        chiefs=chiefs,
        admins=admins,
        not_answered_at_most=not_answered_at_most(
            campaign=campaign, round_ids=[r.pk for r in hierarchy.round_of.values()]
        ),
    )
    rows = []
    for team_id in hierarchy.team_ids:
        branch = hierarchy.subtree(team_id)
        rows.append(
            ParticipationRow(
                team_id=team_id,
                invited=invited.get(team_id, 0),
                answered=answered.get(team_id, 0) if team_id in result.own_shown else None,
                branch_invited=sum(invited.get(t, 0) for t in branch),
                branch_answered=sum(answered.get(t, 0) for t in branch) if team_id in result.total_shown else None,
                parent_id=hierarchy.parent[team_id],
            )
        )
    return rows


def counts_now(hierarchy: Hierarchy) -> tuple[dict, dict]:
    """How many leaders each team invited, and how many have answered so far."""
    team_of_round = {r.pk: team_id for team_id, r in hierarchy.round_of.items()}
    invited, answered = defaultdict(int), defaultdict(int)
    for round_id, used in Invitation.objects.filter(round_id__in=team_of_round, role=Role.LEADER).values_list(
        "round_id", "used"
    ):
        invited[team_of_round[round_id]] += 1
        answered[team_of_round[round_id]] += bool(used)
    return invited, answered


@dataclass(frozen=True)
class ParticipationView:
    """Participation laid out as the hierarchy, for a page: (team, depth, row) from the top down."""

    rows: list[tuple[Team, int, ParticipationRow]]
    invited: int
    answered: int | None


def live_participation(*, campaign: Campaign) -> ParticipationView:
    """Participation now: computed and audited from the invitations while open, read as stored once closed."""
    from gensidig.models import RollupParticipation

    hierarchy = campaign_hierarchy(campaign)
    parent = hierarchy.parent
    if campaign.status == CampaignStatus.CLOSED:
        rows = [
            ParticipationRow(p.team_id, p.invited, p.answered, p.branch_invited, p.branch_answered, p.parent_id)
            for p in RollupParticipation.objects.filter(campaign=campaign)
        ]
        if any(row.parent_id is not None for row in rows):  # the hierarchy as it was at close
            parent = {row.team_id: row.parent_id for row in rows}
    else:
        invited, answered = counts_now(hierarchy)
        rows = participation_rows(campaign=campaign, hierarchy=hierarchy, invited=invited, answered=answered)
        remember_shown(campaign, rows)
    children: dict[int, list[int]] = defaultdict(list)
    for team_id, parent_id in parent.items():
        if parent_id is not None:
            children[parent_id].append(team_id)
    by_team = {row.team_id: row for row in rows}
    teams = {team.pk: team for team in Team.objects.filter(pk__in=by_team).select_related("chief")}
    ordered: list[tuple[Team, int, ParticipationRow]] = []

    def walk(team_id: int, depth: int) -> None:
        ordered.append((teams[team_id], depth, by_team[team_id]))
        for child in sorted((c for c in children[team_id] if c in by_team), key=lambda t: teams[t].name):
            walk(child, depth + 1)

    roots = sorted((t for t in by_team if parent.get(t) is None), key=lambda t: teams[t].name)
    for root in roots:
        walk(root, 0)
    top = [by_team[r] for r in roots]
    invited_total = sum(row.branch_invited for row in top)
    answered_parts = [row.branch_answered for row in top]
    answered_total = sum(answered_parts) if answered_parts and None not in answered_parts else None
    return ParticipationView(rows=ordered, invited=invited_total, answered=answered_total)
