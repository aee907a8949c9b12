"""The WSGI application, for `gensidig serve` or any WSGI server.

Before it serves, it checks that this server's ballot master key can count every open round
(DESIGN.md 2.1): a server with the wrong key would accept answers no one could count, so it fails
loudly instead. A database that cannot be reached yet does not stop the start; the pages say so.
"""

import logging
import os

from django.core.wsgi import get_wsgi_application
from django.db import DatabaseError, connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gensidig.settings")
application = get_wsgi_application()


def _check_ballot_keys() -> None:
    from gensidig.services.ballots.keys import check_ready_to_serve

    try:
        check_ready_to_serve()
    except DatabaseError as error:
        logging.getLogger(__name__).warning("Could not check the ballot keys at start: %s", error)
    finally:
        connections.close_all()


_check_ballot_keys()
