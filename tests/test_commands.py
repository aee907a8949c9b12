"""The `gensidig` console command and its subcommands."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gensidig.cli import command_line, main
from gensidig.models import Invitation, Organisation, Round, Team
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
    main(["gensidig", "close-round", "--due"])
    assert ran == [["gensidig", "close_round", "--due"]]


def test_the_demo_loads_and_can_run_twice():
    for _ in range(2):
        out, _err = run("demo", "--no-serve", "--port", "8123")
        assert CHIEF_EMAIL in out and "hr@demo.gensidig.dk" in out
        assert len(LINK.findall(out)) == 2
    organisation = Organisation.objects.get(slug=DEMO_SLUG)
    assert Organisation.objects.filter(slug=DEMO_SLUG).count() == 1
    rounds = Round.objects.filter(team__organisation=organisation)
    assert rounds.filter(status="open").count() == 1
    assert rounds.filter(status="closed", campaign__isnull=False).count() == 6  # one campaign, every team
    main_team = organisation.teams.get(name="Sundhed og Ældre")
    assert main_team.rounds.get(number=1).summary.leader_figures_shown
    # A follow-up round: last autumn's, then the campaign's, with a trend, agreements and a shared report.
    spring = main_team.rounds.get(number=2)
    assert spring.campaign is not None and spring.shared_on is not None
    assert trend_for(spring).theme("direction", "experience") > 0
    assert earlier_agreements(spring)["direction"] and spring.agreements.count() == 2
    small = organisation.teams.get(name="Hjemmeplejen Nord").rounds.get()
    assert not small.summary.leader_figures_shown  # the team that shows how figures are withheld
    assert main_team.children.filter(name="Hjemmeplejen Nord").exists()  # a chief of chiefs, with a roll-up
    token = LINK.findall(out)[0]
    from gensidig.services.survey.answering import usable_invitation
    from gensidig.services.survey.tokens import hash_token

    assert usable_invitation(token_hash=hash_token(token)) is not None
    assert Invitation.objects.filter(round__team__organisation=organisation).exists()
