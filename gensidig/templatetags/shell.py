"""The page shell's pieces (assets, navigation, language switch, footer), rendered once and kept.

Every page draws the same header and footer: a dozen URL lookups, translations, static-file names,
the list of languages. What they show depends only on the language, the site's address prefix,
whether someone is signed in and which organisations they administer, so each piece is rendered
once per such combination and kept in this process. Two things are the reader's own and are put
into the kept HTML on every page, never kept: the form token and the address the language switch
returns to. The organisations someone administers are still read on every page (context_processors.roles),
so a right taken away or a new name shows at once: they are part of the key, not of what is kept.
"""

from __future__ import annotations

import datetime
import secrets

from django import template
from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Stand-ins for the reader's own values while a piece is rendered for keeping. Random per process,
# so no text stored anywhere (an organisation's name, say) can be mistaken for one.
_TOKEN_HOLE = f"gs{secrets.token_hex(12)}token"
_NEXT_HOLE = f"gs{secrets.token_hex(12)}next"
_TOKEN_FIELD = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_TOKEN_HOLE}">'

# Languages x signed in or not x sets of administered organisations: a few dozen at most in
# practice; the bound only keeps an unusual process from growing without end.
_KEEP_AT_MOST = 1000
_kept: dict[tuple, str] = {}


def _forget_all(**kwargs) -> None:
    _kept.clear()


# A test that changes the URLs, the languages or the static files' settings gets fresh pieces.
setting_changed.connect(_forget_all)


def _kept_piece(template_name: str, key: tuple, values: dict) -> str:
    full_key = (template_name, translation.get_language(), get_script_prefix(), *key)
    html = _kept.get(full_key)
    if html is None:
        html = render_to_string(template_name, {**values, "csrf_token": _TOKEN_HOLE, "next": _NEXT_HOLE})
        if len(_kept) >= _KEEP_AT_MOST:
            _kept.clear()
        _kept[full_key] = html
    return html


def _filled(html: str, context) -> SafeString:
    """The kept HTML with this reader's form token and address put in."""
    if _TOKEN_HOLE in html:
        token = context.get("csrf_token")
        if token and str(token) != "NOTPROVIDED":
            html = html.replace(_TOKEN_HOLE, conditional_escape(str(token)))
        else:  # as {% csrf_token %} does when there is no token (a page rendered without a request)
            html = html.replace(_TOKEN_FIELD, "")
    if _NEXT_HOLE in html:
        request = context.get("request")
        html = html.replace(_NEXT_HOLE, conditional_escape(request.get_full_path()) if request is not None else "")
    return mark_safe(html)  # noqa: S308 - our own templates' output, and values escaped above


def _signed_in(context) -> bool:
    user = context.get("user")
    return bool(user is not None and user.is_authenticated)


@register.simple_tag
def head_assets() -> SafeString:
    """The stylesheets, icon and script every page links (their hashed names)."""
    return mark_safe(_kept_piece("gensidig/partials/head_assets.html", (), {}))  # noqa: S308 - our own template


@register.simple_tag(takes_context=True)
def nav_links(context) -> SafeString:
    """The navigation's links: the reader's page and the organisations they administer, About, Help."""
    signed_in = _signed_in(context)
    organisations = ()
    if signed_in:
        organisations = tuple((item["slug"], item["name"]) for item in context.get("admin_organisations") or ())
    values = {
        "signed_in": signed_in,
        "admin_organisations": [{"slug": slug, "name": name} for slug, name in organisations],
    }
    return _filled(_kept_piece("gensidig/partials/nav_links.html", (signed_in, organisations), values), context)


@register.simple_tag(takes_context=True)
def language_switcher(context) -> SafeString:
    """The form that switches language and comes back to this page."""
    return _filled(_kept_piece("gensidig/partials/language_switcher.html", (), {}), context)


@register.simple_tag(takes_context=True)
def nav_account(context) -> SafeString:
    """Sign out, or a link to sign in (unless the page hides it)."""
    signed_in, hide_login = _signed_in(context), bool(context.get("hide_login"))
    values = {"signed_in": signed_in, "hide_login": hide_login}
    return _filled(_kept_piece("gensidig/partials/nav_account.html", (signed_in, hide_login), values), context)


@register.simple_tag
def site_footer() -> SafeString:
    return mark_safe(_kept_piece("gensidig/partials/site_footer.html", (), {}))  # noqa: S308 - our own template


def _plain(value):
    """A value as part of a kept piece's key: text, numbers, dates, and tuples of them only."""
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    if value is None or isinstance(value, str | int | float | datetime.date):
        return value
    if isinstance(value, Promise):  # a lazy translation: its text in the language the key holds
        return str(value)
    raise TypeError(f"kept_include takes plain values only, not {type(value).__name__}")


@register.simple_tag(takes_context=True)
def kept_include(context, template_name: str, **values) -> SafeString:
    """`template_name` rendered with `values` only, kept per language and values.

    The template sees nothing but `values` (and the reader's form token and address, put in on
    each page as above), so what is kept can never depend on anything its key leaves out.
    """
    key = tuple(sorted((name, _plain(value)) for name, value in values.items()))
    return _filled(_kept_piece(template_name, key, dict(key)), context)
