"""One person's data (GDPR): the export tells HR nothing about answering; erasure keeps every result."""

import datetime

import pytest
from django.test import override_settings

from gensidig.models import (
    Agreement,
    AuditAction,
    AuditEvent,
    Invitation,
    ItemStatistic,
    Person,
    ReminderBatch,
    ThemeStatistic,
    User,
)
from gensidig.models.choices import Role
from gensidig.services.agreements import record_agreement
from gensidig.services.mail import reminders
from gensidig.services.mail.outbox import queue_invitations, send_invitations
from gensidig.services.organisation.teams import ensure_login
from gensidig.services.personal_data import ErasureRefused, erase_leavers, erase_person, personal_data
from gensidig.services.survey.closing import close_round

from ..factories import answer, answers_for, leader_links, make_team, start_round

pytestmark = pytest.mark.django_db


def _without_identity(data: dict) -> dict:
    stripped = {key: value for key, value in data.items() if key not in {"person", "account"}}
    return stripped


@override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend", "OPTIONS": {}}})
def test_hr_cannot_tell_from_two_leaders_exports_which_one_answered():
    team = make_team(leaders=6)
    round_, links = start_round(team)
    queue_invitations(rounds=[round_])
    send_invitations()
    leaders = leader_links(links)
    for link in leaders[1:]:
        answer(link, answers_for(round_, Role.LEADER, 4))
    # A reminder goes only to whoever has not answered: the export must not show it either.
    ReminderBatch.objects.create(round=round_, number=101, manual=True)
    reminders.send_reminders()
    silent, answered = leaders[0].person, leaders[1].person
    assert Invitation.objects.get(person=silent, round=round_).used is False
    assert Invitation.objects.get(person=answered, round=round_).used is True
    assert _without_identity(personal_data(silent)) == _without_identity(personal_data(answered))


def test_the_export_holds_who_they_are_their_rounds_and_agreements_that_name_them():
    team = make_team(leaders=5)
    round_, links = start_round(team)
    person = leader_links(links)[0].person
    for link in leader_links(links):
        answer(link, answers_for(round_, Role.LEADER, 3))
    closed = close_round(round_=round_)
    record_agreement(round_=closed, theme_key="direction", text="Vi følger op", owner="leader", owner_person=person)
    data = personal_data(person)
    assert data["person"]["email"] == person.email
    assert [r["round"] for r in data["invited_to"]] == [round_.public_id]
    assert data["teams_belonged_to"] == [team.name]
    assert data["agreements_naming_them"][0]["text"] == "Vi følger op"
    assert "used" not in str(data) and "answered" not in str(data)


def _figures(round_):
    items = list(ItemStatistic.objects.filter(round=round_).order_by("pk").values())
    themes = list(ThemeStatistic.objects.filter(round=round_).order_by("pk").values())
    return items, themes


def test_erasing_someone_who_left_removes_who_they_were_and_changes_no_result():
    team = make_team(leaders=6)
    round_, links = start_round(team)
    person = leader_links(links)[0].person
    user = ensure_login(person=person)
    for link in leader_links(links):
        answer(link, answers_for(round_, Role.LEADER, 4))
    closed = close_round(round_=round_)
    agreement = record_agreement(round_=closed, theme_key="direction", text="X", owner="leader", owner_person=person)
    before = _figures(closed)
    with pytest.raises(ErasureRefused):
        erase_person(person=person)
    Person.objects.filter(pk=person.pk).update(active=False, left_on=datetime.date.today())

    erase_person(person=person)

    person.refresh_from_db()
    assert person.erased and person.name == "" and person.unit == ""
    assert person.email.endswith("@erased.invalid")
    assert not Invitation.objects.filter(person=person).exists()
    assert Invitation.objects.filter(round=closed, person__isnull=True).count() == 1
    assert not User.objects.filter(pk=user.pk).exists()
    agreement.refresh_from_db()
    assert agreement.owner_person is None
    assert _figures(closed) == before
    event = AuditEvent.objects.get(action=AuditAction.PERSON_ERASED)
    assert person.email not in event.target and "erased" not in event.target


@override_settings(GENSIDIG_ERASE_LEAVERS_AFTER_DAYS=30)
def test_the_worker_erases_people_who_left_long_enough_ago_and_nobody_else():
    team = make_team(leaders=3)
    long_gone, recent, active = [m.person for m in team.memberships.order_by("pk")]
    today = datetime.date(2027, 3, 1)
    Person.objects.filter(pk=long_gone.pk).update(active=False, left_on=today - datetime.timedelta(days=31))
    Person.objects.filter(pk=recent.pk).update(active=False, left_on=today - datetime.timedelta(days=29))
    assert erase_leavers(today=today) == 1
    assert Person.objects.get(pk=long_gone.pk).erased
    assert not Person.objects.get(pk=recent.pk).erased
    assert not Person.objects.get(pk=active.pk).erased
    assert erase_leavers(today=today) == 0
    assert not Agreement.objects.exists()


def test_hr_sees_the_data_page_downloads_it_and_erases_someone_who_left(client):
    from django.urls import reverse

    from gensidig.services.access import add_admin

    team = make_team(leaders=2)
    person = team.memberships.order_by("pk").first().person
    add_admin(email="hr@kommune.example", organisation_slug=team.organisation.slug)
    client.force_login(User.objects.get(email="hr@kommune.example"))
    slug = team.organisation.slug
    page = client.get(reverse("gensidig:org-person-data", args=[slug, person.pk]))
    assert page.status_code == 200 and person.email in page.content.decode()
    download = client.get(reverse("gensidig:org-person-data-json", args=[slug, person.pk]))
    assert download.json()["person"]["email"] == person.email
    assert AuditEvent.objects.filter(action=AuditAction.PERSONAL_DATA_EXPORTED).count() == 2
    refused = client.post(reverse("gensidig:org-person-erase", args=[slug, person.pk]), follow=True)
    assert not Person.objects.get(pk=person.pk).erased
    assert refused.status_code == 200
    Person.objects.filter(pk=person.pk).update(active=False, left_on=datetime.date.today())
    done = client.post(reverse("gensidig:org-person-erase", args=[slug, person.pk]))
    assert done.status_code == 302
    assert Person.objects.get(pk=person.pk).erased
    assert client.get(reverse("gensidig:org-person-data", args=[slug, person.pk])).status_code == 404


def test_leaving_starts_the_clock_and_coming_back_stops_it():
    from gensidig.services.organisation.chart import apply_import, read_chart
    from gensidig.services.organisation.people import deactivate_person, reactivate_person

    rows = "email;name;manager_email;unit\ntop@k.dk;Top;;A\nkim@k.dk;Kim;top@k.dk;A\nal@k.dk;Al;top@k.dk;A\n"
    organisation = apply_import(
        organisation_slug="k", organisation_name="K", chart=read_chart(data=rows.encode(), filename="k.csv")
    ).organisation
    kim = Person.objects.get(email="kim@k.dk")
    deactivate_person(organisation=organisation, person=kim)
    kim.refresh_from_db()
    assert not kim.active and kim.left_on == datetime.date.today()
    reactivate_person(organisation=organisation, person=kim, manager_email="top@k.dk")
    kim.refresh_from_db()
    assert kim.active and kim.left_on is None


def test_someone_who_left_can_no_longer_read_their_old_teams_reports(client):
    """A chief who leaves keeps a sign-in until they are erased; it must not keep their team's reports."""
    from django.urls import reverse

    from gensidig.services.organisation.people import reactivate_person

    team = make_team(leaders=6, threshold=5)
    round_, links = start_round(team)
    for link in leader_links(links):
        answer(link, answers_for(round_, Role.LEADER, 4))
    close_round(round_=round_)
    round_.shared_on = datetime.date.today()
    round_.save(update_fields=["shared_on"])
    chief, leader = team.chief, team.memberships.order_by("pk").first().person
    ensure_login(person=leader)
    report = reverse("gensidig:report", args=[round_.public_id])
    shared = reverse("gensidig:team-report", args=[round_.public_id])

    def can_read(person, url):
        client.force_login(User.objects.get(pk=person.user_id))
        return client.get(url).status_code == 200

    assert can_read(chief, report) and can_read(leader, shared)
    for person in (chief, leader):
        Person.objects.filter(pk=person.pk).update(active=False, left_on=datetime.date.today())
    assert not can_read(chief, report)
    assert not can_read(leader, shared)
    # Coming back gives the access back.
    reactivate_person(organisation=team.organisation, person=Person.objects.get(pk=chief.pk), manager_email="")
    assert can_read(chief, report)
