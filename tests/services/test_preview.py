"""E-mail you can see before it goes (issue 10, item 3)."""

import datetime

import pytest
from django.utils import timezone

from gensidig.models import InvitationMail, Organisation
from gensidig.models.choices import Role
from gensidig.services.mail.preview import previews

from ..factories import make_team

pytestmark = pytest.mark.django_db


def test_every_message_is_previewed_in_every_language_with_the_teams_name_threshold_and_closing_time():
    team = make_team(leaders=5)
    Organisation.objects.filter(pk=team.organisation_id).update(languages=["da", "en"], anonymity_threshold=4)
    team.organisation.refresh_from_db()
    closes = timezone.make_aware(datetime.datetime(2027, 3, 12, 15, 0))
    found = previews(organisation=team.organisation, team=team, closes_at=closes)
    assert {(p.kind, p.role, p.language) for p in found} == {
        (kind, role, language)
        for kind in ("invitation", "reminder")
        for role in (Role.LEADER, Role.CHIEF)
        for language in ("da", "en")
    }
    for preview in found:
        assert team.name in preview.text and team.name in preview.html
        assert "12. " in preview.text  # the closing date, as the e-mail writes it
    leader_en = next(p for p in found if (p.kind, p.role, p.language) == ("invitation", Role.LEADER, "en"))
    assert "at least 4 leaders" in leader_en.text
    assert not InvitationMail.objects.exists()  # nothing queued, nothing sent


def test_the_organisations_note_is_in_the_invitation():
    team = make_team(leaders=5)
    Organisation.objects.filter(pk=team.organisation_id).update(invitation_note="Spørg Lone i HR, lokal 2217.")
    team.organisation.refresh_from_db()
    found = previews(organisation=team.organisation, team=team, closes_at=timezone.now() + datetime.timedelta(days=9))
    invitations = [p for p in found if p.kind == "invitation"]
    assert all("Spørg Lone i HR, lokal 2217." in p.text and "Spørg Lone i HR" in p.html for p in invitations)
