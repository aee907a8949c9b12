"""Middleware of our own."""

from django.middleware.csrf import CsrfViewMiddleware


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
