"""HTML pages compressed on the way out, without opening a BREACH side channel.

BREACH recovers a secret from a page by making the victim's browser request that page again and
again with input of the attacker's choosing in it, and watching the length of the encrypted,
compressed answers: the closer the guess, the better the page compresses. It needs three things
at once: a compressed body, a secret in that body, and input the attacker chose in the same body.
Every page here repeats its own address (the language switch returns to it), so attacker-chosen
input is easy to get into a page; this module therefore compresses only where one of the other
two cannot be. The reasoning is in docs/deployment.md, "Compression and BREACH".

1. Only HTML is compressed here. Static files are compressed once, at collectstatic, by
   WhiteNoise (gzip and brotli), and hold no secrets.
2. Only requests the browser itself marks as coming from one of our own pages or from the person
   (``Sec-Fetch-Site: same-origin`` or ``none``: a typed address, a bookmark, a mail program) get
   a compressed answer. The requests an attacker can make a browser send come from another site
   (``cross-site`` or ``same-site``), and those are answered uncompressed, so no length they see
   depends on how their guess compresses. A page cannot set or forge this header; a browser that
   does not send it gets uncompressed pages.
3. Pages that carry a secret of their own in the body are never compressed: the page behind a
   sign-in link (its token is in the address, which the language switch repeats) and the demo's
   outbox (its e-mails' links). Nor are pages padded to a fixed size (views.padding): their length
   must not follow what was typed, and a compressed length would.
4. The compressing itself is Django's GZipMiddleware, which since Django 4.2 puts a random
   number (0 to 99) of filler bytes into each gzip header, so that even the same page varies in
   length.

CSRF tokens in forms need none of this: Django masks the token afresh for every response.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_vary_headers

# Pages whose body holds a secret: never compressed, whatever the request.
UNCOMPRESSED_VIEWS = frozenset(
    {
        "gensidig:sign-in-link-use",  # the sign-in token, repeated by the language switch
        "gensidig:token-intake",  # the answer token is in the address (the answer is a redirect)
        "gensidig:demo-outbox",
        "gensidig:demo-outbox-message",  # a sent e-mail's sign-in or answer link
    }
)
# Sec-Fetch-Site values of requests no other site can have made the browser send.
COMPRESSIBLE_ORIGINS = frozenset({"same-origin", "none"})
_UNCOMPRESSED = "gensidig_uncompressed"


def keep_uncompressed(response: HttpResponse) -> HttpResponse:
    """Mark a response never to be compressed: its length must not follow its content, or its body
    holds a secret (a view of the latter kind is better named in UNCOMPRESSED_VIEWS)."""
    setattr(response, _UNCOMPRESSED, True)
    return response


def is_kept_uncompressed(request: HttpRequest, response: HttpResponse) -> bool:
    match = getattr(request, "resolver_match", None)
    return getattr(response, _UNCOMPRESSED, False) or (match is not None and match.view_name in UNCOMPRESSED_VIEWS)


class HtmlCompressionMiddleware:
    """Gzip for HTML pages, as the module's docstring lays down. Place it just below WhiteNoise,
    above every middleware that changes a response's body."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.gzip = GZipMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        if is_kept_uncompressed(request, response):
            return response
        # The same address is answered compressed or not depending on these two request headers.
        patch_vary_headers(response, ("Accept-Encoding", "Sec-Fetch-Site"))
        if request.headers.get("Sec-Fetch-Site") not in COMPRESSIBLE_ORIGINS:
            return response
        return self.gzip.process_response(request, response)
