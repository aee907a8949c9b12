"""HR's campaign pages (issue 10): edit and delete a draft, a reminder now, the e-mails before launch,
and the teams a campaign leaves out because they have a round of their own open."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from gensidig.models import Campaign, CampaignStatus, Organisation, ReminderBatch, ReminderStatus, Round, Team
from gensidig.models.choices import Role
from gensidig.services.access import add_admin
from gensidig.services.campaigns import create_campaign, launch_campaign
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.signin import user_for_email
from gensidig.services.survey.closing import close_campaign
from gensidig.services.survey.own_round import open_own_round
from gensidig.services.survey.rounds import reissue_links

from ..factories import answer, answers_for

pytestmark = pytest.mark.django_db

CHART = [("top@k.dk", "Top", "", "Direktionen")]
CHART += [(f"chef{c}@k.dk", f"Chef {c}", "top@k.dk", f"Område {c}") for c in "12"]
CHART += [(f"l{c}{i}@k.dk", f"Leder {c}{i}", f"chef{c}@k.dk", f"Område {c}") for c in "12" for i in range(5)]


@pytest.fixture
def organisation():
    lines = ["email;name;manager_email;unit"] + [";".join(row) for row in CHART]
    chart = read_chart(data="\n".join(lines).encode(), filename="chart.csv")
    organisation = apply_import(organisation_slug="k", organisation_name="Kommune K", chart=chart).organisation
    Organisation.objects.filter(pk=organisation.pk).update(languages=["da", "en"])
    organisation.refresh_from_db()
    return organisation


@pytest.fixture
def hr(client, organisation):
    _organisation, user = add_admin(email="hr@k.dk", organisation_slug="k")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def draft(organisation, **kwargs):
    return create_campaign(
        organisation=organisation,
        name=kwargs.get("name", "Forår"),
        root_team=kwargs.get("root_team"),
        opens_on=kwargs.get("opens_on", timezone.localdate()),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )


def url(name, campaign):
    return reverse(f"gensidig:{name}", args=["k", campaign.public_id])


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def form_data(**changes):
    data = {
        "name": "Efterår 2027",
        "branch": "",
        "opens_on": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
        "closes_on": (timezone.localdate() + datetime.timedelta(days=20)).isoformat(),
    }
    return data | changes


# --- Edit -----------------------------------------------------------------------------------


def test_the_draft_page_leads_to_editing_and_the_form_comes_filled_in(hr, organisation):
    campaign = draft(organisation, root_team=Team.objects.get(name="Område 1"))
    page = text(hr.get(url("campaign", campaign)))
    assert f'href="{url("campaign-edit", campaign)}"' in page and "Edit the campaign" in page
    form = hr.get(url("campaign-edit", campaign))
    assert form.status_code == 200
    body = text(form)
    for label in ("Name", "Who takes part", "Opens on", "Closes on", "Save the campaign"):
        assert label in body
    assert 'value="Forår"' in body
    assert f'value="{campaign.root_team_id}" selected' in body
    assert f'value="{timezone.localdate(campaign.closes_at).isoformat()}"' in body


def test_saving_the_edit_changes_the_draft_and_returns_to_its_page(hr, organisation):
    campaign = draft(organisation)
    branch = Team.objects.get(name="Område 2")
    response = hr.post(url("campaign-edit", campaign), form_data(branch=branch.pk))
    assert response.status_code == 302 and response["Location"] == url("campaign", campaign)
    campaign.refresh_from_db()
    assert campaign.name == "Efterår 2027" and campaign.root_team == branch
    assert campaign.status == CampaignStatus.DRAFT
    assert "Efterår 2027" in text(hr.get(response["Location"]))


def test_bad_input_on_the_edit_form_gets_a_400_with_the_reason_and_changes_nothing(hr, organisation):
    campaign = draft(organisation)
    closes_first = form_data(closes_on=timezone.localdate().isoformat())
    for data in (closes_first, form_data(name=""), form_data(opens_on="in a while"), form_data(branch="999999")):
        response = hr.post(url("campaign-edit", campaign), data)
        assert response.status_code == 400, data
        assert 'id="error-summary"' in text(response)
    assert "The closing date must be after the opening date." in text(
        hr.post(url("campaign-edit", campaign), closes_first)
    )
    campaign.refresh_from_db()
    assert campaign.name == "Forår"


def test_a_campaign_that_has_opened_cannot_be_edited_and_says_so(hr, organisation):
    campaign = draft(organisation)
    launch_campaign(campaign=campaign)
    for method in ("get", "post"):
        response = getattr(hr, method)(url("campaign-edit", campaign), form_data(), follow=True)
        assert response.status_code == 200
        assert "The campaign has opened, so it can no longer be changed." in messages_of(response)
    assert Campaign.objects.get(pk=campaign.pk).name == "Forår"
    assert url("campaign-edit", campaign) not in text(hr.get(url("campaign", campaign)))


# --- Delete and back to draft ---------------------------------------------------------------------


def test_deleting_a_draft_asks_first_naming_it_then_returns_to_the_list(hr, organisation):
    campaign = draft(organisation, name="Forår 2027")
    assert url("campaign-delete", campaign) in text(hr.get(url("campaign", campaign)))
    confirm = hr.get(url("campaign-delete", campaign))
    assert confirm.status_code == 200 and "Forår 2027" in text(confirm)
    assert Campaign.objects.filter(pk=campaign.pk).exists()  # asking deletes nothing
    response = hr.post(url("campaign-delete", campaign), follow=True)
    assert response.redirect_chain[-1][0] == reverse("gensidig:campaigns", args=["k"])
    assert any("Forår 2027" in m for m in messages_of(response))
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_an_open_campaign_cannot_be_deleted_and_says_so(hr, organisation):
    campaign = draft(organisation)
    launch_campaign(campaign=campaign)
    for method in ("get", "post"):
        response = getattr(hr, method)(url("campaign-delete", campaign), follow=True)
        assert response.status_code == 200
        assert any("cannot be deleted" in m for m in messages_of(response))
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.OPEN


def test_a_scheduled_campaign_goes_back_to_draft_or_is_deleted(hr, organisation):
    campaign = draft(organisation, opens_on=timezone.localdate() + datetime.timedelta(days=5))
    launch_campaign(campaign=campaign)
    page = text(hr.get(url("campaign", campaign)))
    assert url("campaign-withdraw", campaign) in page and url("campaign-delete", campaign) in page
    hr.post(url("campaign-withdraw", campaign))
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT
    again = hr.post(url("campaign-withdraw", campaign), follow=True)  # a draft already: told, not a 500
    assert again.status_code == 200 and messages_of(again)
    launch_campaign(campaign=campaign)
    assert hr.post(url("campaign-delete", campaign)).status_code == 302
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


# --- Remind now -----------------------------------------------------------------------------


def test_a_reminder_now_is_queued_for_every_round_and_its_totals_show_once_sent(hr, organisation):
    campaign = draft(organisation)
    rounds = launch_campaign(campaign=campaign)
    page = text(hr.get(url("campaign", campaign)))
    assert url("campaign-remind", campaign) in page and "Send a reminder now" in page

    response = hr.post(url("campaign-remind", campaign), follow=True)
    assert any("on its way" in m for m in messages_of(response))
    batches = ReminderBatch.objects.filter(round__campaign=campaign)
    assert batches.count() == len(rounds) and set(batches.values_list("number", flat=True)) == {101}
    assert "A reminder sent by hand is on its way" in text(response)
    polled = text(hr.get(url("campaign-progress", campaign)))
    assert 'hx-trigger="every 3s"' in polled and "?reminder=waiting" in polled
    refused = hr.post(url("campaign-remind", campaign), follow=True)
    assert any("already on its way" in m for m in messages_of(refused))
    assert batches.count() == len(rounds)

    # The sender has sent it. Some have answered, so the campaign's participation total is shown,
    # and so is the reminder's, named as sent by hand.
    answer_some(campaign)
    batches.update(status=ReminderStatus.DONE, sent=3)
    page = hr.get(url("campaign", campaign))
    assert page.context["participation"].answered is not None
    assert f"Reminder sent by hand, no. 1: {3 * len(rounds)} sent" in text(page)
    assert "Reminder 101" not in text(page)
    # The page that was polling while it waited reloads once to show it; the polled part itself
    # works out no participation, so it never shows a reminder's count.
    polled = hr.get(url("campaign-progress", campaign), {"reminder": "waiting"})
    assert polled["HX-Refresh"] == "true" and "Reminder sent by hand" not in text(polled)
    assert "HX-Refresh" not in hr.get(url("campaign-progress", campaign))


def answer_some(campaign):
    """Every leader of Område 1 answers, three of Område 2's, none of the top team's."""
    for round_ in Round.objects.filter(campaign=campaign).select_related("team"):
        wanted = {"Område 1": 5, "Område 2": 3}.get(round_.team.name, 0)
        leaders = [link for link in reissue_links(round_=round_) if link.role == Role.LEADER]
        for link in leaders[:wanted]:
            answer(link, answers_for(round_, Role.LEADER, 4))


def test_the_reminders_count_is_hidden_where_the_participation_total_is(hr, organisation):
    campaign = draft(organisation)
    launch_campaign(campaign=campaign)
    hr.post(url("campaign-remind", campaign))
    ReminderBatch.objects.filter(round__campaign=campaign).update(status=ReminderStatus.DONE, sent=3)
    # Nobody has answered yet: a total of none would tell about everyone, so it is withheld, and the
    # reminder's count with it (it would tell the same).
    page = hr.get(url("campaign", campaign))
    assert page.context["participation"].answered is None
    assert "Reminder sent by hand" not in text(page) and "Reminders have gone out" in text(page)
    assert "9 sent" not in text(page)


def test_a_reminder_for_a_closed_campaign_is_refused_with_a_message(hr, organisation):
    campaign = draft(organisation)
    launch_campaign(campaign=campaign)
    close_campaign(campaign=campaign)
    response = hr.post(url("campaign-remind", campaign), follow=True)
    assert response.status_code == 200
    assert any("not open" in m for m in messages_of(response))
    assert not ReminderBatch.objects.exists()
    assert url("campaign-remind", campaign) not in text(response)


# --- The e-mails before launch ---------------------------------------------------------------


def test_the_draft_page_leads_to_the_emails_which_show_every_message_in_every_language(hr, organisation):
    Organisation.objects.filter(pk=organisation.pk).update(invitation_note="Spørg Lone i HR, lokal 2217.")
    campaign = draft(organisation, root_team=Team.objects.get(name="Område 1"))
    page = text(hr.get(url("campaign", campaign)))
    assert url("campaign-mail-preview", campaign) in page and "See the invitation and the reminder" in page

    response = hr.get(url("campaign-mail-preview", campaign))
    assert response.status_code == 200
    body = text(response)
    assert (
        '<section class="gs-mail-previews" lang="da"' in body and '<section class="gs-mail-previews" lang="en"' in body
    )
    assert body.count('<pre class="gs-mail-text">') == 8  # invitation and reminder, leader and chief, two languages
    assert body.count("Område 1") >= 8 and "Spørg Lone i HR, lokal 2217." in body
    assert "at least 5 leaders" in body  # the campaign's threshold, in the English leader's invitation
    assert f"{reverse('gensidig:org-settings', args=['k'])}#id_invitation_note" in body
    assert not Round.objects.exists()  # nothing opened, nothing queued


# --- A team with its own round open ----------------------------------------------------------------


def test_the_draft_flags_a_team_with_its_own_round_and_the_open_campaign_says_it_was_left_out(hr, organisation):
    busy = Team.objects.get(name="Område 2")
    own = open_own_round(team=busy, closes_at=timezone.now() + datetime.timedelta(days=9))
    campaign = draft(organisation)
    page = hr.get(url("campaign", campaign))
    closes = timezone.localtime(own.closes_at).strftime("%-d")  # as the page shows it: local time
    assert [t.team for t in page.context["busy_teams"]] == [busy]
    assert "Teams that already have a round open" in text(page) and f"Område 2: its round closes on {closes}." in text(
        page
    )
    assert page.context["invitations"] == (1 + 2) + (1 + 5)  # Område 2 is not counted

    hr.post(url("campaign-launch", campaign), {"leave_out": [busy.pk]})
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.OPEN
    assert Round.objects.get(team=busy, status="open") == own
    page = text(hr.get(url("campaign", campaign)))
    assert "Teams left out" in page and "Område 2: it had a round of its own open" in page


# --- Nobody else ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["hr@other.dk", "chef1@k.dk", "l10@k.dk"])
def test_another_organisations_admin_a_chief_and_a_leader_get_404_on_every_new_page(client, organisation, who):
    if who == "hr@other.dk":
        _org, user = add_admin(email=who, organisation_slug="other", organisation_name="Other")
    else:
        user = user_for_email(who)
    client.force_login(user)
    campaign = draft(organisation)
    running = draft(organisation, name="Kører")
    launch_campaign(campaign=running)
    for name, target, method in [
        ("campaign-edit", campaign, "get"),
        ("campaign-edit", campaign, "post"),
        ("campaign-delete", campaign, "get"),
        ("campaign-delete", campaign, "post"),
        ("campaign-withdraw", campaign, "post"),
        ("campaign-mail-preview", campaign, "get"),
        ("campaign-remind", running, "post"),
    ]:
        response = getattr(client, method)(url(name, target), form_data())
        assert response.status_code == 404, (name, method)
    assert Campaign.objects.get(pk=campaign.pk).name == "Forår"
    assert not ReminderBatch.objects.exists()


def test_a_team_to_leave_out_given_in_digits_int_refuses_is_ignored_not_a_server_error(hr, organisation):
    campaign = draft(organisation)
    launched = hr.post(url("campaign-launch", campaign), {"leave_out": ["²", "1²"]})
    assert launched.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN and not campaign.excluded_teams.exists()
