"""What the audit trail records of a whole season, and what it never does.

Staff: every kind of thing the issue lists is recorded with who, where and what it concerned.
Respondents: a full answer flow, watched through every logger and the trail, leaves no row and no
line with the token or its hash.
"""

import io
import logging

import pytest
from django.urls import reverse

from gensidig.models import AuditAction, AuditEvent, Round, User
from gensidig.models.choices import Role
from gensidig.services.survey.tokens import hash_token

from ..factories import chief_link, leader_links, make_team, start_round
from .test_access import world  # noqa: F401 - a fixture
from .test_answer_flow import ANSWER_URL, full_post, visit

pytestmark = pytest.mark.django_db


def as_user(client, email):
    client.force_login(User.objects.get(email=email))
    return client


def test_a_season_of_staff_work_is_recorded_with_who_and_what(client, world):  # noqa: F811
    slug, round_id, campaign = world["slug"], world["area_round"], world["campaign"]

    hr = as_user(client, "hr@a.dk")
    hr.post(
        reverse("gensidig:org-settings", args=[slug]),
        {
            "name": "A",
            "anonymity_threshold": 5,
            "privacy_contact": "dpo@a.dk",
            "retention_months": 24,
            "languages": ["da", "en"],
            "reminder_days": "7, 2",
            "invitation_note": "",
        },
    )
    hr.post(
        reverse("gensidig:org-person-new", args=[slug]),
        {"email": "ny@a.dk", "name": "Ny Leder", "manager_email": "chief1@a.dk", "unit": "Område 1", "language": "da"},
    )
    hr.get(reverse("gensidig:rollup", args=[campaign, world["top_team"]]))
    hr.post(reverse("gensidig:campaign-delete", args=[slug, world["draft"]]))

    chief = as_user(client, "chief1@a.dk")
    chief.get(reverse("gensidig:report", args=[round_id]))
    chief.get(reverse("gensidig:guide", args=[round_id]))
    chief.get(reverse("gensidig:figures-csv", args=[round_id]))
    chief.post(reverse("gensidig:share", args=[round_id]), {"share": "yes"})
    chief.post(reverse("gensidig:agreement-delete", args=[round_id, world["agreement"]]))

    recorded = {(event.action, event.actor_email) for event in AuditEvent.objects.all()}
    expected = {
        (AuditAction.SETTINGS_CHANGED, "hr@a.dk"),
        (AuditAction.PERSON_CHANGED, "hr@a.dk"),
        (AuditAction.ROLLUP_VIEWED, "hr@a.dk"),
        (AuditAction.DELETED, "hr@a.dk"),
        (AuditAction.REPORT_VIEWED, "chief1@a.dk"),
        (AuditAction.GUIDE_VIEWED, "chief1@a.dk"),
        (AuditAction.EXPORTED, "chief1@a.dk"),
        (AuditAction.SHARED, "chief1@a.dk"),
        (AuditAction.DELETED, "chief1@a.dk"),
    }
    assert expected <= recorded, expected - recorded
    report = AuditEvent.objects.get(action=AuditAction.REPORT_VIEWED)
    assert round_id in report.target and report.organisation.slug == slug
    settings_change = AuditEvent.objects.get(action=AuditAction.SETTINGS_CHANGED)
    assert settings_change.detail.get("retention_months") == "24"


def test_a_page_refused_is_not_recorded_as_seen(client, world):  # noqa: F811
    as_user(client, "chief2@a.dk").get(reverse("gensidig:report", args=[world["area_round"]]))
    assert not AuditEvent.objects.filter(action=AuditAction.REPORT_VIEWED).exists()


def test_answering_leaves_nothing_in_the_trail_and_no_token_in_any_log(client):
    team = make_team(leaders=5)
    round_, links = start_round(team)
    secrets = {link.token for link in links} | {hash_token(link.token) for link in links}
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setLevel(logging.DEBUG)
    # Every logger, including those that do not pass records up (django's own), at every level.
    watched = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    levels = {logger: logger.level for logger in watched}
    for logger in watched:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        logging.getLogger("django.request").warning("capture-check")
        for link in [*leader_links(links), chief_link(links)]:
            answering = client.__class__()
            visit(answering, link)
            answering.get(ANSWER_URL + "?opened=1")
            role = Role.CHIEF if link.role == Role.CHIEF else Role.LEADER
            response = answering.post(ANSWER_URL, full_post(round_, role))
            assert response.status_code == 303
            visit(answering, link)  # a used link, opened again
            answering.get(ANSWER_URL + "?opened=1")
        client.get("/a/" + "A" * 43 + "/")
    finally:
        for logger in watched:
            logger.removeHandler(handler)
            logger.setLevel(levels[logger])
    assert Round.objects.get(pk=round_.pk).invitations.filter(used=True).count() == 6
    assert not AuditEvent.objects.exists()
    logged = lines.getvalue()
    assert "capture-check" in logged  # the capture sees a logger that does not propagate
    assert not [secret for secret in secrets if secret in logged]
