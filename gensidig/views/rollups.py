"""Roll-ups of a closed campaign: a heatmap of units × themes, drilled down along the hierarchy only."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation

from gensidig.models import AuditAction, Campaign, CampaignStatus, RollupParticipation, Team
from gensidig.services.access import is_admin_of, rollup_teams_for
from gensidig.services.results.rollup_pages import rollup_page
from gensidig.services.survey.instruments import framework_for, instrument_by_id

from .auditing import audited, note_target


@dataclass
class CampaignTree:
    """The campaign's units that this person may see, and the shape of the hierarchy.

    Only ids are read for the whole campaign: the start page finds the reader's highest units.
    A unit's heatmap (services.results.rollup_pages) reads only that unit and a page below it.
    """

    campaign: Campaign
    parent: dict[int, int | None]
    visible: set[int]

    def tops(self) -> list[int]:
        return [t for t in self.visible if self.parent.get(t) not in self.visible]


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
    return CampaignTree(campaign, parent, visible)


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
    """One unit's heatmap: the unit itself, then a page of the units directly below it."""
    campaign = Campaign.objects.filter(public_id=public_id).select_related("organisation").first()
    if campaign is None or campaign.status != CampaignStatus.CLOSED:
        raise Http404
    team = Team.objects.filter(public_id=team_id, organisation=campaign.organisation).first()
    # The instrument without its text, cached per process: its framework is parsed once, not per view.
    framework = framework_for(instrument_by_id(campaign.instrument_id), translation.get_language())
    shown = rollup_page(
        user=request.user, campaign=campaign, team=team, page_number=request.GET.get("page", 1), themes=framework.themes
    )
    if shown is None:
        raise Http404
    note_target(request, organisation=campaign.organisation, target=f"{campaign.name}: {team.name}")
    return render(
        request,
        "gensidig/rollups/heatmap.html",
        {
            "campaign": campaign,
            "team": team,
            "parent": shown.parent,
            "rows": shown.rows,
            "page": shown.page,
            "themes": framework.themes,
            "k": campaign.anonymity_threshold,
            "approximate": shown.approximate,
        },
    )
