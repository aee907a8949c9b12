"""Links that Django keeps instead of the database (models/results.py, models/ballots.py).

The close's bulk rows keep only their owner's link checked by the database; their links to an
instrument's items, a roll-up's link to its campaign, and a sealed ballot's link to its round are
kept by Django. These tests delete what owns the rows, the way the app does, and look for any row
left pointing at nothing; and they try to delete an item that figures still use.
"""

import pytest
from django.db.models import ProtectedError

from gensidig.models import Ballot, Campaign, Item, ItemStatistic, RatingCounter, RollupStatistic, Round, Team
from gensidig.services.campaigns import launch_campaign
from gensidig.services.survey.closing import close_campaign

from .test_campaigns import answer_campaign, new_campaign, organisation  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)


def orphans() -> dict[str, int]:
    """Rows of the close's tables whose round, campaign, team or item no longer exists."""
    rounds, items = Round.objects.values("pk"), Item.objects.values("pk")
    return {
        "counter without round": RatingCounter.objects.exclude(round_id__in=rounds).count(),
        "counter without item": RatingCounter.objects.exclude(item_id__in=items).count(),
        "figure without round": ItemStatistic.objects.exclude(round_id__in=rounds).count(),
        "figure without item": ItemStatistic.objects.exclude(item_id__in=items).count(),
        "roll-up without campaign": RollupStatistic.objects.exclude(
            campaign_id__in=Campaign.objects.values("pk")
        ).count(),
        "roll-up without team": RollupStatistic.objects.exclude(team_id__in=Team.objects.values("pk")).count(),
        "roll-up without item": RollupStatistic.objects.exclude(item_id__in=items).count(),
    }


@pytest.fixture
def closed(organisation):  # noqa: F811
    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    answer_campaign(campaign)
    campaign = close_campaign(campaign=campaign)
    assert RatingCounter.objects.exists() and ItemStatistic.objects.exists()
    assert RollupStatistic.objects.filter(campaign=campaign).exists()
    return campaign


def test_deleting_a_closed_campaign_leaves_no_figure_behind(closed):
    closed.delete()
    assert not RatingCounter.objects.exists() and not RollupStatistic.objects.exists()
    assert set(orphans().values()) == {0}


def test_deleting_a_round_or_a_team_takes_its_figures_along(closed):
    a_round = Round.objects.filter(campaign=closed).first()
    a_round.delete()
    assert set(orphans().values()) == {0}
    team = Team.objects.filter(pk__in=RollupStatistic.objects.values("team_id")).first()
    team.delete()
    assert set(orphans().values()) == {0}


def test_an_item_that_figures_use_cannot_be_deleted(closed):
    used = Item.objects.get(pk=ItemStatistic.objects.values_list("item_id", flat=True).first())
    with pytest.raises(ProtectedError):
        used.delete()
    assert Item.objects.filter(pk=used.pk).exists()
    assert set(orphans().values()) == {0}


def test_deleting_an_open_round_or_its_campaign_takes_its_sealed_ballots_along(organisation):  # noqa: F811
    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    answer_campaign(campaign)
    rounds = Round.objects.filter(campaign=campaign)
    assert Ballot.objects.filter(round__in=rounds).count() > 1
    rounds.first().delete()
    assert not Ballot.objects.exclude(round_id__in=Round.objects.values("pk")).exists()
    campaign.delete()
    assert not Ballot.objects.exists()
