"""Recording what staff look at and do, from the views (the trail itself: services/audit_trail.py).

Pages that show a round's figures or guide are decorated with `audited`: the event is recorded once
the page (or download) was actually given, about the round the view's scoping found. Changes are
recorded where they succeed, with `record`.
"""

from functools import wraps

from gensidig.services.audit_trail import record

__all__ = ["audited", "note_target", "record", "record_change"]


def note_target(request, *, round_=None, organisation=None, target: str = ""):
    """What the page is about, for `audited` (the scoping helpers call this as they find it)."""
    request._audit_target = {"round_": round_, "organisation": organisation, "target": target}
    return round_


def audited(action: str, *, only_if=None, **detail):
    """Record `action` when the view gave the signed-in user its page (200), with `detail`.

    `only_if(kwargs)` narrows it to some of the view's pages (meeting mode: its first step only).
    """

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            about = getattr(request, "_audit_target", None)
            wanted = only_if is None or only_if(kwargs)
            if response.status_code == 200 and about and wanted and request.user.is_authenticated:
                record(action, request=request, detail=detail or None, **about)
            return response

        return wrapped

    return decorate


def record_change(action, request, organisation, target: str, change: str, **detail) -> None:
    """The audit trail's line for something HR changed in the browser: what changed, and any detail of it."""
    record(action, request=request, organisation=organisation, target=target, detail={"change": change, **detail})
