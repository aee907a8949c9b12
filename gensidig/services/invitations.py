"""E-mailing answer links. (Resumable campaigns with reminders build on this in a later issue.)"""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.utils import translation

from gensidig.models import Round
from gensidig.models.choices import Role
from gensidig.services.results import comments_threshold
from gensidig.services.rounds import AnswerLink


def invitation_message(*, round_: Round, link: AnswerLink) -> EmailMultiAlternatives:
    """One person's invitation, in their language, as plain text with an HTML alternative."""
    language = link.person.language if link.person else "da"
    with translation.override(language):
        context = {
            "round": round_,
            "team": round_.team,
            "organisation": round_.team.organisation,
            "person": link.person,
            "url": link.url,
            "is_leader": link.role == Role.LEADER,
            "k": round_.anonymity_threshold,
            "comments_k": comments_threshold(round_.anonymity_threshold),
        }
        subject = render_to_string("gensidig/emails/invitation_subject.txt", context).strip()
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("gensidig/emails/invitation.txt", context),
            to=[link.person.email],
        )
        message.attach_alternative(render_to_string("gensidig/emails/invitation.html", context), "text/html")
    return message


def send_links(*, round_: Round, links: list[AnswerLink]) -> int:
    """Send each link to its person over one SMTP connection; returns how many were sent."""
    with mailers.default as connection:
        return connection.send_messages([invitation_message(round_=round_, link=link) for link in links if link.person])
