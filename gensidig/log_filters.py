"""Keep answer and sign-in tokens out of every log line, however the link was written (DESIGN.md 2.7).

An answer link carries its token in the path until the first redirect, and a sign-in link until it
is used; request logs of the development server, gunicorn and Django's error logger would otherwise
write it down. A link may arrive percent-encoded in any part (`/%61/…`, `/a/%41…`, `%2F`, lower-case
hex), encoded twice or more (`%2541`), in capitals, inside another URL's query, or with more after it.

So each URL-like run of a line (up to the next space or quote) is read as a log reader could read
it -- percent-decoded again and again, in any case -- and if a token route (`/a/`, `/login/link/`)
appears in it, everything in the run from there on is replaced. Lines with neither a route nor a
percent sign, nearly all of them, cost one regular-expression search.
"""

import logging
import re
from urllib.parse import unquote

# The routes that carry a token in the segment after them.
TOKEN_ROUTE = re.compile(r"/(?:a|login/link)/(?=.)", re.IGNORECASE | re.ASCII | re.DOTALL)
REDACTED = "[redacted]"
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_WORTH_A_LOOK = re.compile(r"/(?:a|login/link)/|%[0-9A-Fa-f]{2}", re.IGNORECASE | re.ASCII)
# A URL in a log line runs to the next white space or quote (request lines, referrers, repr()s). This
# finds the runs with a route or an escape in them: from a run's start, to its first such place, to
# its end -- one pass over the line, as each run is tried from its start only.
_RUN_WORTH_A_LOOK = re.compile(
    r"""(?<![^\s"])[^\s"]*?(?:/(?:a|login/link)/|%[0-9A-Fa-f]{2})[^\s"]*""", re.IGNORECASE | re.ASCII
)
# More rounds of decoding than any server or browser applies; a run still encoded after them is
# redacted from its first slash (or escape) anyway.
MAX_DECODINGS = 8


def _decode_once(text: str, origin: list[int]) -> tuple[str, list[int]]:
    """`text` with each %XX replaced by its byte (as one character), and where each character came from."""
    parts, places, last = [], [], 0
    for escape in _ESCAPE.finditer(text):
        start = escape.start()
        parts += (text[last:start], chr(int(escape.group(1), 16)))
        places += origin[last:start]
        places.append(origin[start])
        last = escape.end()
    parts.append(text[last:])
    places += origin[last:]
    return "".join(parts), places


def _decodings(run: str) -> tuple[str, int] | None:
    """The run decoded until no escape is left, and how many rounds it took; None if it never ends."""
    decoded = run
    for rounds in range(MAX_DECODINGS + 1):
        if not _ESCAPE.search(decoded):
            return decoded, rounds
        decoded = unquote(decoded, encoding="latin-1")  # one character per byte, so ASCII stays ASCII
    return None


def _redact_run(match: re.Match) -> str:
    run = match.group()
    found = _decodings(run)
    if found is None:
        return run[: min(i for i in (run.find("/"), run.find("%")) if i >= 0)] + REDACTED
    decoded, rounds = found
    if not TOKEN_ROUTE.search(decoded):
        return run
    # Where the route starts in the run as written: decode again, following each character back.
    text, origin = run, list(range(len(run)))
    for _ in range(rounds):
        text, origin = _decode_once(text, origin)
    route = TOKEN_ROUTE.search(text)
    return run[: origin[route.start()]] + route.group().lower() + REDACTED


def redact(text: str) -> str:
    """`text` with everything from a token route to the end of its URL left out."""
    if not _WORTH_A_LOOK.search(text):
        return text
    return _RUN_WORTH_A_LOOK.sub(_redact_run, text)


class RedactAnswerTokens(logging.Filter):
    """Redacts the message, and any traceback or stack, of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken call: logging would print both, so redact both
            message = f"{record.msg} {record.args!r}"
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
