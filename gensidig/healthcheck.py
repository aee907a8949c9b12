"""The container's health check: is the local server up, and does it reach its database?

Run as `python -m gensidig.healthcheck` by the image's HEALTHCHECK every half minute, so it loads
neither Django nor the app: it asks this container's own server for /healthz/ and exits 0 when the
answer is 200 (the page says the database answered), 1 otherwise. The request names one of
ALLOWED_HOSTS as its host, or Django would refuse it before the health page is reached;
/healthz/ is exempt from the https redirect, so plain http from inside works. Proxy settings in
the environment (HTTP_PROXY, which Docker copies into every container from the client's own
configuration) are ignored: the question is for this container, never for a proxy.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    """A host name the server accepts: the first of ALLOWED_HOSTS, without a pattern's leading dot."""
    for entry in allowed_hosts.split(","):
        name = entry.strip().lstrip(".")
        if name and name != "*":
            return name
    return "localhost"


def healthy(*, port: int, host: str, timeout: float = 4.0) -> bool:
    """Whether the server on this machine's `port` answers /healthz/ with 200 for `host`."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz/", headers={"Host": host})
    # No proxy, whatever the environment says: urllib would send even 127.0.0.1 to HTTP_PROXY.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    host = probe_host(os.environ.get("ALLOWED_HOSTS", "localhost"))
    return 0 if healthy(port=port, host=host) else 1


if __name__ == "__main__":
    sys.exit(main())
