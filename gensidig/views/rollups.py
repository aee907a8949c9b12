"""Roll-ups of a closed campaign: a heatmap of units × themes, drilled down along the hierarchy only."""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation

from gensidig.models import AuditAction, Campaign, CampaignStatus, RollupParticipation, RollupTheme, Team
from gensidig.services.access import is_admin_of, rollup_teams_for
from gensidig.services.survey.instruments import framework_for, instrument_by_id

from .auditing import audited, note_target


@dataclass
class HeatmapRow:
    label: str
    themes: list[RollupTheme | None]
    answered: int | None
    invited: int
    drill_to: Team | None = None  # a branch one may open further down
    kind: str = "branch"  # "total" (the whole unit), "own" (the unit's own team), "branch" (a unit below)


@dataclass
class CampaignTree:
    """The campaign's units that this person may see, and the shape of the hierarchy.

    Only ids are read for the whole campaign; the participation rows are read for the units a
    page shows (`participation_of`), so a page's cost does not grow with the organisation.
    """

    campaign: Campaign
    children: dict[int, list[int]]
    parent: dict[int, int | None]
    visible: set[int]

    def tops(self) -> list[int]:
        return [t for t in self.visible if self.parent.get(t) not in self.visible]

    def participation_of(self, team_ids: list[int]) -> dict[int, RollupParticipation]:
        return {p.team_id: p for p in RollupParticipation.objects.filter(campaign=self.campaign, team_id__in=team_ids)}


def _tree_for(request, public_id: str) -> CampaignTree:
    campaign = Campaign.objects.filter(public_id=public_id).select_related("organisation").first()
    if campaign is None or campaign.status != CampaignStatus.CLOSED:
        raise Http404
    # Each unit of the campaign with its parent in the chart now, in one query of ids.
    parent = dict(RollupParticipation.objects.filter(campaign=campaign).values_list("team_id", "team__parent_id"))
    members = set(parent)
    if is_admin_of(request.user, campaign.organisation):
        visible = members  # the admin may open every unit (what rollup_teams_for gives them)
    else:
        visible = rollup_teams_for(request.user, campaign) & members
    if not visible:
        raise Http404
    parent = {t: (p if p in members else None) for t, p in parent.items()}
    children: dict[int, list[int]] = defaultdict(list)
    for team_id, parent_id in parent.items():
        if parent_id is not None:
            children[parent_id].append(team_id)
    return CampaignTree(campaign, children, parent, visible)


@login_required
def rollup_start(request, public_id: str):
    """The top of what this person may see: the whole campaign, or their own highest team."""
    tree = _tree_for(request, public_id)
    tops = Team.objects.filter(pk__in=tree.tops()).order_by("name")
    if len(tops) == 1:
        return redirect("gensidig:rollup", public_id=public_id, team_id=tops[0].public_id)
    return render(request, "gensidig/rollups/choose.html", {"campaign": tree.campaign, "teams": tops})


@login_required
@audited(AuditAction.ROLLUP_VIEWED)
def rollup(request, public_id: str, team_id: str):
    tree = _tree_for(request, public_id)
    campaign = tree.campaign
    team = Team.objects.filter(public_id=team_id, organisation=campaign.organisation).first()
    if team is None or team.pk not in tree.visible:
        raise Http404
    note_target(request, organisation=campaign.organisation, target=f"{campaign.name}: {team.name}")
    child_ids = tree.children[team.pk]
    children = list(Team.objects.filter(pk__in=child_ids).order_by("name"))
    themes = {
        (row.team_id, row.scope, row.theme_key): row
        for row in RollupTheme.objects.filter(campaign=campaign, team_id__in=[team.pk, *child_ids])
    }
    # The instrument without its text, cached per process: its framework is parsed once, not per view.
    framework = framework_for(instrument_by_id(campaign.instrument_id), translation.get_language())

    def cells(team_pk: int, scope: str) -> list[RollupTheme | None]:
        return [themes.get((team_pk, scope, theme.key)) for theme in framework.themes]

    participation = tree.participation_of([team.pk, *child_ids])
    own = participation[team.pk]
    rows = [
        HeatmapRow(
            team.name, cells(team.pk, RollupTheme.Scope.BRANCH), own.branch_answered, own.branch_invited, kind="total"
        )
    ]
    if children:
        rows.append(HeatmapRow(team.name, cells(team.pk, RollupTheme.Scope.OWN), own.answered, own.invited, kind="own"))
    for child in children:
        p = participation[child.pk]
        drill = child if tree.children[child.pk] else None
        rows.append(
            HeatmapRow(
                child.name,
                cells(child.pk, RollupTheme.Scope.BRANCH),
                p.branch_answered,
                p.branch_invited,
                drill_to=drill,
            )
        )
    parent_id = tree.parent.get(team.pk)
    parent = Team.objects.get(pk=parent_id) if parent_id in tree.visible else None
    return render(
        request,
        "gensidig/rollups/heatmap.html",
        {
            "campaign": campaign,
            "team": team,
            "parent": parent,
            "rows": rows,
            "themes": framework.themes,
            "k": campaign.anonymity_threshold,
            "approximate": any(cell is not None and cell.approximate for row in rows for cell in row.themes),
        },
    )
