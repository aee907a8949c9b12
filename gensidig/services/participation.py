"""How many have answered, per team and per branch, under the same rules as the answers.

Counts only, never who. A count is withheld by a suppression pattern of its own (DESIGN.md 2.6),
both while a campaign runs (the admin follows it live) and when it closes. A chief knows how
many of their own team answered (they see it while the round is open), so their own count is
treated as known within their own branch's sum.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from gensidig.models import Campaign, Invitation, RollupParticipation, Team
from gensidig.models.choices import Role
from gensidig.services.suppression import suppression_pattern


@dataclass(frozen=True)
class ParticipationRow:
    team_id: int
    invited: int
    answered: int | None  # None where the pattern withholds it
    branch_invited: int
    branch_answered: int | None


def participation_rows(*, campaign: Campaign, hierarchy) -> list[ParticipationRow]:
    invited, answered = defaultdict(int), defaultdict(int)
    for team_id, used in Invitation.objects.filter(round__campaign=campaign, role=Role.LEADER).values_list(
        "round__team_id", "used"
    ):
        invited[team_id] += 1
        answered[team_id] += bool(used)
    with_children = {t for t in hierarchy.team_ids if hierarchy.children[t]}
    pattern = suppression_pattern(
        hierarchy.units(answered),
        k=campaign.anonymity_threshold,
        known_own=with_children,
    )
    rows = []
    for team_id in hierarchy.team_ids:
        branch = hierarchy.subtree(team_id)
        rows.append(
            ParticipationRow(
                team_id=team_id,
                invited=invited[team_id],
                answered=answered[team_id] if pattern.own_shown(team_id) else None,
                branch_invited=sum(invited[t] for t in branch),
                branch_answered=sum(answered[t] for t in branch) if pattern.total_shown(team_id) else None,
            )
        )
    return rows


@dataclass(frozen=True)
class ParticipationView:
    """Participation laid out as the hierarchy, for a page: (team, depth, row) from the top down."""

    rows: list[tuple[Team, int, ParticipationRow]]
    invited: int
    answered: int | None


def live_participation(*, campaign: Campaign) -> ParticipationView:
    """Participation now: computed from the invitations while open, read as stored once closed."""
    from gensidig.services.rollups import campaign_hierarchy

    hierarchy = campaign_hierarchy(campaign)
    if campaign.status == "closed":
        rows = [
            ParticipationRow(p.team_id, p.invited, p.answered, p.branch_invited, p.branch_answered)
            for p in RollupParticipation.objects.filter(campaign=campaign)
        ]
    else:
        rows = participation_rows(campaign=campaign, hierarchy=hierarchy)
    by_team = {row.team_id: row for row in rows}
    teams = {team.pk: team for team in Team.objects.filter(pk__in=by_team).select_related("chief")}
    ordered: list[tuple[Team, int, ParticipationRow]] = []

    def walk(team_id: int, depth: int) -> None:
        ordered.append((teams[team_id], depth, by_team[team_id]))
        for child in sorted(hierarchy.children[team_id], key=lambda t: teams[t].name):
            walk(child, depth + 1)

    roots = sorted((t for t in hierarchy.team_ids if hierarchy.parent[t] is None), key=lambda t: teams[t].name)
    for root in roots:
        walk(root, 0)
    top = [by_team[r] for r in roots]
    invited = sum(row.branch_invited for row in top)
    answered_parts = [row.branch_answered for row in top]
    answered = sum(answered_parts) if answered_parts and None not in answered_parts else None
    return ParticipationView(rows=ordered, invited=invited, answered=answered)
