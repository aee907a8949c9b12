"""Roll-ups of a closed campaign: a heatmap of units × themes, drilled down along the hierarchy only."""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation

from gensidig.models import AuditAction, Campaign, CampaignStatus, RollupParticipation, RollupTheme, Team
from gensidig.services.access import rollup_teams_for
from gensidig.services.survey.instruments import framework_for

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
    """The campaign's units that this person may see, with their participation and children."""

    campaign: Campaign
    participation: dict[int, RollupParticipation]
    children: dict[int, list[int]]
    parent: dict[int, int | None]
    visible: set[int]

    def tops(self) -> list[int]:
        return [t for t in self.visible if self.parent.get(t) not in self.visible]


def _tree_for(request, public_id: str) -> CampaignTree:
    campaign = Campaign.objects.filter(public_id=public_id).select_related("organisation", "instrument").first()
    if campaign is None or campaign.status != CampaignStatus.CLOSED:
        raise Http404
    participation = {p.team_id: p for p in RollupParticipation.objects.filter(campaign=campaign)}
    visible = rollup_teams_for(request.user, campaign) & set(participation)
    if not visible:
        raise Http404
    parent = dict(Team.objects.filter(pk__in=participation).values_list("pk", "parent_id"))
    parent = {t: (p if p in participation else None) for t, p in parent.items()}
    children: dict[int, list[int]] = defaultdict(list)
    for team_id, parent_id in parent.items():
        if parent_id is not None:
            children[parent_id].append(team_id)
    return CampaignTree(campaign, participation, children, parent, visible)


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
    framework = framework_for(campaign.instrument, translation.get_language())

    def cells(team_pk: int, scope: str) -> list[RollupTheme | None]:
        return [themes.get((team_pk, scope, theme.key)) for theme in framework.themes]

    own = tree.participation[team.pk]
    rows = [
        HeatmapRow(
            team.name, cells(team.pk, RollupTheme.Scope.BRANCH), own.branch_answered, own.branch_invited, kind="total"
        )
    ]
    if children:
        rows.append(HeatmapRow(team.name, cells(team.pk, RollupTheme.Scope.OWN), own.answered, own.invited, kind="own"))
    for child in children:
        p = tree.participation[child.pk]
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
