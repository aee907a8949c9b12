"""A closed campaign's roll-up as one reader opens it: one unit, and a page of the units below it.

Everything here is read from what the close stored (RollupParticipation, RollupTheme): no figure
is computed or re-derived, so a hidden cell stays hidden exactly as the close's one pattern left
it (DESIGN.md 2.6). A page only splits the rows of the unit's heatmap in name order; every row
is the same row the whole list would show, with the unit's own totals on every page.

The cost of a page does not grow with the organisation: whether the reader may open the unit is
worked out from the unit's chain of parents (its depth), not from every team of the organisation,
and only the units of the page shown are read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator

from gensidig.models import Campaign, RollupParticipation, RollupTheme, Team
from gensidig.services.access import is_admin_of, led_teams
from gensidig.services.results.hierarchy import chains_upwards

# Units directly below the one shown, per page: one screen of the heatmap, whatever the branch.
UNITS_PER_PAGE = 20


@dataclass
class HeatmapRow:
    label: str
    themes: list[RollupTheme | None]
    answered: int | None
    invited: int
    drill_to: Team | None = None  # a branch one may open further down
    kind: str = "branch"  # "total" (the whole unit), "own" (the unit's own team), "branch" (a unit below)


@dataclass
class RollupPage:
    team: Team
    parent: Team | None  # the unit above, when the reader may open it
    rows: list[HeatmapRow]
    page: Page  # of the units directly below, for the page navigation

    @property
    def approximate(self) -> bool:
        return any(cell is not None and cell.approximate for row in self.rows for cell in row.themes)


def rollup_page(*, user, campaign: Campaign, team: Team | None, page_number, themes) -> RollupPage | None:
    """The unit's heatmap rows for this reader, a page of the units below it; None if they may not open it.

    The admin may open every unit of the campaign; a chief their own teams and every unit below
    them (the same rule as services.access.rollup_teams_for, for one unit and its parent).
    """
    if team is None:
        return None
    chain = chains_upwards([team.pk])[team.pk]
    parent_id = chain[1] if len(chain) > 1 else None
    members = {p.team_id: p for p in RollupParticipation.objects.filter(campaign=campaign, team_id__in=chain[:2])}
    own = members.get(team.pk)
    if own is None:
        return None
    if is_admin_of(user, campaign.organisation):
        may_open_parent = True
    else:
        led = set(led_teams(user).filter(pk__in=chain).values_list("pk", flat=True))
        if led.isdisjoint(chain):
            return None
        may_open_parent = not led.isdisjoint(chain[1:])
    # The unit above is offered when it is a unit of the campaign and the reader may open it too.
    parent = None
    if parent_id in members and may_open_parent:
        parent = Team.objects.filter(pk=parent_id).only("pk", "public_id", "name").first()

    below = (
        RollupParticipation.objects.filter(campaign=campaign, team__parent_id=team.pk)
        .select_related("team")
        .only("team_id", "answered", "invited", "branch_answered", "branch_invited", "team__public_id", "team__name")
        .order_by("team__name", "team_id")
    )
    page = Paginator(below, UNITS_PER_PAGE).get_page(page_number)
    shown = list(page.object_list)
    shown_ids = [p.team_id for p in shown]
    with_units_below = set(
        RollupParticipation.objects.filter(campaign=campaign, team__parent_id__in=shown_ids)
        .order_by()
        .values_list("team__parent_id", flat=True)
        .distinct()
    )
    cells_of = _theme_cells(campaign, [team.pk, *shown_ids], themes)

    rows = [
        HeatmapRow(
            team.name,
            cells_of(team.pk, RollupTheme.Scope.BRANCH),
            own.branch_answered,
            own.branch_invited,
            kind="total",
        )
    ]
    if page.paginator.count:
        rows.append(
            HeatmapRow(team.name, cells_of(team.pk, RollupTheme.Scope.OWN), own.answered, own.invited, kind="own")
        )
    for p in shown:
        rows.append(
            HeatmapRow(
                p.team.name,
                cells_of(p.team_id, RollupTheme.Scope.BRANCH),
                p.branch_answered,
                p.branch_invited,
                drill_to=p.team if p.team_id in with_units_below else None,
            )
        )
    return RollupPage(team=team, parent=parent, rows=rows, page=page)


def _theme_cells(campaign: Campaign, team_ids: list[int], themes):
    """The stored theme figures of these units, as a lookup of one unit's row of cells in the themes' order."""
    stored = {
        (row.team_id, row.scope, row.theme_key): row
        for row in RollupTheme.objects.filter(campaign=campaign, team_id__in=team_ids)
    }

    def cells(team_id: int, scope: str) -> list[RollupTheme | None]:
        return [stored.get((team_id, scope, theme.key)) for theme in themes]

    return cells
