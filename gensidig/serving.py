"""Run Gensidig under gunicorn with settings from the environment (see `gensidig serve`)."""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from gensidig.log_filters import RedactAnswerTokens, redact

_REDACT = RedactAnswerTokens()


class RedactingLogger(Logger):
    """Gunicorn's logger, with answer and sign-in tokens removed from every line it writes (DESIGN.md 2.7).

    The access log's atoms are redacted one by one, so a format of any atoms is safe; the error log
    (which names the request at debug level, and when handling a request fails) and the access log
    also filter each whole line, whatever handler a deployment gives them.
    """

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(_REDACT)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # The request line, the path, the referrer and any environ/header atom may carry a token.
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


class GensidigServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self):
        from gensidig.wsgi import application

        return application


def default_workers() -> int:
    return int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))


def serve(*, host: str, port: int, workers: int | None = None, access_log: bool = False) -> None:
    # Whatever ran before (checks, migrations, the demo's data) must not hand its open database
    # connection to the forked workers: sharing one socket, they would wait on each other forever.
    from django.db import connections

    connections.close_all()
    GensidigServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers or default_workers(),
            "worker_class": "sync",
            "logger_class": "gensidig.serving.RedactingLogger",
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "timeout": int(os.environ.get("GUNICORN_TIMEOUT", "60")),
            "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "proc_name": "gensidig",
        }
    ).run()
