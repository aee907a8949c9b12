"""A closed round's report pages and PDFs, rendered once and kept in the database.

A closed round's figures never change, so what is rendered from them is kept (models/rendered.py)
and given to the next reader at once: a report page's parts in one query instead of the figures,
the course and the templates; a PDF in one query instead of a second or more in WeasyPrint. The
database keeps it, so it works the same on SQLite and PostgreSQL and for every app server, with
no other service.

A kept render is found by its round, its name (what it is, for which audience, in which
language, and for the guide with the chief's choices), a version (this code and the round's own
fields as the view loaded them: its team's name, its chief, when it was shared) and its team's
generation. What a page shows beyond the round's figures and fields -- agreements, the team's
earlier rounds, whether the chief shared them, the guide's choices, the names of the leaders who
own an agreement -- is changed only by the services that change it, and each of them calls
`retire` when it does: the generation moves on and the team's kept renders are deleted, with the
change or after it. A render that read the old state can therefore never be kept under the new
generation (see `_keep`).

Nothing per reader is kept: the parts are rendered without the request (no navigation with the
reader's organisations, no form token, no messages), and a theme page's comments are read and
shuffled on every view. Access is checked by the views before anything is looked up here, and
the audit trail is written by the views as before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

import gensidig
from gensidig.models import Agreement, Rendered, RenderGeneration, Round

logger = logging.getLogger(__name__)

MAX_NAME = 200
# What a render is made from besides the database: the package's own files (templates, the
# catalogue, the framework's texts, the CSS the PDFs are styled with, the code) and these
# libraries. The vendored design system is not: it reaches the page through the live <head>.
RENDERING_FILES = frozenset({".py", ".html", ".txt", ".mo", ".toml", ".json", ".yaml", ".css", ".svg"})
NOT_RENDERING = ("data", "static/gensidig/vendor")
RENDERING_LIBRARIES = ("Django", "weasyprint", "pydyf", "tinycss2", "tinyhtml5", "cssselect2", "fonttools")
FORM_FIELD = "csrfmiddlewaretoken"  # the name of the form token's field, not a secret


@functools.cache
def code_version() -> str:
    """A digest of everything a render depends on that a deployment can change.

    Read once per process (tens of milliseconds); the same on every app server of a deployment, so
    they share their renders, and different after any change to a template, a translation, the
    framework's texts, the code, a library that renders, or the site's address (links in PDFs).
    """
    digest = hashlib.sha256()
    root = Path(gensidig.__file__).resolve().parent
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.suffix not in RENDERING_FILES or "__pycache__" in relative.parts:
            continue
        if relative.as_posix().startswith(NOT_RENDERING):
            continue
        if path.is_file():
            digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for library in RENDERING_LIBRARIES:
        try:
            digest.update(f"{library} {version(library)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{library} -\0".encode())
    digest.update(f"{settings.SITE_URL}\0{settings.STATIC_URL}".encode())
    return digest.hexdigest()


def name_of(*parts: str) -> str:
    """A kept render's name from what it is: ("pdf", "team", "report", "da"), say."""
    name = ":".join(parts)
    if len(name) <= MAX_NAME:
        return name
    return f"{name[: MAX_NAME - 41]}:{hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()}"


def version_of(round_: Round) -> str:
    """This code, and the round's own fields a render shows, as the view loaded them (no query)."""
    team = round_.team
    fields = (
        round_.pk,
        round_.public_id,
        round_.number,
        round_.status,
        round_.instrument_id,
        round_.anonymity_threshold,
        round_.leaders_invited,
        round_.closed_on,
        round_.shared_on,
        team.pk,
        team.slug,
        team.name,
        team.chief_id,
        team.organisation_id,
    )
    digest = hashlib.sha256(code_version().encode())
    digest.update(json.dumps(fields, default=str).encode())
    return digest.hexdigest()


def kept(*, round_: Round, name: str, make: Callable[[], bytes]) -> bytes:
    """The kept render `name` of a closed round; on the first view, `make()`'s, kept for the next.

    Exceptions from `make` (the report is gone, a theme does not exist) reach the caller, and
    nothing is kept.
    """
    version = version_of(round_)
    found = _find(round_, name, version)
    if found is not None:
        return found
    # The generation is read before anything the render reads, so a change after this point
    # moves it on and the render is not kept.
    generation = _generation(round_.team_id)
    content = make()
    _keep(round_=round_, name=name, version=version, generation=generation, content=content)
    return content


def kept_parts(*, round_: Round, name: str, make: Callable[[], dict]) -> dict:
    """Like `kept`, for a page's parts: a dict of rendered HTML (kept as safe) and plain values."""
    return _unpack(kept(round_=round_, name=name, make=lambda: _pack(make())))


def _pack(parts: dict) -> bytes:
    # A line of JSON (the plain values, and each HTML part's length), then the HTML parts as they
    # are: tens of kilobytes of HTML are read back without unescaping them from JSON.
    html = {key: value.encode() for key, value in parts.items() if isinstance(value, str)}
    values = {key: value for key, value in parts.items() if not isinstance(value, str)}
    head = json.dumps({"values": values, "html": [[key, len(value)] for key, value in html.items()]})
    return b"".join([head.encode(), b"\n", *html.values()])


def _unpack(content: bytes) -> dict:
    head, _newline, body = content.partition(b"\n")
    found = json.loads(head)
    parts, start = dict(found["values"]), 0
    for key, length in found["html"]:
        parts[key] = mark_safe(body[start : start + length].decode())  # noqa: S308 - our own templates' output
        start += length
    return parts


def render_parts(template: str, partials: Iterable[str], context: dict) -> dict[str, str]:
    """The named partials of a template, rendered without a request: nothing of the reader's gets in.

    Without the request, no context processor runs (no user, no navigation, no messages) and a
    form could not get a token; a partial that asks for one is refused rather than kept.
    """
    parts = {partial: render_to_string(f"{template}#{partial}", context) for partial in partials}
    for partial, html in parts.items():
        if FORM_FIELD in html:
            raise ValueError(f"{template}#{partial} holds a form: it cannot be kept for every reader")
    return parts


def retire(*, team_ids: Iterable[int]) -> None:
    """Move these teams' generation on and delete their rounds' kept renders.

    Call it in the transaction of the change, or after it: a render that started before the
    change either finds the generation moved on when it tries to keep itself, or waits for this
    transaction and is deleted by it.
    """
    ids = sorted({team_id for team_id in team_ids if team_id is not None})
    if not ids:
        return
    with transaction.atomic():
        # The row first, if a team has none yet: a render starting now then waits for this
        # transaction before it reads anything (see `_generation`).
        RenderGeneration.objects.bulk_create(
            [RenderGeneration(team_id=team_id) for team_id in ids], ignore_conflicts=True
        )
        RenderGeneration.objects.filter(team_id__in=ids).update(number=F("number") + 1)
        Rendered.objects.filter(round__team_id__in=ids).delete()


def retire_rounds(*, round_ids: Iterable[int]) -> None:
    """`retire` for the teams of these rounds."""
    ids = list(round_ids)
    if ids:
        retire(team_ids=Round.objects.filter(pk__in=ids).values_list("team_id", flat=True).distinct())


def retire_naming(*, person_ids: Iterable[int]) -> None:
    """`retire` for the teams whose agreements name one of these people (their name or address changed)."""
    ids = list(person_ids)
    if ids:
        teams = Agreement.objects.filter(owner_person_id__in=ids).values_list("round__team_id", flat=True).distinct()
        retire(team_ids=list(teams))


def _find(round_: Round, name: str, version: str) -> bytes | None:
    """One plain query: the render kept under this name, version and the team's current generation.

    Written as SQL, as the session's read is (gensidig/sessions.py): on every view of a kept page,
    building it through the ORM took several times longer than running it.
    """
    connection = connections[router.db_for_read(Rendered)]
    quote = connection.ops.quote_name
    kept_table, generations = quote(Rendered._meta.db_table), quote(RenderGeneration._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('content')} FROM {kept_table} WHERE {quote('round_id')} = %s AND {quote('name')} = %s "  # noqa: S608 - names are Django's
            f"AND {quote('version')} = %s AND {quote('generation')} = COALESCE((SELECT {quote('number')} "
            f"FROM {generations} WHERE {quote('team_id')} = %s), 0)",
            [round_.pk, name, version, round_.team_id],
        )
        row = cursor.fetchone()
    return bytes(row[0]) if row else None


def _generation(team_id: int) -> int:
    """The team's generation, its row made if it has none (a change being made waits for it)."""
    number = RenderGeneration.objects.filter(team_id=team_id).values_list("number", flat=True).first()
    if number is not None:
        return number
    # If a change is making the row at this moment, this waits for it, and then reads its number.
    RenderGeneration.objects.bulk_create([RenderGeneration(team_id=team_id)], ignore_conflicts=True)
    return RenderGeneration.objects.filter(team_id=team_id).values_list("number", flat=True).get()


def _keep(*, round_: Round, name: str, version: str, generation: int, content: bytes) -> None:
    """Keep a render, unless the team's generation moved on since it began.

    The conditional update locks the generation's row: a change that moves it on either came
    first (nothing matches, nothing is kept) or waits until this is kept, and then deletes it.
    A failure to keep is not the reader's problem: the page is given all the same.
    """
    try:
        with transaction.atomic():
            if not RenderGeneration.objects.filter(team_id=round_.team_id, number=generation).update(
                number=F("number")
            ):
                return
            Rendered.objects.bulk_create(
                [Rendered(round_id=round_.pk, name=name, version=version, generation=generation, content=content)],
                update_conflicts=True,
                unique_fields=["round", "name"],
                update_fields=["version", "generation", "content"],
            )
    except DatabaseError:
        logger.warning("A render of round %s could not be kept; it is made again on the next view.", round_.pk)
