"""The teams a campaign left out, and why, read for those teams only (not the whole branch).

The reasons must be the ones a preview of the branch as it is now would give, and the statements
the same however large the rest of the organisation is.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gensidig.models import Team
from gensidig.services.campaigns import LeftOut, create_campaign, launch_campaign, left_out_teams, preview
from gensidig.services.organisation.chart import apply_import, read_chart

from ..factories import make_team

pytestmark = pytest.mark.django_db

# A director; chief A leads 6 leaders, one of whom (a1) leads 3 more (under k); chief C leads 5.
CHART = [("director@k.dk", "Direktør", "", "Direktionen")]
CHART += [(f"{c}@k.dk", f"Chef {c}", "director@k.dk", f"Område {c}") for c in "ac"]
CHART += [(f"a{i}@k.dk", f"Leder a{i}", "a@k.dk", "Område A") for i in range(1, 7)]
CHART += [(f"a1x{i}@k.dk", f"Leder a1x{i}", "a1@k.dk", "Område A1") for i in range(1, 4)]
CHART += [(f"c{i}@k.dk", f"Leder c{i}", "c@k.dk", "Område C") for i in range(1, 6)]


def team_of(organisation, chief_email: str) -> Team:
    return Team.objects.get(organisation=organisation, chief__email=chief_email, active=True)


@pytest.fixture
def launched():
    data = ("email;name;manager_email;unit\n" + "\n".join(";".join(row) for row in CHART)).encode()
    organisation = apply_import(
        organisation_slug="kommune", organisation_name="Kommune", chart=read_chart(data=data, filename="chart.csv")
    ).organisation
    campaign = create_campaign(
        organisation=organisation,
        name="Forår",
        root_team=team_of(organisation, "a@k.dk"),
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )
    small = team_of(organisation, "a1@k.dk")
    launch_campaign(campaign=campaign, excluded_team_ids={small.pk})
    return campaign, small


def preview_reason(campaign, team) -> str:
    """The reason as a preview of the branch now says it (what left_out_teams read before)."""
    leaders = {t.team.pk: t.leaders for t in preview(organisation=campaign.organisation, root_team=campaign.root_team)}
    return LeftOut.SMALL if leaders.get(team.pk) else LeftOut.NO_LEADERS


def test_the_reasons_are_the_branch_previews_as_the_chart_changes(launched):
    campaign, small = launched
    assert [(item.team, item.reason) for item in left_out_teams(campaign=campaign)] == [(small, LeftOut.SMALL)]
    assert preview_reason(campaign, small) == LeftOut.SMALL

    small.parent = team_of(campaign.organisation, "c@k.dk")  # moved out of the campaign's branch
    small.save()
    assert [item.reason for item in left_out_teams(campaign=campaign)] == [LeftOut.NO_LEADERS]
    assert preview_reason(campaign, small) == LeftOut.NO_LEADERS

    small.parent = team_of(campaign.organisation, "a@k.dk")
    small.active = False
    small.save()
    assert [item.reason for item in left_out_teams(campaign=campaign)] == [LeftOut.NO_LEADERS]
    assert preview_reason(campaign, small) == LeftOut.NO_LEADERS


def test_the_statements_do_not_grow_with_the_rest_of_the_organisation(launched, monkeypatch):
    campaign, _small = launched

    def whole_branch(**_kwargs):
        raise AssertionError("the whole branch is read")

    monkeypatch.setattr("gensidig.services.campaigns.preview", whole_branch)
    monkeypatch.setattr("gensidig.services.campaigns.branch_teams", whole_branch)
    monkeypatch.setattr("gensidig.services.campaigns.descendants", whole_branch)

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert left_out_teams(campaign=campaign)
        return len(captured)

    before = statements()
    for _ in range(5):
        make_team(leaders=6, organisation=campaign.organisation)
    assert statements() == before
