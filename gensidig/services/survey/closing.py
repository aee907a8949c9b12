"""Closing rounds and campaigns: no more answers, the sealed ballots counted, the figures stored.

A round of a campaign closes with all the campaign's rounds: their figures share one
suppression pattern. Closing is one transaction: the rounds are marked closed, their ballots are
opened and counted (services.ballots.tally), and their figures computed; if any of it fails,
nothing changes and the ballots are kept.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gensidig.db.bulk import keys_checked_per_statement
from gensidig.models import Campaign, CampaignStatus, Organisation, Round
from gensidig.models.choices import RoundStatus
from gensidig.services.ballots.tally import TallyError, count_ballots, lock_out_submissions
from gensidig.services.campaigns import CampaignError
from gensidig.services.results.figures import compute_results
from gensidig.services.results.rendered import retire
from gensidig.services.results.rollups import compute_campaign_results

logger = logging.getLogger(__name__)

__all__ = [
    "CampaignError",
    "TallyError",
    "close_campaign",
    "close_due_campaigns",
    "close_due_campaigns_of",
    "close_due_rounds",
    "close_round",
]

OnError = Callable[[object, Exception], None]


def close_round(*, round_: Round, now: datetime.datetime | None = None) -> Round:
    """Close a round: no more answers, its ballots counted, and its figures computed once and stored."""
    now = now or timezone.now()
    if round_.campaign_id:
        close_campaign(campaign=round_.campaign, now=now)
        return Round.objects.select_related("instrument").get(pk=round_.pk)
    with transaction.atomic():
        lock_out_submissions(round_id=round_.pk)
        locked = Round.objects.select_for_update().select_related("instrument", "team").get(pk=round_.pk)
        if locked.is_closed:
            return locked
        locked.status = RoundStatus.CLOSED
        locked.closed_on = timezone.localdate(now)
        locked.save(update_fields=["status", "closed_on"])
        compute_results(round_=locked, counted=count_ballots(rounds=[locked]))
        # A later round of the team, closed before this one, shows this one in its course now.
        retire(team_ids=[locked.team_id])
    return locked


def close_campaign(*, campaign: Campaign, now: datetime.datetime | None = None) -> Campaign:
    """Close every round of the campaign, count their ballots, and compute all figures with one pattern."""
    now = now or timezone.now()
    with transaction.atomic(), keys_checked_per_statement():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status == CampaignStatus.CLOSED:
            return campaign
        if campaign.status != CampaignStatus.OPEN:
            raise CampaignError(_("Only a launched campaign can be closed."))
        lock_out_submissions(campaign_id=campaign.pk)
        closing = list(Round.objects.filter(campaign=campaign, status=RoundStatus.OPEN))
        for round_ in closing:
            if round_.instrument_id == campaign.instrument_id:
                # One instrument, decoded once: decoding its content again for each of 2,481
                # rounds took several seconds of the close at 20,000 people.
                round_.instrument = campaign.instrument
        Round.objects.filter(pk__in=[r.pk for r in closing]).update(
            status=RoundStatus.CLOSED, closed_on=timezone.localdate(now)
        )
        counted = count_ballots(rounds=closing)
        campaign.status = CampaignStatus.CLOSED
        campaign.save(update_fields=["status"])
        compute_campaign_results(campaign=campaign, counted=counted)
        retire(team_ids={r.team_id for r in closing})
    return campaign


def close_due_rounds(
    *, now: datetime.datetime | None = None, among=None, on_error: OnError | None = None
) -> list[Round]:
    """Close every open round whose closing time has passed, or only those `among` a queryset.

    A round that cannot be counted (TallyError: the wrong master key, a damaged ballot) is left
    open with its ballots, logged, and passed to on_error; the others close.
    """
    now = now or timezone.now()
    due = (Round.objects.all() if among is None else among).filter(status=RoundStatus.OPEN, closes_at__lte=now)
    closed = []
    for round_ in due.select_related("campaign"):
        try:
            closed.append(close_round(round_=round_, now=now))
        except TallyError as error:
            _report(round_, error, on_error)
    return closed


def close_due_campaigns(*, now: datetime.datetime | None = None, on_error: OnError | None = None) -> list[Campaign]:
    """Close every launched campaign past its closing time (run with close-round --due)."""
    now = now or timezone.now()
    return _close_each(Campaign.objects.filter(status=CampaignStatus.OPEN, closes_at__lte=now), now, on_error)


def close_due_campaigns_of(
    *, organisation: Organisation, now: datetime.datetime | None = None, on_error: OnError | None = None
) -> list[Campaign]:
    now = now or timezone.now()
    due = Campaign.objects.filter(organisation=organisation, status=CampaignStatus.OPEN, closes_at__lte=now)
    return _close_each(due, now, on_error)


def _close_each(campaigns, now, on_error: OnError | None) -> list[Campaign]:
    closed = []
    for campaign in campaigns:
        try:
            closed.append(close_campaign(campaign=campaign, now=now))
        except TallyError as error:
            _report(campaign, error, on_error)
    return closed


def _report(what, error: Exception, on_error: OnError | None) -> None:
    logger.error("Could not close %s: %s", what, error)
    if on_error is not None:
        on_error(what, error)
