"""A campaign's close writes its figures a group of teams at a time: the stored result must not
depend on the size of the groups (services.results.rollups, services.results.figures)."""

import pytest

from gensidig.models import (
    ItemStatistic,
    RollupParticipation,
    RollupStatistic,
    RollupTheme,
    RoundSummary,
    ThemeStatistic,
)
from gensidig.services.campaigns import launch_campaign
from gensidig.services.results.rollups import compute_campaign_results
from gensidig.services.survey.closing import close_campaign

from .test_campaigns import answer_campaign, new_campaign, organisation  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

STORED = {
    ItemStatistic: "round__campaign",
    ThemeStatistic: "round__campaign",
    RoundSummary: "round__campaign",
    RollupStatistic: "campaign",
    RollupTheme: "campaign",
    RollupParticipation: "campaign",
}


def stored(campaign) -> dict:
    """Every figure the close stored for the campaign, row by row in the order written (ids aside:
    they come from a sequence that moves on with every write)."""
    found = {}
    for model, path in STORED.items():
        fields = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
        found[model.__name__] = list(model.objects.filter(**{path: campaign}).order_by("pk").values_list(*fields))
    return found


def test_figures_computed_in_groups_of_any_size_are_those_of_one_group(organisation):  # noqa: F811
    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    answer_campaign(campaign, skip={"c5@k.dk"})
    campaign = close_campaign(campaign=campaign)  # as stored: with the instrument the launch chose
    closed = stored(campaign)
    assert all(closed.values()), "the close stored rows of every kind"
    rollups = RollupStatistic.objects.filter(campaign=campaign)
    # Both kinds of cell, so that the comparison covers the pattern as well as the figures.
    assert rollups.filter(withheld=True).exists() and rollups.filter(withheld=False).exists()

    for group in (1, 2, 10_000):  # one team at a time, a few, and the whole hierarchy at once
        compute_campaign_results(campaign=campaign, group=group)
        assert stored(campaign) == closed, f"groups of {group} stored other figures"
