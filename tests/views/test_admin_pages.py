"""The organisation admin's pages, used as HR would: import, campaigns, settings."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from gensidig.models import Campaign, CampaignStatus, ChartUpload, InvitationMail, Organisation, Person, Round, Team
from gensidig.services.access import add_admin

pytestmark = pytest.mark.django_db

CSV = "\n".join(
    ["e-mail;navn;leder;enhed"]
    + ["top@k.dk;Top;;Direktionen"]
    + [f"chef{c}@k.dk;Chef {c};top@k.dk;Område {c}" for c in "123"]
    + [f"l{c}{i}@k.dk;Leder {c}{i};chef{c}@k.dk;Område {c}" for c in "12" for i in range(5)]
    + [f"l3{i}@k.dk;Leder 3{i};chef3@k.dk;Område 3" for i in range(2)]
).encode("cp1252")


@pytest.fixture
def hr(client):
    _organisation, user = add_admin(email="hr@k.dk", organisation_slug="k", organisation_name="Kommune K")
    client.force_login(user)
    return client


def import_chart(client, data=CSV, name="chart.csv"):
    response = client.post(reverse("gensidig:org-import", args=["k"]), {"chart": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:500]
    preview = client.get(response["Location"])
    return response["Location"], preview


def test_hr_imports_a_danish_excel_csv_sees_the_preview_and_applies_it(hr):
    location, preview = import_chart(hr)
    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert len(plan.new) == 16 and len(plan.teams_formed) == 4
    assert not Person.objects.filter(organisation__slug="k").exists()  # nothing written yet
    applied = hr.post(location)
    assert applied.status_code == 302
    assert Person.objects.filter(organisation__slug="k", active=True).count() == 16
    assert Person.objects.get(email="chef1@k.dk").unit == "Område 1"  # æøå through cp1252
    assert not ChartUpload.objects.exists()
    teams = hr.get(reverse("gensidig:org-teams", args=["k"]))
    assert "Område 3" in teams.content.decode()


def test_a_chart_with_errors_names_the_lines_and_imports_nothing(hr):
    bad = CSV + "\nnot-an-email;X;top@k.dk;Y\nl10@K.dk;Dublet;chef1@k.dk;Område 1".encode("cp1252")
    _location, preview = import_chart(hr, bad)
    assert preview.status_code == 400
    messages = " ".join(e.message for e in preview.context["errors"])
    assert "18" in messages and "19" in messages
    assert not Person.objects.filter(organisation__slug="k").exists()


def test_an_upload_that_is_not_a_chart_is_refused_clearly(hr):
    response = hr.post(reverse("gensidig:org-import", args=["k"]), {"chart": SimpleUploadedFile("virus.exe", b"MZ")})
    assert response.status_code == 400
    assert response.context["form"].errors


def test_hr_creates_a_campaign_previews_small_teams_and_launches_it(hr):
    location, _ = import_chart(hr)
    hr.post(location)
    response = hr.post(
        reverse("gensidig:campaign-new", args=["k"]),
        {
            "name": "Forår 2027",
            "branch": "",
            "opens_on": timezone.localdate().isoformat(),
            "closes_on": (timezone.localdate() + datetime.timedelta(days=14)).isoformat(),
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Forår 2027")
    detail = hr.get(response["Location"])
    small = {t.team.name for t in detail.context["small_teams"]}
    assert small == {"Direktionen", "Område 3"}  # 3 and 2 leaders, under k = 5
    leave_out = Team.objects.get(name="Område 3").pk
    launched = hr.post(reverse("gensidig:campaign-launch", args=["k", campaign.public_id]), {"leave_out": [leave_out]})
    assert launched.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN
    assert Round.objects.filter(campaign=campaign).count() == 3
    assert InvitationMail.objects.filter(invitation__round__campaign=campaign).count() == 4 + 6 + 6
    page = hr.get(reverse("gensidig:campaign", args=["k", campaign.public_id]))
    assert page.status_code == 200
    assert page.context["mail"].counts["pending"] == 16
    progress = hr.get(reverse("gensidig:campaign-progress", args=["k", campaign.public_id]))
    assert 'hx-trigger="every 3s"' in progress.content.decode()


def test_the_settings_keep_k_at_three_or_more(hr):
    url = reverse("gensidig:org-settings", args=["k"])
    data = {
        "name": "Kommune K",
        "anonymity_threshold": 2,
        "languages": ["da", "en"],
        "reminder_days": "7, 2",
        "retention_months": 36,
        "privacy_contact": "dpo@k.dk",
    }
    assert hr.post(url, data).status_code == 400
    assert Organisation.objects.get(slug="k").anonymity_threshold == 5
    assert hr.post(url, {**data, "anonymity_threshold": 3, "reminder_days": "2; 9"}).status_code == 302
    organisation = Organisation.objects.get(slug="k")
    assert organisation.anonymity_threshold == 3 and organisation.reminder_days == [9, 2]
    assert hr.post(url, {**data, "reminder_days": "soon"}).status_code == 400


def test_hr_browses_and_searches_people_including_those_at_the_top_without_a_manager(hr):
    location, _ = import_chart(hr)
    hr.post(location)
    page = hr.get(reverse("gensidig:org-people", args=["k"]))
    assert page.status_code == 200 and "top@k.dk" in page.content.decode()
    found = hr.get(reverse("gensidig:org-people", args=["k"]), {"q": "Område 3"})
    assert found.context["page"].paginator.count == 3


def test_a_search_for_a_nul_is_a_search_without_it_not_a_server_error(hr):
    # PostgreSQL refuses to compare text with a NUL: the lookup raised DataError, a 500.
    location, _ = import_chart(hr)
    hr.post(location)
    for query in ("\x00", "Område 3\x00"):
        found = hr.get(reverse("gensidig:org-people", args=["k"]), {"q": query})
        assert found.status_code == 200, repr(query)
    assert found.context["page"].paginator.count == 3
