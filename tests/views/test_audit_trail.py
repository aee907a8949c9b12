"""The audit trail: what staff do is recorded, append-only, readable and exportable by their HR only."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from gensidig.models import AuditAction, AuditEvent
from gensidig.services import audit_trail
from gensidig.services.access import add_admin

from ..factories import CHIEF_PASSWORD, make_team

pytestmark = pytest.mark.django_db


def test_a_password_sign_in_and_a_failed_one_are_recorded_with_who_and_where(client):
    team = make_team(leaders=0)
    chief = team.chief
    client.post(reverse("gensidig:login"), {"username": chief.email, "password": "wrong"}, REMOTE_ADDR="198.51.100.1")
    client.post(
        reverse("gensidig:login"), {"username": chief.email, "password": CHIEF_PASSWORD}, REMOTE_ADDR="198.51.100.2"
    )
    failed = AuditEvent.objects.get(action=AuditAction.SIGN_IN_FAILED)
    assert failed.actor_email == chief.email
    assert failed.client_address == "198.51.100.1"
    assert failed.organisation == team.organisation
    signed_in = AuditEvent.objects.get(action=AuditAction.SIGNED_IN)
    assert (signed_in.actor_email, signed_in.client_address) == (chief.email, "198.51.100.2")


def test_a_failed_sign_in_for_an_address_nobody_has_keeps_no_address(client):
    client.post(reverse("gensidig:login"), {"username": "guess@nowhere.example", "password": "x"})
    failed = AuditEvent.objects.get(action=AuditAction.SIGN_IN_FAILED)
    assert failed.actor_email == "" and failed.organisation is None


def test_hr_reads_and_exports_their_own_organisations_trail_and_no_other(client):
    team = make_team(leaders=0)
    other = make_team(leaders=0)
    audit_trail.record(AuditAction.SETTINGS_CHANGED, organisation=team.organisation, target="Ours")
    audit_trail.record(AuditAction.SETTINGS_CHANGED, organisation=other.organisation, target="Theirs")
    add_admin(email="hr@kommune.example", organisation_slug=team.organisation.slug)
    from gensidig.models import User

    client.force_login(User.objects.get(email="hr@kommune.example"))
    page = client.get(reverse("gensidig:org-audit", args=[team.organisation.slug])).content.decode()
    assert "Ours" in page and "Theirs" not in page
    export = client.get(reverse("gensidig:org-audit-csv", args=[team.organisation.slug]))
    text = export.content.decode()
    assert export["Content-Type"].startswith("text/csv")
    assert "Ours" in text and "Theirs" not in text
    # Reading the trail's export is itself recorded.
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, organisation=team.organisation).exists()
    assert client.get(reverse("gensidig:org-audit", args=[other.organisation.slug])).status_code == 404


def test_the_database_refuses_to_change_an_event():
    (event,) = audit_trail.record(AuditAction.SETTINGS_CHANGED, target="Before")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(target="After")
    event.refresh_from_db()
    assert event.target == "Before"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the delete guard is PostgreSQL's (see migration 0020)")
def test_the_database_refuses_to_delete_a_recent_event():
    (event,) = audit_trail.record(AuditAction.SETTINGS_CHANGED, target="Kept")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@override_settings(GENSIDIG_AUDIT_RETENTION_DAYS=60)
def test_events_older_than_the_retention_are_purged_and_younger_ones_kept():
    now = timezone.now()
    old = audit_trail.record(AuditAction.SETTINGS_CHANGED, target="Old", at=now - datetime.timedelta(days=61))
    young = audit_trail.record(AuditAction.SETTINGS_CHANGED, target="Young", at=now - datetime.timedelta(days=59))
    assert audit_trail.purge_expired(now=now) == 1
    assert not AuditEvent.objects.filter(pk=old[0].pk).exists()
    assert AuditEvent.objects.filter(pk=young[0].pk).exists()


def test_details_never_keep_a_link_token():
    token = "A" * 43
    (event,) = audit_trail.record(
        AuditAction.SHARED, target=f"https://x.example/a/{token}/", detail={"link": f"/login/link/{token}/"}
    )
    assert token not in event.target and token not in str(event.detail)


def test_a_from_date_that_is_no_real_day_filters_nothing_and_is_no_server_error(client):
    # "2024-02-30" has the shape of a date, so parse_date raises instead of returning None.
    team = make_team(leaders=0)
    audit_trail.record(AuditAction.SETTINGS_CHANGED, organisation=team.organisation, target="Ours")
    _organisation, user = add_admin(email="hr@kommune.example", organisation_slug=team.organisation.slug)
    client.force_login(user)
    for since in ("2024-02-30", "2024-13-45"):
        for name in ("gensidig:org-audit", "gensidig:org-audit-csv"):
            response = client.get(reverse(name, args=[team.organisation.slug]), {"since": since})
            assert response.status_code == 200, (name, since)
            assert "Ours" in response.content.decode(), (name, since)
