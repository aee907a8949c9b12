"""Every URL, tried by someone who should not see it: an outsider, another organisation's admin,
a leader, a chief of another branch, and an anonymous visitor. They get nothing."""

import datetime

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from gensidig.models import ChartUpload, OrganisationAdmin, Person, Round, Team, User
from gensidig.services.access import add_admin
from gensidig.services.agreements import record_agreement
from gensidig.services.campaigns import create_campaign, launch_campaign
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.signin import user_for_email
from gensidig.services.survey.closing import close_campaign
from gensidig.services.survey.rounds import reissue_links

from ..factories import answer, answers_for

pytestmark = pytest.mark.django_db

CHART = [("top@a.dk", "Top", "", "Forvaltningen")]
CHART += [(f"chief{c}@a.dk", f"Chef {c}", "top@a.dk", f"Område {c}") for c in "12"]
CHART += [(f"l1{i}@a.dk", f"Leder 1{i}", "chief1@a.dk", "Område 1") for i in range(5)]
CHART += [(f"l2{i}@a.dk", f"Leder 2{i}", "chief2@a.dk", "Område 2") for i in range(5)]

PUBLIC = {
    "home",
    "about",
    "login",
    "logout",
    "sign-in-link",
    "sign-in-link-use",
    "token-intake",
    "answer",
    "answer-thanks",
    "health",
    "help",
    "help-role",
}
# Pages that exist only while `gensidig demo` serves (GENSIDIG_DEMO_OUTBOX), for anyone there;
# everywhere else they answer 404 to everyone.
DEMO_ONLY = {
    "demo-outbox": ("demo-outbox", []),
    "demo-outbox-message": ("demo-outbox-message", ["17650000000000000000-0123456789abcdef"]),
}


@pytest.fixture
def world():
    return build_world()


def build_world():
    """The organisation every access test tries: a closed campaign, a draft, an upload, an agreement.

    A plain function as well as the fixture, so that tests/test_fuzz_endpoints.py can build it once.
    """
    chart = read_chart(
        data=("email;name;manager_email;unit\n" + "\n".join(";".join(r) for r in CHART)).encode(), filename="a.csv"
    )
    organisation = apply_import(organisation_slug="a", organisation_name="A", chart=chart).organisation
    add_admin(email="hr@a.dk", organisation_slug="a")
    add_admin(email="hr@b.dk", organisation_slug="b", organisation_name="B")
    campaign = create_campaign(
        organisation=organisation,
        name="Runde",
        root_team=None,
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=9),
    )
    launch_campaign(campaign=campaign)
    for round_ in Round.objects.filter(campaign=campaign):
        for link in reissue_links(round_=round_):
            answer(link, answers_for(round_, link.role, 4))
    close_campaign(campaign=campaign)
    draft = create_campaign(
        organisation=organisation,
        name="Næste",
        root_team=None,
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=30),
    )
    upload = ChartUpload.objects.create(
        organisation=organisation, uploaded_by=User.objects.get(email="hr@a.dk"), filename="a.csv", data=b"email\n"
    )
    top_team = Team.objects.get(organisation=organisation, chief__email="top@a.dk")
    area = Team.objects.get(organisation=organisation, chief__email="chief1@a.dk")
    area_round = Round.objects.get(campaign=campaign, team=area)
    agreement = record_agreement(round_=area_round, theme_key="direction", text="Vi aftaler", owner="team")
    for email in ("top@a.dk", "chief1@a.dk", "chief2@a.dk", "l10@a.dk"):
        user_for_email(email)
    return {
        "slug": "a",
        "campaign": campaign.public_id,
        "draft": draft.public_id,
        "upload": upload.public_id,
        "top_team": top_team.public_id,
        "area_team": area.public_id,
        "area_round": area_round.public_id,
        "agreement": agreement.public_id,
        "person": Person.objects.get(organisation=organisation, email="l10@a.dk").pk,
    }


def protected_urls(w):
    """(name, url, methods) for every URL that needs a signed-in user with a role."""
    slug, c = w["slug"], w["campaign"]
    return [
        ("org", reverse("gensidig:org", args=[slug]), "get"),
        ("org-people", reverse("gensidig:org-people", args=[slug]), "get"),
        ("org-teams", reverse("gensidig:org-teams", args=[slug]), "get"),
        ("org-person-new", reverse("gensidig:org-person-new", args=[slug]), "get post"),
        ("org-people-csv", reverse("gensidig:org-people-csv", args=[slug]), "get"),
        ("org-people-xlsx", reverse("gensidig:org-people-xlsx", args=[slug]), "get"),
        ("org-person", reverse("gensidig:org-person", args=[slug, w["person"]]), "get post"),
        ("org-person-deactivate", reverse("gensidig:org-person-deactivate", args=[slug, w["person"]]), "get post"),
        ("org-person-reactivate", reverse("gensidig:org-person-reactivate", args=[slug, w["person"]]), "get post"),
        ("org-person-data", reverse("gensidig:org-person-data", args=[slug, w["person"]]), "get"),
        ("org-person-data-json", reverse("gensidig:org-person-data-json", args=[slug, w["person"]]), "get"),
        ("org-person-erase", reverse("gensidig:org-person-erase", args=[slug, w["person"]]), "get post"),
        ("org-team-new", reverse("gensidig:org-team-new", args=[slug]), "get post"),
        ("org-team-rename", reverse("gensidig:org-team-rename", args=[slug, w["area_team"]]), "get post"),
        ("org-team-dissolve", reverse("gensidig:org-team-dissolve", args=[slug, w["area_team"]]), "get post"),
        ("org-admins", reverse("gensidig:org-admins", args=[slug]), "get post"),
        ("org-admin-remove", reverse("gensidig:org-admin-remove", args=[slug]), "post"),
        ("org-settings", reverse("gensidig:org-settings", args=[slug]), "get post"),
        ("org-audit", reverse("gensidig:org-audit", args=[slug]), "get"),
        ("org-audit-csv", reverse("gensidig:org-audit-csv", args=[slug]), "get"),
        ("org-import", reverse("gensidig:org-import", args=[slug]), "get post"),
        ("org-import-preview", reverse("gensidig:org-import-preview", args=[slug, w["upload"]]), "get post"),
        ("campaigns", reverse("gensidig:campaigns", args=[slug]), "get"),
        ("campaign-new", reverse("gensidig:campaign-new", args=[slug]), "get post"),
        ("campaign", reverse("gensidig:campaign", args=[slug, c]), "get"),
        ("campaign-progress", reverse("gensidig:campaign-progress", args=[slug, c]), "get"),
        ("campaign-launch", reverse("gensidig:campaign-launch", args=[slug, w["draft"]]), "post"),
        ("campaign-close", reverse("gensidig:campaign-close", args=[slug, c]), "post"),
        ("campaign-resend", reverse("gensidig:campaign-resend", args=[slug, c]), "post"),
        ("campaign-edit", reverse("gensidig:campaign-edit", args=[slug, w["draft"]]), "get post"),
        ("campaign-delete", reverse("gensidig:campaign-delete", args=[slug, w["draft"]]), "get post"),
        ("campaign-withdraw", reverse("gensidig:campaign-withdraw", args=[slug, w["draft"]]), "post"),
        ("campaign-remind", reverse("gensidig:campaign-remind", args=[slug, c]), "post"),
        ("campaign-mail-preview", reverse("gensidig:campaign-mail-preview", args=[slug, w["draft"]]), "get"),
        ("rollup-start", reverse("gensidig:rollup-start", args=[c]), "get"),
        ("rollup", reverse("gensidig:rollup", args=[c, w["top_team"]]), "get"),
        ("round", reverse("gensidig:round", args=[w["area_round"]]), "get"),
        ("round-close", reverse("gensidig:round-close", args=[w["area_round"]]), "post"),
        ("round-close-confirm", reverse("gensidig:round-close-confirm", args=[w["area_round"]]), "get"),
        ("round-remind", reverse("gensidig:round-remind", args=[w["area_round"]]), "post"),
        ("round-resend", reverse("gensidig:round-resend", args=[w["area_round"]]), "post"),
        ("round-extend", reverse("gensidig:round-extend", args=[w["area_round"]]), "post"),
        ("own-round-new", reverse("gensidig:own-round-new", args=[w["area_team"]]), "get post"),
        ("own-round-mail-preview", reverse("gensidig:own-round-mail-preview", args=[w["area_team"]]), "get"),
        ("report", reverse("gensidig:report", args=[w["area_round"]]), "get"),
        ("report-theme", reverse("gensidig:report-theme", args=[w["area_round"], "direction"]), "get"),
        ("report-pdf", reverse("gensidig:report-pdf", args=[w["area_round"]]), "get"),
        ("figures-xlsx", reverse("gensidig:figures-xlsx", args=[w["area_round"]]), "get"),
        ("figures-csv", reverse("gensidig:figures-csv", args=[w["area_round"]]), "get"),
        ("guide-pdf", reverse("gensidig:guide-pdf", args=[w["area_round"]]), "get"),
        ("guide", reverse("gensidig:guide", args=[w["area_round"]]), "get post"),
        ("guide-present", reverse("gensidig:guide-present", args=[w["area_round"]]), "get"),
        ("guide-present-step", reverse("gensidig:guide-present-step", args=[w["area_round"], 2]), "get"),
        # Step 5 of the two-hour agenda is the agreements step.
        (
            "guide-present-agreement",
            reverse("gensidig:guide-present-agreement", args=[w["area_round"], 5]),
            "post",
        ),
        ("agreements", reverse("gensidig:agreements", args=[w["area_round"]]), "get post"),
        (
            "agreement-status",
            reverse("gensidig:agreement-status", args=[w["area_round"], w["agreement"]]),
            "post",
        ),
        (
            "agreement-delete",
            reverse("gensidig:agreement-delete", args=[w["area_round"], w["agreement"]]),
            "post",
        ),
        (
            "agreement-edit",
            reverse("gensidig:agreement-edit", args=[w["area_round"], w["agreement"]]),
            "get post",
        ),
        ("share", reverse("gensidig:share", args=[w["area_round"]]), "post"),
        # Not shared yet: the round's own leaders see nothing either.
        ("team-report", reverse("gensidig:team-report", args=[w["area_round"]]), "get"),
        ("team-report-theme", reverse("gensidig:team-report-theme", args=[w["area_round"], "direction"]), "get"),
        ("team-report-pdf", reverse("gensidig:team-report-pdf", args=[w["area_round"]]), "get"),
        ("team-figures-xlsx", reverse("gensidig:team-figures-xlsx", args=[w["area_round"]]), "get"),
        ("team-figures-csv", reverse("gensidig:team-figures-csv", args=[w["area_round"]]), "get"),
    ]


def test_every_url_is_covered_by_these_tests(world):
    names = {pattern.name for pattern in get_resolver().url_patterns[0].url_patterns if pattern.name}
    covered = {name for name, _url, _methods in protected_urls(world)} | PUBLIC | set(DEMO_ONLY)
    assert names == covered, f"add new URLs to tests/views/test_access.py: {names ^ covered}"


@pytest.mark.parametrize("who", [None, "hr@a.dk", "chief1@a.dk"])
def test_the_demo_only_pages_do_not_exist_outside_the_demo(client, world, who):
    if who:
        sign_in(client, who)
    for name, args in DEMO_ONLY.values():
        assert client.get(reverse(f"gensidig:{name}", args=args)).status_code == 404, name


def test_an_administrators_own_page_leads_to_their_organisation_and_no_other(client, world):
    sign_in(client, "hr@a.dk")
    page = client.get(reverse("gensidig:home")).content.decode()
    main = page[page.index('id="main-content"') :]
    assert f'href="{reverse("gensidig:org", args=["a"])}"' in main
    assert reverse("gensidig:org", args=["b"]) not in page
    assert f'href="{reverse("gensidig:campaigns", args=["a"])}"' in main


def sign_in(client, email):
    client.force_login(User.objects.filter(email=email).first() or User.objects.create_user(email=email))
    return client


def tried(client, w):
    for name, url, methods in protected_urls(w):
        for method in methods.split():
            yield name, method, getattr(client, method)(url)


@pytest.mark.parametrize("who", ["outsider@x.dk", "hr@b.dk", "l10@a.dk"])
def test_people_without_a_role_here_get_nothing_anywhere(client, world, who):
    sign_in(client, who)
    for name, method, response in tried(client, world):
        assert response.status_code in (404, 405), (who, name, method, response.status_code)
        assert b"Forvaltningen" not in response.content


def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_protected_url(client, world):
    for name, method, response in tried(client, world):
        assert response.status_code == 302 and "/login/" in response["Location"], (name, method)


def test_a_chief_sees_the_roll_up_of_their_branch_but_not_the_branch_above_or_beside(client, world):
    sign_in(client, "chief1@a.dk")
    assert client.get(reverse("gensidig:rollup", args=[world["campaign"], world["area_team"]])).status_code == 200
    assert client.get(reverse("gensidig:rollup", args=[world["campaign"], world["top_team"]])).status_code == 404
    beside = Team.objects.get(chief__email="chief2@a.dk").public_id
    assert client.get(reverse("gensidig:rollup", args=[world["campaign"], beside])).status_code == 404
    assert client.get(reverse("gensidig:org", args=["a"])).status_code == 404


def test_the_admin_sees_counts_and_roll_ups_but_never_a_teams_report(client, world):
    sign_in(client, "hr@a.dk")
    assert client.get(reverse("gensidig:org", args=["a"])).status_code == 200
    assert client.get(reverse("gensidig:campaign", args=["a", world["campaign"]])).status_code == 200
    assert client.get(reverse("gensidig:rollup", args=[world["campaign"], world["top_team"]])).status_code == 200
    assert client.get(reverse("gensidig:report", args=[world["area_round"]])).status_code == 404
    assert client.get(reverse("gensidig:round", args=[world["area_round"]])).status_code == 404


def test_the_chief_of_chiefs_sees_their_own_report_and_the_whole_roll_up(client, world):
    sign_in(client, "top@a.dk")
    top_round = Round.objects.get(team__public_id=world["top_team"], campaign__public_id=world["campaign"])
    assert client.get(reverse("gensidig:report", args=[top_round.public_id])).status_code == 200
    assert client.get(reverse("gensidig:report", args=[world["area_round"]])).status_code == 404
    response = client.get(reverse("gensidig:rollup", args=[world["campaign"], world["top_team"]]))
    assert response.status_code == 200
    assert "Område 1" in response.content.decode()


def test_no_admin_page_reaches_the_stored_answers():
    from django.conf import settings

    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    assert OrganisationAdmin._meta.app_label == "gensidig"


def test_a_shared_report_reaches_the_rounds_own_leaders_and_nobody_else(client, world):
    sign_in(client, "chief1@a.dk")
    assert client.post(reverse("gensidig:share", args=[world["area_round"]]), {"share": "yes"}).status_code == 302
    team_report = reverse("gensidig:team-report", args=[world["area_round"]])
    for who in ("l20@a.dk", "chief2@a.dk", "hr@a.dk", "top@a.dk"):
        sign_in(client, who)
        assert client.get(team_report).status_code == 404, who
        assert client.get(team_report + "report.pdf").status_code == 404, who
    sign_in(client, "l10@a.dk")
    assert client.get(team_report).status_code == 200
    assert client.get(reverse("gensidig:team-report-theme", args=[world["area_round"], "direction"])).status_code == 200
    for name in ("team-report-pdf", "team-figures-xlsx", "team-figures-csv"):
        assert client.get(reverse(f"gensidig:{name}", args=[world["area_round"]])).status_code == 200, name
    # Sharing the report gives a leader none of the chief's tools.
    for name in ("report", "guide", "agreements", "report-pdf", "guide-pdf", "figures-xlsx", "figures-csv"):
        assert client.get(reverse(f"gensidig:{name}", args=[world["area_round"]])).status_code == 404, name
    sign_in(client, "chief1@a.dk")
    client.post(reverse("gensidig:share", args=[world["area_round"]]), {"share": "no"})
    sign_in(client, "l10@a.dk")
    assert client.get(team_report).status_code == 404
