"""What a kept report page costs the database (benchmarks/report_latency.py measures the time).

The access check is one lookup of the round joined to its chief, with no subquery over the
user's teams, and the navigation reads the organisations the user administers as plain pairs:
the statements are the same whether the chief leads one team or many, or administers nothing or
several organisations. What they allow is tests/views/test_access.py's; here only a chief who has
left the chart, and one organisation's HR, are checked again against the new statements.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gensidig.models import Organisation, OrganisationAdmin, Team

from ..factories import closed_round, make_team
from .test_report_views import sign_in

pytestmark = pytest.mark.django_db


def statements(client, url: str) -> list[str]:
    assert client.get(url).status_code == 200  # the first view renders the kept parts
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured]


def test_the_report_page_runs_the_same_statements_for_one_team_or_many_and_checks_access_in_one(client):
    team = make_team(leaders=6)
    round_ = closed_round(team, answering=6)
    url = reverse("gensidig:report", args=[round_.public_id])
    sign_in(client, team)
    alone = statements(client, url)

    for n in range(4):  # more teams led by the same chief, and organisations they administer
        Team.objects.create(organisation=team.organisation, name=f"Hold {n}", slug=f"hold-{n}", chief=team.chief)
        organisation = Organisation.objects.create(slug=f"hr-side-{n}", name=f"Organisation {n}")
        OrganisationAdmin.objects.create(organisation=organisation, user=team.chief.user)
    many = statements(client, url)

    assert len(many) == len(alone), (alone, many)
    (lookup,) = [sql for sql in many if "gensidig_round" in sql and "public_id" in sql]
    assert lookup.upper().count("SELECT") == 1, lookup
    html = client.get(url).content.decode()
    assert all(f'href="/org/hr-side-{n}/"' in html for n in range(4))  # the navigation still lists them


def test_a_chief_who_has_left_the_chart_gets_a_404_from_the_single_lookup(client):
    team = make_team(leaders=6)
    round_ = closed_round(team, answering=6)
    url = reverse("gensidig:report", args=[round_.public_id])
    sign_in(client, team)
    assert client.get(url).status_code == 200
    team.chief.active = False
    team.chief.save()
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code in (302, 404)  # signed out: to the sign-in page, never the report


def test_a_kept_report_page_runs_only_the_statements_any_reader_needs(client):
    """Session, user, the access check, the kept parts, the navigation and the audit line; a theme
    page adds its comments. Nothing else: the shell around them is kept (templatetags/shell.py)."""
    team = make_team(leaders=6)
    round_ = closed_round(team, answering=6)
    sign_in(client, team)
    expected = ["django_session", "gensidig_user", "gensidig_round", "gensidig_rendered", "gensidig_organisationadmin"]
    for url, extra in (
        (reverse("gensidig:report", args=[round_.public_id]), []),
        (reverse("gensidig:report-theme", args=[round_.public_id, "direction"]), ["gensidig_comment"]),
    ):
        found = statements(client, url)
        reads, writes = found[:-1], found[-1]
        assert len(reads) == len(expected) + len(extra), found
        for table in expected + extra:
            assert sum(f'FROM "{table}"' in sql for sql in reads) == 1, (table, found)
        assert writes.startswith('INSERT INTO "gensidig_auditevent"'), found
