"""The `gensidig` console command and its subcommands."""

import datetime
import io
import os
import re
import sys
import zoneinfo
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from gensidig.cli import command_line, main
from gensidig.models import (
    Agreement,
    Campaign,
    CampaignStatus,
    Invitation,
    InvitationMail,
    Organisation,
    Round,
    Team,
    User,
)
from gensidig.services.agreements import earlier_agreements
from gensidig.services.demo import CHIEF_EMAIL, DEMO_SLUG
from gensidig.services.results.trends import trend_for

pytestmark = pytest.mark.django_db
LINK = re.compile(r"/a/([A-Za-z0-9_\-]{43})/")


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_team_open_a_round_print_links_and_close_it():
    run(
        "create_team",
        "--org",
        "aarhus",
        "--org-name",
        "Aarhus Kommune",
        "--name",
        "Ældre og Sundhed",
        "--chief",
        "Chef@Aarhus.example",
        "--leaders",
        "a@aarhus.example,b@aarhus.example",
        "c@aarhus.example",
        "d@aarhus.example",
        "e@aarhus.example",
    )
    team = Team.objects.get(organisation__slug="aarhus")
    assert team.slug == "aeldre-og-sundhed" and team.chief.email == "chef@aarhus.example"
    assert team.leaders.count() == 5 and team.chief.user is not None
    assert Organisation.objects.get(slug="aarhus").name == "Aarhus Kommune"

    out, err = run("open_round", "aarhus", team.slug, "--closes", "2099-12-31")
    assert "k=5" in err
    lines = out.strip().splitlines()
    assert len(lines) == 6
    assert {line.split("\t")[0] for line in lines} == {"chief", "leader"}
    assert all(LINK.search(line) for line in lines)
    round_ = Round.objects.get(team=team)
    assert round_.closes_at.year == 2099

    out, _ = run("links", round_.public_id)
    assert len(out.strip().splitlines()) == 6
    assert not set(LINK.findall(out)) & set(LINK.findall("\n".join(lines)))

    out, _ = run("rounds", "--org", "aarhus")
    assert out.startswith(round_.public_id) and "aarhus/aeldre-og-sundhed" in out and "0 of 5" in out

    out, _ = run("close_round", round_.public_id)
    assert "0 of 5 leaders answered" in out


def test_links_can_be_sent_by_email(mailoutbox):
    run(
        "create_team",
        "--org",
        "odense",
        "--name",
        "Stab",
        "--chief",
        "chef@odense.example",
        "--leaders",
        "a@odense.example",
        "b@odense.example",
        "c@odense.example",
    )
    run("open_round", "odense", "stab")
    round_ = Round.objects.get(team__organisation__slug="odense")
    out, _ = run("links", round_.public_id, "--email")
    assert "Sent 4" in out
    assert len(mailoutbox) == 4
    leader_mail = next(m for m in mailoutbox if m.to == ["a@odense.example"])
    assert LINK.search(leader_mail.body)
    assert leader_mail.alternatives and "text/html" in leader_mail.alternatives[0][1]
    assert "5" in leader_mail.body  # the threshold is in the invitation


def test_bad_arguments_are_reported_clearly():
    with pytest.raises(CommandError, match="not-an-address"):
        run("create_team", "--org", "x", "--name", "T", "--chief", "not-an-address", "--leaders", "a@x.example")
    with pytest.raises(CommandError, match="No team"):
        run("open_round", "x", "nope")
    with pytest.raises(CommandError, match="No round"):
        run("close_round", "nope")


def test_the_console_command_accepts_hyphenated_names(monkeypatch):
    assert command_line(["/usr/bin/gensidig", "create-team", "--org-name", "x-y"]) == [
        "gensidig",
        "create_team",
        "--org-name",
        "x-y",
    ]
    assert command_line(["gensidig", "--help"]) == ["gensidig", "--help"]
    ran = []
    monkeypatch.setattr("django.core.management.execute_from_command_line", ran.append)
    monkeypatch.delenv("GENSIDIG_PROCESS", raising=False)
    main(["gensidig", "close-round", "--due"])
    assert ran == [["gensidig", "close_round", "--due"]]


def test_a_server_bounds_its_statements_even_when_started_from_a_process_that_ran_a_job(monkeypatch):
    # A batch job marks its process so its statements are not bounded; a server started after it
    # from the same process (or a shell that exported the marker) must not inherit that.
    monkeypatch.setattr("django.core.management.execute_from_command_line", lambda argv: None)
    monkeypatch.delenv("GENSIDIG_PROCESS", raising=False)
    main(["gensidig", "close-round", "--due"])
    assert os.environ["GENSIDIG_PROCESS"] == "job"
    for serving in ("serve", "demo", "runserver"):
        main(["gensidig", serving])
        assert os.environ["GENSIDIG_PROCESS"] == "web", serving
        main(["gensidig", "send-mail"])
        assert os.environ["GENSIDIG_PROCESS"] == "job"


def test_the_demo_loads_and_can_run_twice():
    for _ in range(2):
        out, _err = run("demo", "--no-serve", "--port", "8123")
        assert CHIEF_EMAIL in out and "hr@demo.gensidig.dk" in out
        assert len(LINK.findall(out)) == 2
    organisation = Organisation.objects.get(slug=DEMO_SLUG)
    assert Organisation.objects.filter(slug=DEMO_SLUG).count() == 1
    rounds = Round.objects.filter(team__organisation=organisation)
    # Two campaigns, each with a round for every team: one closed half a year ago, one open now.
    assert rounds.filter(status="closed", campaign__isnull=False).count() == 6
    assert rounds.filter(status="open", campaign__isnull=False).count() == 6
    main_team = organisation.teams.get(name="Sundhed og Ældre")
    assert main_team.rounds.get(number=1).summary.leader_figures_shown
    # A follow-up round: the first round a year ago, then the campaign's, with a trend, agreements and a shared report.
    closed = main_team.rounds.get(number=2)
    assert closed.campaign is not None and closed.shared_on is not None
    assert trend_for(closed).theme("direction", "experience") > 0
    assert earlier_agreements(closed)["direction"] and closed.agreements.count() == 2
    small = organisation.teams.get(name="Hjemmeplejen Nord").rounds.get(status="closed")
    assert not small.summary.leader_figures_shown  # the team that shows how figures are withheld
    assert main_team.children.filter(name="Hjemmeplejen Nord").exists()  # a chief of chiefs, with a roll-up
    token = LINK.findall(out)[0]
    from gensidig.services.survey.answering import usable_invitation
    from gensidig.services.survey.tokens import hash_token

    assert usable_invitation(token_hash=hash_token(token)) is not None
    assert Invitation.objects.filter(round__team__organisation=organisation).exists()
    # Not served, nothing goes to the demo's outbox and nobody is e-mailed.
    assert not InvitationMail.objects.filter(status="pending").exists()


COPENHAGEN = zoneinfo.ZoneInfo("Europe/Copenhagen")


def _english(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _danish(moment, fmt: str) -> str:
    with translation.override("da"):
        return formats.date_format(timezone.localtime(moment) if isinstance(moment, datetime.datetime) else moment, fmt)


@pytest.mark.parametrize(
    ("today", "now_name", "last_name", "first_season"),
    [
        (datetime.datetime(2026, 4, 15, 10, 0), "Forår 2026", "Efterår 2025", "spring 2025"),
        (datetime.datetime(2026, 10, 14, 9, 0), "Efterår 2026", "Forår 2026", "autumn 2025"),
        (datetime.datetime(2026, 12, 7, 17, 55), "Vinter 2026/27", "Sommer 2026", "winter 2025/26"),
        (datetime.datetime(2026, 12, 31, 23, 30), "Vinter 2026/27", "Sommer 2026", "winter 2025/26"),
        (datetime.datetime(2027, 1, 1, 0, 30), "Vinter 2026/27", "Sommer 2026", "winter 2025/26"),
    ],
    ids=["spring", "autumn", "december", "new-years-eve", "new-years-day"],
)
def test_the_demo_tells_one_story_dated_from_the_day_it_is_run(client, today, now_name, last_name, first_season):
    """Names, dates and "last time" agree with each other, with today, and between what is printed and shown."""
    now = today.replace(tzinfo=COPENHAGEN)
    with mock.patch("django.utils.timezone.now", return_value=now):
        out, _err = run("demo", "--no-serve", "--port", "8123")
        organisation = Organisation.objects.get(slug=DEMO_SLUG)
        day = now.date()
        open_now = Campaign.objects.get(organisation=organisation, status=CampaignStatus.OPEN)
        closed = Campaign.objects.get(organisation=organisation, status=CampaignStatus.CLOSED)
        main = organisation.teams.get(name="Sundhed og Ældre")
        first, last, current = main.rounds.order_by("number")

        # Named after the season each campaign opened in; the closed one is half a year back.
        assert (open_now.name, closed.name) == (now_name, last_name)
        # The closed campaign, and every round of it, opened and closed in the past, on the same days.
        closed_on = timezone.localdate(closed.closes_at)
        assert closed.opens_on < closed_on < day - datetime.timedelta(days=150)
        assert set(closed.rounds.values_list("status", "opened_on", "closed_on", "closes_at")) == {
            ("closed", closed.opens_on, closed_on, closed.closes_at)
        }
        # The first round, a year ago, before the campaign; the campaign's round is the one after it.
        assert (
            first.campaign is None
            and first.closed_on < closed.opens_on
            and first.opened_on.year
            in {
                day.year - 1,
                day.year - 2,
            }
        )
        assert (last.campaign, current.campaign) == (closed, open_now)
        # The campaign open now opened today and closes on a weekday at 16:00, between one and two weeks ahead.
        closes = timezone.localtime(open_now.closes_at)
        assert open_now.opens_on == day and closes.hour == 16 and closes.weekday() < 5
        assert now + datetime.timedelta(days=9) < open_now.closes_at <= now + datetime.timedelta(days=15)
        assert all(r.opened_on == day and r.closes_at == open_now.closes_at for r in open_now.rounds.all())
        assert all(r.accepts_answers(now) for r in open_now.rounds.all())
        # Nothing happened after today: done agreements were due before it; the report was shared before it.
        assert closed_on < last.shared_on < day
        agreements = Agreement.objects.filter(round__team=main)
        assert all(a.due_on < day for a in agreements if a.status == "done")
        assert all(a.due_on is None or a.due_on > day for a in agreements if a.status == "in_progress")

        # What is printed is what the pages show.
        assert f"today {_english(day)}" in out
        assert f'the campaign "{now_name}". It closes on {_english(closes.date())} at 16:00' in out
        assert f'HR\'s campaign "{last_name}"' in out and f"since the {first_season} round" in out
        answered = current.invitations.filter(role="leader", used=True).count()
        assert f"{answered} of Mette's {current.leaders_invited} leaders have answered so far" in out
        client.force_login(User.objects.get(email="hr@demo.gensidig.dk"))
        listing = client.get(reverse("gensidig:campaigns", args=[DEMO_SLUG])).content.decode()
        for campaign in (open_now, closed):
            row = re.search(rf"<tr>.*?{re.escape(campaign.name)}.*?</tr>", listing, re.S).group(0)
            assert _danish(campaign.opens_on, "j. F Y") in row and _danish(campaign.closes_at, "j. F Y, H:i") in row
            assert campaign.get_status_display() in row
        client.force_login(User.objects.get(email=CHIEF_EMAIL))
        page = client.get(reverse("gensidig:home")).content.decode()
        assert _danish(open_now.closes_at, "j. F Y, H:i") in page and f"{answered} af {current.leaders_invited}" in page
        assert _danish(first.closed_on, "j. F Y") in page and _danish(closed_on, "j. F Y") in page


def test_the_served_demo_sends_its_emails_to_its_outbox_and_runs_a_worker_that_stops_with_it(
    monkeypatch, settings, tmp_path
):
    from gensidig.management.commands import demo as command
    from gensidig.services.mail.demo_outbox import stored_messages

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(command, "WORKER", [sys.executable, "-c", "import time; time.sleep(120)"])
    real_call_command = command.call_command
    monkeypatch.setattr(
        command, "call_command", lambda name, **kw: name != "collectstatic" and real_call_command(name, **kw)
    )
    seen = {}

    def serve(*, host, port, workers):
        (sender,) = [p for p in started if p.poll() is None]
        seen.update(
            sender_running=sender.poll() is None,
            outbox_on=django_settings.GENSIDIG_DEMO_OUTBOX,
            site_url=django_settings.SITE_URL,
            outbox_page=Client().get(reverse("gensidig:demo-outbox")).status_code,
            messages=stored_messages(),
        )

    started = []
    real_popen = command.subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        seen["env"] = kwargs["env"]
        return started[-1]

    monkeypatch.setattr(command, "serve", serve)
    monkeypatch.setattr(command.subprocess, "Popen", popen)
    monkeypatch.delenv("SITE_URL", raising=False)
    out, _err = run("demo", "--port", "8124")

    assert seen["sender_running"] and seen["outbox_on"] and seen["outbox_page"] == 200
    assert seen["env"]["GENSIDIG_DEMO_OUTBOX"] == "true" and seen["env"]["SITE_URL"] == "http://127.0.0.1:8124"
    assert seen["site_url"] == "http://127.0.0.1:8124"  # the links in its e-mails lead to the demo being served
    # Today's invitations are in the outbox, one for each invitation of the open campaign, with working links.
    campaign = Campaign.objects.get(organisation__slug=DEMO_SLUG, status=CampaignStatus.OPEN)
    invited = Invitation.objects.filter(round__campaign=campaign)
    assert (
        len(seen["messages"]) == invited.count()
        and InvitationMail.objects.filter(status="sent").count() >= invited.count()
    )
    assert all("http://127.0.0.1:8124/a/" in message.text for message in seen["messages"])
    assert "http://127.0.0.1:8124/demo/outbox/" in out
    # Stopped with the demo, and the setting is off again.
    (sender,) = started
    assert sender.poll() is not None
    assert not django_settings.GENSIDIG_DEMO_OUTBOX and "GENSIDIG_DEMO_OUTBOX" not in os.environ
    assert Client().get(reverse("gensidig:demo-outbox")).status_code == 404
