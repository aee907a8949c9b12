"""The invitation and the reminder as they will look, before anything is sent (issue 10, item 3).

HR previews a campaign's, a chief their own round's: in each of the organisation's languages, for a
leader and for the chief, with the team's name, the threshold and the closing time they will carry.
Nothing is stored and no link is made: the link shown is a placeholder.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

from gensidig.models import Organisation, Person, Round, Team
from gensidig.models.choices import Language, Role
from gensidig.services.mail.message import build_message

PLACEHOLDER_TOKEN = "preview"  # noqa: S105 - not a token anyone can use: real ones are 43 characters


@dataclass(frozen=True)
class Preview:
    kind: str  # "invitation" or "reminder"
    role: str
    language: str
    subject: str
    text: str
    html: str

    @property
    def title(self) -> str:
        kinds = {"invitation": _("The invitation"), "reminder": _("The reminder")}
        roles = {Role.LEADER: _("to a leader"), Role.CHIEF: _("to the chief")}
        return f"{kinds[self.kind]} {roles[self.role]} ({Language(self.language).label})"


def previews(
    *, organisation: Organisation, team: Team | None, closes_at: datetime.datetime, k: int | None = None
) -> list[Preview]:
    """Every message the round (or campaign) will send, as it will read, in every language offered."""
    team = team or Team(organisation=organisation, name=_("Your team"))
    round_ = Round(team=team, closes_at=closes_at, anonymity_threshold=k or organisation.anonymity_threshold)
    found = []
    for language in organisation.languages or [Language.DANISH]:
        person = Person(organisation=organisation, email="leader@example.invalid", name="", language=language)
        for kind in ("invitation", "reminder"):
            for role in (Role.LEADER, Role.CHIEF):
                message = build_message(
                    round_=round_, person=person, role=role, token=PLACEHOLDER_TOKEN, reminder=kind == "reminder"
                )
                found.append(
                    Preview(
                        kind=kind,
                        role=role,
                        language=language,
                        subject=message.subject,
                        text=message.body,
                        html=message.alternatives[0][0],
                    )
                )
    return found
