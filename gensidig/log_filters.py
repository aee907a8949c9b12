"""Keep answer tokens out of every log line.

An answer link carries its token in the path until the first redirect; request logs of the
development server, gunicorn and Django's error logger would otherwise write it down.
"""

import logging
import re

# Answer links (/a/<token>/) and one-time sign-in links (/login/link/<token>/).
TOKEN_IN_PATH = re.compile(r"(/a/|/login/link/)[A-Za-z0-9_\-]{8,}")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return TOKEN_IN_PATH.sub(REDACTED, text)


class RedactAnswerTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
