"""A large close counts its rounds a chunk at a time, in a thread beside the transaction
(services/ballots/tally.py): what it stores must be what the ballots say, whatever the chunks."""

from collections import Counter, defaultdict

import pytest

from gensidig.models import Ballot, Comment, RatingCounter, Round, RoundKey
from gensidig.models.choices import RoundStatus
from gensidig.services.ballots import keys, sealing, tally
from gensidig.services.campaigns import launch_campaign
from gensidig.services.survey.closing import TallyError, close_campaign
from gensidig.services.survey.instruments import counter_slots, items_by_key
from gensidig.services.survey.rounds import reissue_links

from ..factories import answer, answers_for
from .test_campaigns import new_campaign, organisation  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(organisation):  # noqa: F811
    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    for round_ in Round.objects.filter(campaign=campaign):
        for index, link in enumerate(reissue_links(round_=round_)):
            comments = {"direction": f"bemærkning {round_.pk}-{index}"} if index % 2 else {}
            answer(link, answers_for(round_, link.role, 1 + (index + round_.pk) % 5, comments=comments))
    assert Round.objects.filter(campaign=campaign).count() >= 3, "enough rounds for several chunks"
    return campaign


def opened_by_hand(campaign) -> tuple[dict, Counter]:
    """Every ballot opened with the master key, the way an auditor would: totals per counter row, and comments."""
    totals: dict = defaultdict(lambda: [0] * 6)
    comments: Counter = Counter()
    for round_ in Round.objects.filter(campaign=campaign).select_related("instrument"):
        private_key = keys.unwrap(RoundKey.objects.get(round=round_))
        items, slots = items_by_key(round_.instrument), counter_slots(round_.instrument)
        by_slot = {slot: (items[key].pk, role, scale) for (role, key, scale), slot in slots.items()}
        for sealed in Ballot.objects.filter(round=round_).values_list("sealed", flat=True):
            opened = sealing.open_ballot(private_key=private_key, sealed=bytes(sealed), instrument=round_.instrument)
            for question, value in opened.ratings:
                totals[(round_.pk, *by_slot[slots[question]])][value] += 1
            comments.update((round_.pk, theme, text) for theme, text in opened.comments)
        for slot in by_slot.values():
            totals[(round_.pk, *slot)]  # every counter row exists, answered or not
    return {key: tuple(values) for key, values in totals.items()}, comments


def stored_counters(campaign) -> tuple[dict, Counter]:
    rows = RatingCounter.objects.filter(round__campaign=campaign).values_list(
        "round_id", "item_id", "role", "scale", *RatingCounter.VALUE_FIELDS
    )
    comments = Comment.objects.filter(round__campaign=campaign).values_list("round_id", "theme_key", "text")
    return {tuple(row[:4]): tuple(row[4:]) for row in rows}, Counter(comments)


def test_counted_a_round_at_a_time_the_close_stores_exactly_what_the_ballots_say(answered, monkeypatch):
    expected = opened_by_hand(answered)
    assert sum(sum(values) for values in expected[0].values()) > 0 and expected[1]
    monkeypatch.setattr(tally, "ROUNDS_PER_CHUNK", 1)
    close_campaign(campaign=answered)
    assert stored_counters(answered) == expected
    assert not Ballot.objects.filter(round__campaign=answered).exists()


def test_an_unreadable_ballot_in_a_later_chunk_stops_the_close_and_keeps_every_ballot(answered, monkeypatch):
    ballots = Ballot.objects.filter(round__campaign=answered)
    kept = ballots.count()
    last = ballots.order_by("round_id").last()
    last.sealed = bytes(last.sealed)[:-1] + bytes([bytes(last.sealed)[-1] ^ 1])
    last.save()
    monkeypatch.setattr(tally, "ROUNDS_PER_CHUNK", 1)
    with pytest.raises(TallyError, match="cannot be counted") as raised:
        close_campaign(campaign=answered)
    assert isinstance(raised.value.__cause__, sealing.BallotUnreadable)
    assert ballots.count() == kept
    assert not RatingCounter.objects.filter(round__campaign=answered).exists()
    assert not Round.objects.filter(campaign=answered).exclude(status=RoundStatus.OPEN).exists()
