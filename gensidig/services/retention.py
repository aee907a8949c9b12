"""Deleting answers when the organisation's retention period is over."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from gensidig.models import (
    Comment,
    ItemStatistic,
    RatingCounter,
    RollupStatistic,
    RollupTheme,
    Round,
    RoundSummary,
    ThemeStatistic,
)
from gensidig.models.choices import RoundStatus
from gensidig.services.results.rendered import retire


@dataclass(frozen=True)
class Purged:
    rounds: int
    counters: int
    comments: int


def add_months(day: datetime.date, months: int) -> datetime.date:
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def expired_rounds(*, today: datetime.date | None = None):
    """Closed rounds whose organisation's retention period has passed since they closed."""
    today = today or timezone.localdate()
    candidates = Round.objects.filter(status=RoundStatus.CLOSED, closed_on__isnull=False).select_related(
        "team__organisation"
    )
    return [r for r in candidates if add_months(r.closed_on, r.team.organisation.retention_months) <= today]


def purge_expired(*, today: datetime.date | None = None) -> Purged:
    """Delete the answers of expired rounds, and every figure computed from them.

    The round, its team and the fact that it took place stay (with its counts of invitations),
    so a later round's history still makes sense; what anyone answered does not.
    """
    rounds = expired_rounds(today=today)
    ids = [r.pk for r in rounds]
    with transaction.atomic():
        counters, _ = RatingCounter.objects.filter(round_id__in=ids).delete()
        comments, _ = Comment.objects.filter(round_id__in=ids).delete()
        ItemStatistic.objects.filter(round_id__in=ids).delete()
        ThemeStatistic.objects.filter(round_id__in=ids).delete()
        RoundSummary.objects.filter(round_id__in=ids).delete()
        campaigns = {r.campaign_id for r in rounds if r.campaign_id}
        # A campaign's roll-ups go with the last of its rounds (they all close together).
        RollupStatistic.objects.filter(campaign_id__in=campaigns).delete()
        RollupTheme.objects.filter(campaign_id__in=campaigns).delete()
        # What was rendered from the figures goes with them; the team's later rounds showed them in their course.
        retire(team_ids={r.team_id for r in rounds})
    return Purged(rounds=len(ids), counters=counters, comments=comments)
