"""A chief's own round from the browser (issue 10, item 1): start it, remind, resend, move, close."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from gensidig.models import (
    Campaign,
    CampaignStatus,
    Invitation,
    InvitationMail,
    MailStatus,
    Person,
    ReminderBatch,
    Round,
    User,
)
from gensidig.models.choices import Role
from gensidig.services.access import add_admin
from gensidig.services.survey.own_round import open_own_round

from ..factories import answer, answers_for, make_team, start_round

pytestmark = pytest.mark.django_db


def sign_in(client, team):
    client.force_login(User.objects.get(email=team.chief.email))
    client.cookies["django_language"] = "en"  # the assertions read the English words
    return client


def new_url(team):
    return reverse("gensidig:own-round-new", args=[team.public_id])


def in_days(days):
    return timezone.localtime() + datetime.timedelta(days=days)


def fields(*, closes=None, leave_out=(), add="", **extra):
    closes = closes or in_days(10)
    return {
        "closes_on": closes.date().isoformat(),
        "closes_time": closes.strftime("%H:%M"),
        "leave_out": [str(p.pk) for p in leave_out],
        "add": add,
        **extra,
    }


def check(client, team, **kwargs):
    response = client.post(new_url(team), fields(action="check", **kwargs))
    assert response.status_code == 200, response.content.decode()
    return response


def checked_fingerprint(response) -> str:
    (value,) = re.findall(r'name="checked" value="([0-9a-f]+)"', response.content.decode())
    return value


def text(response) -> str:
    return response.content.decode()


# --- Starting a round ---------------------------------------------------------------------------------


def test_the_dashboard_offers_to_start_a_round_only_where_no_round_is_open(client):
    team = make_team(leaders=5)
    sign_in(client, team)
    assert new_url(team) in text(client.get(reverse("gensidig:home")))
    start_round(team)
    assert new_url(team) not in text(client.get(reverse("gensidig:home")))


def test_the_page_lists_the_org_charts_leaders_and_the_threshold_and_sends_nothing_on_check(client):
    team = make_team(leaders=5)
    sign_in(client, team)
    page = text(client.get(new_url(team)))
    for leader in team.leaders.all():
        assert f'value="{leader.pk}"' in page and leader.name in page
    assert "gs-under-k" not in page  # 5 leaders, k = 5
    gone = team.leaders.order_by("pk").first()
    response = check(client, team, leave_out=[gone], add="ny.leder@kommune.example")
    page = text(response)
    assert "ny.leder@kommune.example" in page
    assert 'value="send"' in page
    plan = page[page.index('id="plan-heading"') :]
    assert gone.name in plan[plan.index("</ul>") :]  # named as left out, after the list of who is asked
    assert not Round.objects.filter(team=team).exists()
    assert not InvitationMail.objects.exists()


def test_sending_after_the_check_opens_the_round_with_those_leaders_and_queues_the_invitations(client):
    team = make_team(leaders=5)
    sign_in(client, team)
    gone = team.leaders.order_by("pk").first()
    closes = in_days(12).replace(hour=15, minute=30, second=0, microsecond=0)
    kwargs = {"closes": closes, "leave_out": [gone], "add": "Ny.Leder@Kommune.example"}
    fingerprint = checked_fingerprint(check(client, team, **kwargs))
    response = client.post(new_url(team), fields(action="send", checked=fingerprint, **kwargs), follow=True)
    round_ = Round.objects.get(team=team)
    assert response.redirect_chain[-1][0] == reverse("gensidig:round", args=[round_.public_id])
    assert "on their way" in text(response)
    assert round_.campaign_id is None and round_.closes_at == closes
    invited = {(i.person.email, i.role) for i in Invitation.objects.filter(round=round_).select_related("person")}
    assert ("ny.leder@kommune.example", Role.LEADER) in invited
    assert (gone.email, Role.LEADER) not in invited
    assert (team.chief.email, Role.CHIEF) in invited and len(invited) == 6
    assert InvitationMail.objects.filter(invitation__round=round_, status=MailStatus.PENDING).count() == 6


def test_a_change_after_the_check_is_shown_again_before_anything_is_sent(client):
    team = make_team(leaders=5)
    sign_in(client, team)
    fingerprint = checked_fingerprint(check(client, team))
    response = client.post(
        new_url(team), fields(action="send", checked=fingerprint, add="one.more@kommune.example"), follow=True
    )
    assert response.status_code == 200
    assert not Round.objects.filter(team=team).exists()
    assert "one.more@kommune.example" in text(response) and 'value="send"' in text(response)
    assert client.post(new_url(team), fields(action="send")).status_code == 200  # never checked: checked now
    assert not Round.objects.filter(team=team).exists()


def test_a_plan_under_the_threshold_is_warned_about_with_what_it_means(client):
    team = make_team(leaders=5)
    sign_in(client, team)
    response = check(client, team, leave_out=list(team.leaders.all()[:2]))
    page = text(response)
    assert "gs-under-k" in page
    warning = page[page.index("gs-under-k") :]
    assert "3" in warning and "5" in warning  # 3 leaders, threshold 5
    assert "only your own answers and the meeting guide" in warning


def test_a_small_team_is_warned_before_the_check_too(client):
    team = make_team(leaders=2)
    sign_in(client, team)
    assert "gs-under-k" in text(client.get(new_url(team)))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"add": "ikke-en-adresse"}, "add"),
        ({"closes": timezone.localtime() - datetime.timedelta(hours=2)}, "closes_on"),
        ({"closes": timezone.localtime() + datetime.timedelta(days=900)}, "closes_on"),
    ],
)
def test_bad_input_gets_a_message_and_nothing_is_opened(client, change, field):
    team = make_team(leaders=5)
    sign_in(client, team)
    response = client.post(new_url(team), fields(action="check", **change))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert 'id="error-summary"' in text(response)
    assert not Round.objects.filter(team=team).exists()


def test_garbage_dates_and_unknown_leaders_get_a_message_not_a_500(client):
    team = make_team(leaders=5)
    sign_in(client, team)
    data = fields(action="check") | {"closes_on": "31-31-2020", "closes_time": "25:99", "leave_out": ["999999"]}
    response = client.post(new_url(team), data)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"closes_on", "closes_time", "leave_out"}


def test_the_chief_cannot_add_themself_as_a_leader(client):
    team = make_team(leaders=5)
    sign_in(client, team)
    response = client.post(new_url(team), fields(action="check", add=team.chief.email.upper()))
    assert response.status_code == 400 and response.context["form"].errors["add"]


def test_a_team_in_a_campaign_is_told_which_campaign_gives_it_its_round(client):
    team = make_team(leaders=5)
    Campaign.objects.create(
        organisation=team.organisation,
        name="Forår i Solby",
        opens_on=timezone.localdate() + datetime.timedelta(days=2),
        closes_at=timezone.now() + datetime.timedelta(days=20),
        anonymity_threshold=5,
        status=CampaignStatus.SCHEDULED,
    )
    sign_in(client, team)
    dashboard = text(client.get(reverse("gensidig:home")))
    assert "Forår i Solby" in dashboard and new_url(team) not in dashboard
    page = client.get(new_url(team))
    assert "Forår i Solby" in text(page) and 'name="action"' not in text(page)
    response = client.post(new_url(team), fields(action="send", checked="x"))
    assert response.status_code == 400 and "Forår i Solby" in text(response)
    assert not Round.objects.filter(team=team).exists()


def test_a_team_cannot_have_two_open_rounds(client):
    team = make_team(leaders=5)
    first = open_own_round(team=team, closes_at=timezone.now() + datetime.timedelta(days=5))
    sign_in(client, team)
    page = client.get(new_url(team))
    assert reverse("gensidig:round", args=[first.public_id]) in text(page)
    assert 'name="action"' not in text(page)
    assert client.post(new_url(team), fields(action="send", checked="x")).status_code == 400
    assert Round.objects.filter(team=team).count() == 1


def test_the_email_preview_shows_each_message_in_each_language_with_the_teams_name_and_the_closing_time(client):
    team = make_team(leaders=5)
    team.organisation.languages = ["da", "en"]
    team.organisation.save()
    sign_in(client, team)
    url = reverse("gensidig:own-round-mail-preview", args=[team.public_id])
    closes = in_days(40).date()
    response = client.get(url, {"closes_on": closes.isoformat(), "closes_time": "15:00"})
    page = text(response)
    assert response.status_code == 200
    assert page.count("<iframe") == 8  # invitation and reminder, to a leader and the chief, in two languages
    assert page.count("sandbox") >= 8 and "allow-scripts" not in page
    assert 'lang="en"' in page and 'lang="da"' in page
    assert team.name in page
    for language in ("da", "en"):
        with translation.override(language):
            assert formats.date_format(closes, "j. F Y") in page
    assert client.get(url).status_code == 200  # the default closing time
    assert client.get(url, {"closes_on": "i morgen", "closes_time": "15:00"}).status_code == 400
    assert not InvitationMail.objects.exists()


# --- While it runs ----------------------------------------------------------------------------------------


def running_round(team, *, delivered=True):
    round_ = open_own_round(team=team, closes_at=timezone.now() + datetime.timedelta(days=10))
    if delivered:
        InvitationMail.objects.filter(invitation__round=round_).update(status=MailStatus.SENT)
    return round_


def test_a_reminder_now_names_nobody_and_a_second_click_says_one_is_on_its_way(client):
    team = make_team(leaders=5)
    round_ = running_round(team)
    sign_in(client, team)
    page = text(client.get(reverse("gensidig:round", args=[round_.public_id])))
    assert "0 of 5" in page  # the page already shows the count; the reminder offer says no more than it
    remind = reverse("gensidig:round-remind", args=[round_.public_id])
    response = client.post(remind, follow=True)
    assert ReminderBatch.objects.filter(round=round_, manual=True, status="pending").count() == 1
    page = text(response)
    for leader in Person.objects.filter(invitations__round=round_):
        assert leader.email not in page and (leader.name or leader.email) not in page.replace(team.chief.name, "")
    assert f'action="{remind}"' not in page  # the button gives way to "on its way"
    again = client.post(remind, follow=True)
    assert ReminderBatch.objects.filter(round=round_).count() == 1
    assert "already on its way" in text(again)


def test_nobody_is_reminded_from_a_closed_round_and_a_campaign_round_is_hrs(client):
    team = make_team(leaders=5)
    round_ = running_round(team)
    sign_in(client, team)
    client.post(reverse("gensidig:round-close", args=[round_.public_id]))
    client.post(reverse("gensidig:round-remind", args=[round_.public_id]))
    assert not ReminderBatch.objects.exists()
    campaign = Campaign.objects.create(
        organisation=team.organisation,
        name="Efterår",
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=20),
        anonymity_threshold=5,
        status=CampaignStatus.OPEN,
    )
    other, _links = start_round(team)
    Round.objects.filter(pk=other.pk).update(campaign=campaign)
    response = client.post(reverse("gensidig:round-remind", args=[other.public_id]), follow=True)
    assert not ReminderBatch.objects.exists() and "HR" in text(response)
    page = text(client.get(reverse("gensidig:round", args=[other.public_id])))
    assert "Efterår" in page and reverse("gensidig:round-remind", args=[other.public_id]) not in page


def test_failed_invitations_are_counted_and_sent_again_with_new_links(client):
    team = make_team(leaders=5)
    round_ = running_round(team)
    failed = InvitationMail.objects.filter(invitation__round=round_, invitation__role=Role.LEADER).first()
    InvitationMail.objects.filter(pk=failed.pk).update(status=MailStatus.FAILED, error="550 No such mailbox")
    sign_in(client, team)
    page = text(client.get(reverse("gensidig:round", args=[round_.public_id])))
    resend = reverse("gensidig:round-resend", args=[round_.public_id])
    assert f'action="{resend}"' in page
    assert failed.invitation.person.email not in page  # counts, not who
    client.post(resend)
    failed.refresh_from_db()
    assert failed.status == MailStatus.PENDING and not failed.error
    assert InvitationMail.objects.filter(invitation__round=round_, status=MailStatus.SENT).count() == 5


def test_the_closing_date_moves_later_but_never_earlier(client):
    team = make_team(leaders=5)
    round_ = running_round(team)
    sign_in(client, team)
    extend = reverse("gensidig:round-extend", args=[round_.public_id])
    earlier = timezone.localtime(round_.closes_at) - datetime.timedelta(days=2)
    response = client.post(extend, {"closes_on": earlier.date().isoformat(), "closes_time": "12:00"})
    assert response.status_code == 400
    assert response.context["extend_form"].errors["closes_on"]
    assert 'id="error-summary"' in text(response)
    before = round_.closes_at
    round_.refresh_from_db()
    assert round_.closes_at == before
    later = timezone.localtime(round_.closes_at) + datetime.timedelta(days=5)
    response = client.post(extend, {"closes_on": later.date().isoformat(), "closes_time": "16:00"}, follow=True)
    round_.refresh_from_db()
    assert timezone.localtime(round_.closes_at).date() == later.date()
    assert timezone.localtime(round_.closes_at).strftime("%H:%M") == "16:00"
    assert client.post(extend, {"closes_on": "", "closes_time": ""}).status_code == 400


def test_closing_is_explained_first_and_then_the_report_is_there(client):
    team = make_team(leaders=5)
    round_, links = start_round(team)
    for link in links[:3]:
        answer(link, answers_for(round_, link.role, 4))
    sign_in(client, team)
    confirm = client.get(reverse("gensidig:round-close-confirm", args=[round_.public_id]))
    assert confirm.status_code == 200
    assert f'action="{reverse("gensidig:round-close", args=[round_.public_id])}"' in text(confirm)
    round_.refresh_from_db()
    assert round_.is_open  # looking at the question closes nothing
    client.post(reverse("gensidig:round-close", args=[round_.public_id]))
    round_.refresh_from_db()
    assert round_.is_closed
    assert client.get(reverse("gensidig:report", args=[round_.public_id])).status_code == 200
    # The confirmation of a closed round leads back to the round.
    assert client.get(reverse("gensidig:round-close-confirm", args=[round_.public_id])).status_code == 302


# --- Nobody else --------------------------------------------------------------------------------------------


def own_round_urls(team, round_):
    return [
        ("get", reverse("gensidig:own-round-new", args=[team.public_id])),
        ("post", reverse("gensidig:own-round-new", args=[team.public_id])),
        ("get", reverse("gensidig:own-round-mail-preview", args=[team.public_id])),
        ("get", reverse("gensidig:round-close-confirm", args=[round_.public_id])),
        ("post", reverse("gensidig:round-remind", args=[round_.public_id])),
        ("post", reverse("gensidig:round-resend", args=[round_.public_id])),
        ("post", reverse("gensidig:round-extend", args=[round_.public_id])),
    ]


def test_another_chief_and_hr_get_a_404_on_every_page_of_a_chiefs_own_round(client):
    team = make_team(leaders=5)
    round_ = running_round(team)
    other = make_team(leaders=5, organisation=team.organisation)
    add_admin(email="hr@kommune.example", organisation_slug=team.organisation.slug)
    for who in ("other", "hr"):
        client.logout()
        if who == "other":
            sign_in(client, other)
        else:
            client.force_login(User.objects.get(email="hr@kommune.example"))
        for method, url in own_round_urls(team, round_):
            response = getattr(client, method)(url, fields(action="send", checked="x") if method == "post" else None)
            assert response.status_code == 404, (who, method, url)
            assert team.name not in text(response)
    assert not ReminderBatch.objects.exists()


def test_an_inactive_team_cannot_start_a_round(client):
    team = make_team(leaders=5)
    type(team).objects.filter(pk=team.pk).update(active=False)
    sign_in(client, team)
    assert client.get(new_url(team)).status_code == 404


def test_every_page_of_the_own_round_renders_in_danish_too(client):
    team = make_team(leaders=5)
    client.force_login(User.objects.get(email=team.chief.email))
    client.cookies["django_language"] = "da"
    pages = [new_url(team), reverse("gensidig:own-round-mail-preview", args=[team.public_id])]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200 and '<html lang="da">' in text(response), url
    assert client.post(new_url(team), fields(action="check")).status_code == 200
    round_ = running_round(team)
    for url in (
        reverse("gensidig:round", args=[round_.public_id]),
        reverse("gensidig:round-close-confirm", args=[round_.public_id]),
        reverse("gensidig:home"),
    ):
        response = client.get(url)
        assert response.status_code == 200 and '<html lang="da">' in text(response), url
