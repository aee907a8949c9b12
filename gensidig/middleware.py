"""Middleware of our own."""

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.cache import patch_cache_control


class NoReferrerCsrfMiddleware(CsrfViewMiddleware):
    """Django's CSRF protection, made to work with ``Referrer-Policy: no-referrer``.

    Under that policy (DESIGN.md 2.7: answer links carry a token, so no page may send a
    referrer) browsers send ``Origin: null`` with every form POST, which Django would reject.
    For exactly that case the browser's own ``Sec-Fetch-Site`` header, which a page cannot set
    or forge, tells whether the form came from our own pages. The CSRF token is still checked
    as always.
    """

    def _origin_verified(self, request):
        if request.META.get("HTTP_ORIGIN") == "null":
            return request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        return super()._origin_verified(request)


class PrivatePagesMiddleware:
    """Every page shown to a signed-in user is ``Cache-Control: private, no-store``.

    Reports, guides, people lists and campaign pages must stay out of shared caches (a proxy in
    the town hall) and out of the browser's disk cache on a shared computer.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request body over its limit with 413, before a byte of it is read.

    Django limits form fields in memory (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams file parts of a
    multipart body to disk whatever their size, so a 100 MB post to any page would be read in full.
    Here the declared length decides: file uploads (multipart) up to GENSIDIG_MAX_UPLOAD_BYTES, any
    other body up to DATA_UPLOAD_MAX_MEMORY_SIZE. A body without a declared length is not read by
    Django at all. The reverse proxy in front has the same limit (docs/deployment.md).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = settings.GENSIDIG_MAX_UPLOAD_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            from gensidig.views.errors import too_large

            return too_large(request, limit=limit)
        return self.get_response(request)
