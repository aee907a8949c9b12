"""The audit trail of what staff do (issue 11): recording, reading for HR, and retention.

Views and services call `record` at the moment something happens; sign-ins and sign-outs come from
Django's signals (connected in apps.py). What is recorded is who (account and address), when, what,
and which round, campaign, person or team it concerned, never what a report showed, never a token
or a token's hash, and never anything a respondent does.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from gensidig.db.prepared import insert_instances
from gensidig.log_filters import redact
from gensidig.models import AuditAction, AuditEvent, Organisation, Round, User
from gensidig.models.audit import MINIMUM_RETENTION_DAYS

MAX_TEXT = 300


def _clean(value):
    """Detail values as text a reader can follow, with anything link-like redacted and long text cut."""
    if isinstance(value, dict):
        return {str(key)[:60]: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value][:50]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return redact(str(value))[:MAX_TEXT]


def _client_address(request) -> str | None:
    from gensidig.services.sign_in_limits import client_address

    return client_address(request) if request is not None else None


def organisations_of(user) -> list[Organisation]:
    """The organisations an account belongs to: those it administers and those whose chart holds it."""
    if user is None or not getattr(user, "pk", None):
        return []
    return list(Organisation.objects.filter(Q(admins__user=user) | Q(people__user=user)).distinct().order_by("pk"))


def record(
    action: str,
    *,
    request=None,
    actor: User | None = None,
    organisation: Organisation | None = None,
    organisations: Iterable[Organisation] | None = None,
    round_: Round | None = None,
    target: str = "",
    detail: dict | None = None,
    at: datetime.datetime | None = None,
) -> list[AuditEvent]:
    """Record that `actor` (by default the request's signed-in user) did `action`.

    The event is kept once for each organisation it concerns: the round's, the one given, or for
    sign-ins every organisation the account belongs to (one row with none if it belongs nowhere).
    """
    if action not in AuditAction.values:
        raise ValueError(f"Not an audit action: {action!r}")
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    if round_ is not None:
        organisation = organisation or round_.team.organisation
        target = target or f"{round_.team.name} ({round_.public_id})"
    if organisations is None:
        organisations = [organisation] if organisation is not None else organisations_of(actor)
    rows = [
        AuditEvent(
            at=at or timezone.now(),
            organisation=found,
            actor=actor,
            actor_email=(actor.email if actor is not None else "")[:254],
            client_address=_client_address(request),
            action=action,
            target=_clean(target)[:MAX_TEXT],
            detail=_clean(detail or {}),
        )
        for found in (list(organisations) or [None])
    ]
    # Written on every view of a report: a prepared INSERT, as bulk_create would write it.
    insert_instances(rows)
    return rows


def trail_for(organisation: Organisation, *, action: str = "", since: datetime.date | None = None) -> QuerySet:
    """What HR may read: their organisation's events, newest first."""
    found = AuditEvent.objects.filter(organisation=organisation).order_by("-at", "-pk")
    if action:
        found = found.filter(action=action)
    if since:
        found = found.filter(at__date__gte=since)
    return found


def retention_days() -> int:
    return max(settings.GENSIDIG_AUDIT_RETENTION_DAYS, MINIMUM_RETENTION_DAYS)


def purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete the events older than the trail's retention (the worker does this daily)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=retention_days())
    deleted, _ = AuditEvent.objects.filter(at__lt=cutoff).delete()
    return deleted


# --- Signals ------------------------------------------------------------------------------


def on_signed_in(sender, request, user, **kwargs):
    record(AuditAction.SIGNED_IN, request=request, actor=user)


def on_signed_out(sender, request, user, **kwargs):
    if user is not None:
        record(AuditAction.SIGNED_OUT, request=request, actor=user)


def on_sign_in_failed(sender, credentials, request=None, **kwargs):
    # The account tried, if there is one; an address that belongs to nobody is not kept.
    tried = str((credentials or {}).get("username", "")).strip()
    user = User.objects.filter(email__iexact=tried).first() if tried else None
    record(AuditAction.SIGN_IN_FAILED, request=request, actor=user)


def on_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    user = User.objects.filter(email__iexact=str(username or "").strip()).first() if username else None
    record(AuditAction.SIGN_IN_LOCKED, request=request, actor=user)
