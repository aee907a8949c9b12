"""An open campaign's participation is counted at most once a window and shown to every reader
from the kept copy (models/live.py): the campaign page's cost does not grow with the organisation,
the figures are those a fresh count gives, and what must show at once does."""

import datetime
import os
import re
import subprocess
import sys

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gensidig.models import Campaign, LiveParticipation, ReminderBatch, ReminderStatus, Round
from gensidig.models.choices import Role
from gensidig.services.results import participation
from gensidig.services.survey.closing import close_campaign
from gensidig.services.survey.rounds import reissue_links
from gensidig.views import campaigns as campaign_views

from ..factories import answer, answers_for
from .test_page_scale import build

pytestmark = pytest.mark.django_db

# In whichever language the page is in: "12 of 30 leaders have answered", "Counted at 14:02; ...".
TOTAL = re.compile(r'<p class="font-lead">(\d+)\D+(\d+)\D')
COUNTED = re.compile(r"\b(\d\d:\d\d);")


@pytest.fixture
def window(settings):
    settings.GENSIDIG_LIVE_PARTICIPATION_SECONDS = 60
    return settings


@pytest.fixture
def counting(monkeypatch):
    """How often the costly count runs."""
    runs = []
    real = participation._count_live
    monkeypatch.setattr(participation, "_count_live", lambda campaign: runs.append(1) or real(campaign))
    return runs


def open_page(client, org: dict) -> str:
    client.force_login(org["hr"])
    response = client.get(reverse("gensidig:campaign", args=[org["slug"], org["open"]]))
    assert response.status_code == 200
    return response.content.decode()


def answer_all_but_one(campaign_public_id: str) -> int:
    """Every chief and all but one leader of each round answer (so that the total may be shown:
    "everyone" would not be); how many leaders did."""
    leaders = 0
    for round_ in Round.objects.filter(campaign__public_id=campaign_public_id):
        links = reissue_links(round_=round_)
        skipped = next(link for link in links if link.role == Role.LEADER)
        for link in links:
            if link is not skipped:
                answer(link, answers_for(round_, link.role, 4))
                leaders += link.role == Role.LEADER
    return leaders


def age_the_copy(seconds: int) -> None:
    LiveParticipation.objects.update(counted_at=F("counted_at") - datetime.timedelta(seconds=seconds))


def shown(view) -> list[tuple]:
    return [(team.pk, depth, row) for team, depth, row in view.rows]


def test_the_counts_are_kept_inside_the_window_and_counted_again_after_it(client, window, counting):
    org = build("w", 2)
    first = open_page(client, org)
    assert len(counting) == 1
    assert TOTAL.search(first) is None or TOTAL.search(first).group(1) == "0"
    answered = answer_all_but_one(org["open"])

    # Inside the window every view shows the kept counts, and says when they were counted.
    again = open_page(client, org)
    assert len(counting) == 1
    assert COUNTED.search(again).group(1) == COUNTED.search(first).group(1)
    assert TOTAL.search(again) is None or TOTAL.search(again).group(1) == "0"

    # After it, the next view counts again and shows everyone's answers.
    age_the_copy(61)
    later = open_page(client, org)
    assert len(counting) == 2
    assert TOTAL.search(later).group(1) == str(answered)


def test_a_window_of_zero_counts_on_every_view(client, settings, counting):
    settings.GENSIDIG_LIVE_PARTICIPATION_SECONDS = 0
    org = build("z", 2)
    open_page(client, org)
    open_page(client, org)
    assert len(counting) == 2


def test_the_kept_counts_are_those_a_fresh_count_gives(window):
    org = build("f", 3)
    campaign = Campaign.objects.get(public_id=org["open"])
    # Some teams answer, so that some counts are shown and some withheld.
    for round_ in Round.objects.filter(campaign=campaign)[:2]:
        for link in reissue_links(round_=round_):
            answer(link, answers_for(round_, link.role, 3))
    kept = participation.live_participation(campaign=campaign)
    assert LiveParticipation.objects.filter(campaign=campaign).count() == 1
    from_the_copy = participation.live_participation(campaign=campaign, page_number=1, per_page=2)
    window.GENSIDIG_LIVE_PARTICIPATION_SECONDS = 0
    fresh = participation.live_participation(campaign=campaign)
    assert shown(kept) == shown(fresh)
    assert (kept.invited, kept.answered) == (fresh.invited, fresh.answered)
    assert shown(from_the_copy) == shown(fresh)[:2]
    assert (from_the_copy.invited, from_the_copy.answered) == (fresh.invited, fresh.answered)
    # The copy holds what the page shows and nothing more: a withheld count is not kept either.
    stored = LiveParticipation.objects.get(campaign=campaign).content["rows"]
    assert [tuple(row[:2]) for row in stored] == [(t, d) for t, d, _row in shown(fresh)]
    assert [row[3] for row in stored] == [row.answered for _t, _d, row in shown(fresh)]
    assert [row[5] for row in stored] == [row.branch_answered for _t, _d, row in shown(fresh)]


def test_a_closed_campaign_shows_its_stored_counts_at_once(client, window):
    org = build("x", 2)
    open_page(client, org)
    answered = answer_all_but_one(org["open"])
    assert LiveParticipation.objects.filter(campaign__public_id=org["open"]).exists()
    close_campaign(campaign=Campaign.objects.get(public_id=org["open"]))
    assert not LiveParticipation.objects.filter(campaign__public_id=org["open"]).exists(), "the close drops the copy"
    page = open_page(client, org)
    assert COUNTED.search(page) is None
    assert TOTAL.search(page).group(1) == str(answered)


def test_a_finished_reminder_counts_again_at_once(client, window, counting):
    # A reminder count is shown beside the counts, so the audit must have had it.
    org = build("r", 2)
    open_page(client, org)
    round_ = Round.objects.filter(campaign__public_id=org["open"]).first()
    batch = ReminderBatch.objects.create(round=round_, number=1, status=ReminderStatus.SENDING)
    open_page(client, org)
    assert len(counting) == 2  # a reminder on its way changes what the page shows
    open_page(client, org)
    assert len(counting) == 2
    batch.status, batch.sent = ReminderStatus.DONE, 3
    batch.save()
    open_page(client, org)
    assert len(counting) == 3


def test_a_raised_threshold_counts_again_at_once(client, window, counting):
    org = build("k", 2)
    open_page(client, org)
    Campaign.objects.filter(public_id=org["open"]).update(anonymity_threshold=F("anonymity_threshold") + 1)
    open_page(client, org)
    assert len(counting) == 2


def test_the_page_says_when_the_counts_were_counted_in_local_time(client, window):
    org = build("t", 2)
    page = open_page(client, org)
    counted = LiveParticipation.objects.get(campaign__public_id=org["open"]).counted_at
    assert COUNTED.search(page).group(1) == timezone.localtime(counted).strftime("%H:%M")


def statements(client, org: dict) -> int:
    open_page(client, org)  # the first view counts and keeps
    with CaptureQueriesContext(connection) as captured:
        open_page(client, org)
    return len(captured)


@pytest.mark.parametrize("seconds", [60, 0], ids=["from the kept copy", "counted on every view"])
def test_the_open_campaign_page_runs_the_same_statements_at_two_sizes(client, settings, monkeypatch, seconds):
    settings.GENSIDIG_LIVE_PARTICIPATION_SECONDS = seconds
    monkeypatch.setattr(campaign_views, "PARTICIPATION_PER_PAGE", 2)
    small, large = build("s", 2), build("l", 6)
    answer_all_but_one(small["open"])
    answer_all_but_one(large["open"])
    assert statements(client, small) == statements(client, large)


def test_inside_the_window_the_page_reads_no_invitation(client, window):
    org = build("i", 3)
    open_page(client, org)
    with CaptureQueriesContext(connection) as captured:
        open_page(client, org)
    invitation_table = Round._meta.app_label + "_invitation"
    assert not [q["sql"] for q in captured if invitation_table in q["sql"]]


def test_the_window_is_set_from_the_environment_and_a_bad_value_is_refused(tmp_path):
    def setting(value: str) -> subprocess.CompletedProcess:
        env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
        env |= {
            "DJANGO_SETTINGS_MODULE": "gensidig.settings",
            "GENSIDIG_DATA_DIR": str(tmp_path),
            "GENSIDIG_LIVE_PARTICIPATION_SECONDS": value,
        }
        code = "from django.conf import settings; print(settings.GENSIDIG_LIVE_PARTICIPATION_SECONDS)"
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)  # noqa: S603

    assert setting("15").stdout.strip() == "15"
    refused = setting("a minute")
    assert refused.returncode != 0 and "GENSIDIG_LIVE_PARTICIPATION_SECONDS" in refused.stderr
