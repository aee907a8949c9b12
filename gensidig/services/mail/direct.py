"""E-mailing answer links straight away, for `gensidig links --email`.

Campaigns use the resumable outbox in gensidig.services.mail.outbox; both build the same message.
"""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives, mailers

from gensidig.models import Round
from gensidig.services.mail.outbox import build_message
from gensidig.services.survey.links import AnswerLink


def invitation_message(*, round_: Round, link: AnswerLink) -> EmailMultiAlternatives:
    """One person's invitation, in their language, as plain text with an HTML alternative."""
    return build_message(round_=round_, person=link.person, role=link.role, token=link.token)


def send_links(*, round_: Round, links: list[AnswerLink]) -> int:
    """Send each link to its person over one SMTP connection; returns how many were sent."""
    with mailers.default as connection:
        return connection.send_messages([invitation_message(round_=round_, link=link) for link in links if link.person])
