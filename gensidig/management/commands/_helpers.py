"""Small helpers shared by the management commands."""

import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from gensidig.models import Round


def parse_closing_time(raw: str) -> datetime.datetime:
    """Accept '2026-12-31' (end of that day, local time) or '2026-12-31T16:00'."""
    moment = parse_datetime(raw)
    if moment is None:
        day = parse_date(raw)
        if day is None:
            raise CommandError(f"'{raw}' is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM).")
        moment = datetime.datetime.combine(day, datetime.time(23, 59))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


ID_HELP = (
    "The round's id, as printed by open-round and rounds. An id that begins with '-' (made before "
    "ids stopped doing so) goes after '--', as in: gensidig close-round -- -Xy12ab34cd"
)


def get_round(public_id: str) -> Round:
    round_ = Round.objects.select_related("team__organisation", "instrument").filter(public_id=public_id).first()
    if round_ is None:
        raise CommandError(f"No round with the id '{public_id}'. `gensidig rounds` lists them.")
    return round_


def print_links(stdout, links) -> None:
    """One line per link: role, e-mail address, URL -- tab-separated, for a mail merge or a script."""
    for link in links:
        email = link.person.email if link.person else "-"
        stdout.write(f"{link.role}\t{email}\t{link.url}")
