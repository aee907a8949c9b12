"""The invitation and reminder e-mails: one person's, in their language, plain text with an HTML alternative."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from gensidig.models import Person, Round
from gensidig.models.choices import Role
from gensidig.services.results.figures import comments_threshold
from gensidig.services.survey.links import answer_url

# Headers every message carries: it is machine-made (RFC 3834), so auto-responders and
# Exchange's out-of-office replies should stay quiet.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "OOF, AutoReply"}


def build_message(*, round_: Round, person: Person, role: str, token: str, reminder: bool = False):
    """One person's invitation (or reminder) in their language: plain text with an HTML alternative."""
    kind = "reminder" if reminder else "invitation"
    with translation.override(round_.team.organisation.language_for(person.language)):
        context = {
            "round": round_,
            "team": round_.team,
            "organisation": round_.team.organisation,
            "person": person,
            "url": answer_url(token),
            "is_leader": role == Role.LEADER,
            "k": round_.anonymity_threshold,
            "comments_k": comments_threshold(round_.anonymity_threshold),
        }
        message = EmailMultiAlternatives(
            subject=" ".join(render_to_string(f"gensidig/emails/{kind}_subject.txt", context).split()),
            body=render_to_string(f"gensidig/emails/{kind}.txt", context),
            to=[person.email],
            headers=dict(AUTOMATIC_HEADERS),
        )
        message.attach_alternative(render_to_string(f"gensidig/emails/{kind}.html", context), "text/html")
    return message
