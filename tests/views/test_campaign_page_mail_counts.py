"""The campaign page and its sending progress read the e-mail counts the database keeps per
campaign (CampaignMailCount), not the e-mails: the same statements at two sizes, none over the
e-mails while nothing needs listing, and the figures on the page are a fresh count's."""

import re

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gensidig.models import Campaign, InvitationMail, MailStatus
from gensidig.services.mail.outbox import campaign_mail_counts

from .test_page_scale import build

pytestmark = pytest.mark.django_db

MAILS = InvitationMail._meta.db_table


def urls(org: dict) -> dict[str, str]:
    slug = org["slug"]
    return {
        "closed": reverse("gensidig:campaign", args=[slug, org["closed"]]),
        "open": reverse("gensidig:campaign", args=[slug, org["open"]]),
        "progress": reverse("gensidig:campaign-progress", args=[slug, org["open"]]),
    }


def run(client, user, url: str) -> list[str]:
    client.force_login(user)
    assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return [query["sql"] for query in captured]


def test_the_campaign_page_reads_kept_counts_with_the_same_statements_at_two_sizes(client):
    small, large = build("m", 2), build("n", 6)
    found = {}
    for org in (small, large):
        for name, url in urls(org).items():
            found.setdefault(name, []).append(run(client, org["hr"], url))
    for name, (at_small, at_large) in found.items():
        assert len(at_small) == len(at_large), name
        reading_mails = [sql for sql in at_large if MAILS in sql]
        assert not reading_mails, (name, reading_mails)  # nothing failed or interrupted: no e-mail is read


def test_the_page_shows_the_kept_counts_which_are_a_fresh_counts(client):
    org = build("p", 3)
    campaign = Campaign.objects.get(public_id=org["open"])
    fresh = dict.fromkeys(MailStatus.values, 0)
    fresh.update(
        InvitationMail.objects.filter(invitation__round__campaign=campaign)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    assert campaign_mail_counts(campaign=campaign) == fresh
    assert fresh[MailStatus.PENDING] == 3 * 6 + 4  # each area's chief and five leaders; the top's chief and three
    client.force_login(org["hr"])
    html = client.get(urls(org)["progress"]).content.decode()
    assert re.search(rf"\b{fresh[MailStatus.PENDING]}\b", html), html
