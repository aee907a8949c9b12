"""Answer pages padded to a size fixed for their step (DESIGN.md 2.1: nothing in a log).

A step page echoes the answers of earlier steps (hidden fields, comments included) and the
errors of the one shown, so its length would grow with what was typed, and every proxy's access
log records the length of every response. Each step page is therefore padded, with an HTML
comment before </body>, to the size of the largest page that step can be for this round,
role and language -- measured once per process by rendering the worst case. The log then shows
the same number for every respondent on the same step, whatever they wrote.

Answer pages must never be compressed: a compressed length follows the content again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from gensidig.compression import keep_uncompressed

logger = logging.getLogger(__name__)

# Room for what the worst case cannot foresee exactly (the digits of a count in an error).
SLACK = 256
# If a page ever exceeds its bound, it is padded to a multiple of this instead: it then gives
# away at most which block it fell in, and the warning says the bound needs a look.
FALLBACK_BLOCK = 16 * 1024
MAX_BOUNDS = 4096
OPEN, CLOSE = b"<!--", b"-->"

_bounds: dict[tuple, int] = {}


def step_size(request: HttpRequest, context: dict, number: int, measure: Callable[..., int]) -> int:
    """The padded size of step `number`'s page for this round, role and language (cached)."""
    round_ = context["round"]
    key = (
        round_.pk,
        context["invitation"].role,
        number,
        translation.get_language(),
        round_.closes_at,
        round_.anonymity_threshold,
        context["team"].name,
        context["organisation"].name,
        getattr(request.user, "pk", None),
    )
    if key not in _bounds:
        if len(_bounds) >= MAX_BOUNDS:
            _bounds.clear()
        _bounds[key] = measure(request, context, number) + SLACK
    return _bounds[key]


def pad(response: HttpResponse, size: int) -> HttpResponse:
    """Pad an HTML response to exactly `size` bytes."""
    body = response.content
    filler = size - len(body) - len(OPEN) - len(CLOSE)
    if filler < 0:
        logger.warning("An answer page was %d bytes, over its bound of %d.", len(body), size)
        size = -(-(len(body) + len(OPEN) + len(CLOSE)) // FALLBACK_BLOCK) * FALLBACK_BLOCK
        filler = size - len(body) - len(OPEN) - len(CLOSE)
    comment = OPEN + b" " * filler + CLOSE
    end = body.rfind(b"</body>")
    response.content = body[:end] + comment + body[end:] if end >= 0 else body + comment
    return keep_uncompressed(response)


def forget_bounds() -> None:
    _bounds.clear()
