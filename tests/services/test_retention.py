import datetime

import pytest
from django.core.management import call_command

from gensidig.models import Comment, ItemStatistic, RatingCounter, Round
from gensidig.services.retention import add_months, purge_expired

from ..factories import closed_round, make_team

pytestmark = pytest.mark.django_db


def test_months_are_added_as_on_a_calendar():
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2026, 11, 15), 36) == datetime.date(2029, 11, 15)


def test_answers_are_deleted_when_the_retention_period_is_over_and_not_before(team):
    round_ = closed_round(team, answering=6, comments={"direction": "gammel"})
    closed = round_.closed_on
    kept_until = add_months(closed, team.organisation.retention_months)
    assert purge_expired(today=kept_until - datetime.timedelta(days=1)).rounds == 0
    assert RatingCounter.objects.filter(round=round_).exists()
    purged = purge_expired(today=kept_until)
    assert purged.rounds == 1
    assert not RatingCounter.objects.filter(round=round_).exists()
    assert not Comment.objects.filter(round=round_).exists()
    assert not ItemStatistic.objects.filter(round=round_).exists()
    assert Round.objects.filter(pk=round_.pk).exists()  # the round itself is remembered


def test_a_shorter_retention_period_is_respected():
    team = make_team(leaders=5)
    team.organisation.retention_months = 1
    team.organisation.save()
    round_ = closed_round(team, answering=5)
    call_command("purge")  # nothing yet today
    assert RatingCounter.objects.filter(round=round_).exists()
    assert purge_expired(today=add_months(round_.closed_on, 1)).rounds == 1


def test_the_report_of_a_purged_round_says_its_answers_are_gone(client):
    from django.urls import reverse

    team = make_team(leaders=5)
    round_ = closed_round(team, answering=5)
    purge_expired(today=add_months(round_.closed_on, team.organisation.retention_months))
    client.force_login(team.chief.user)
    assert client.get(reverse("gensidig:report", args=[round_.public_id])).status_code == 410
    assert client.get(reverse("gensidig:report-theme", args=[round_.public_id, "direction"])).status_code == 410
    for name in ("guide", "guide-present"):
        assert client.get(reverse(f"gensidig:{name}", args=[round_.public_id])).status_code == 410, name
