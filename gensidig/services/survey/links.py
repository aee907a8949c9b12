"""Answer links as they are handed out: the token exists only in memory, until it is sent or printed."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from gensidig.models import Person


@dataclass(frozen=True)
class AnswerLink:
    """A freshly made answer link. The token exists only here, in memory, until it is handed out."""

    person: Person
    role: str
    token: str

    @property
    def url(self) -> str:
        return answer_url(self.token)


def answer_url(token: str) -> str:
    return f"{settings.SITE_URL}/a/{token}/"
