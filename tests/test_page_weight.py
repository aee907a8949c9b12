"""What a leader's browser downloads on a first visit, which pages are compressed, the fonts, no other hosts.

Issue 12's targets, checked in the app without a browser (tests/e2e/test_page_weight.py and
benchmarks/page_weight.py count the bytes Chromium itself moves):

- the first visit to the answer form -- the compressed page and every static file it loads,
  compressed as WhiteNoise serves them, and every font its styles declare -- is under 100 KB;
- HTML is compressed only for requests from our own pages or from the person (Sec-Fetch-Site),
  never for pages with a secret in the body or padded to a size (gensidig/compression.py), and the
  same page never compresses to the same length twice;
- the fonts, WOFF2 only, have every character of the templates, the catalogues and the framework;
- no page, and no stylesheet, loads anything from another host.
"""

from __future__ import annotations

import gzip
import posixpath
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import django
import polib
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from fontTools.ttLib import TTFont
from whitenoise.compress import Compressor, brotli_installed

from gensidig.compression import UNCOMPRESSED_VIEWS, HtmlCompressionMiddleware
from gensidig.forms.answer import comment_name
from gensidig.services.survey.tokens import new_token

from .factories import closed_round, leader_links, make_team, start_round

pytestmark = pytest.mark.django_db

KB = 1024
FIRST_VISIT_LIMIT = 100 * KB
ANSWER_URL = reverse("gensidig:answer")
PACKAGE = Path(__file__).resolve().parents[1] / "gensidig"
# What current browsers send with a link opened from a mail program, a bookmark or a typed address.
FROM_THE_PERSON = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br, zstd", "HTTP_SEC_FETCH_SITE": "none"}
FROM_OUR_PAGES = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br, zstd", "HTTP_SEC_FETCH_SITE": "same-origin"}
# The report legend's marks (partials/legend.html) match the charts' shapes; IBM Plex Sans has no
# geometric shapes, so the system's fonts have always drawn them.
DRAWN_BY_SYSTEM_FONTS = set("○●◆□")
SERVED_FACES = {(400, "normal"), (400, "italic"), (600, "normal"), (700, "normal")}


# --- Reading pages and stylesheets as a browser would ------------------------------------------------


class Loads(HTMLParser):
    """Every URL a page makes the browser fetch by itself, or send a form to (links to follow are not loads)."""

    ATTRIBUTES = {
        "link": ("href",),
        "script": ("src",),
        "img": ("src", "srcset"),
        "source": ("src", "srcset"),
        "iframe": ("src",),
        "frame": ("src",),
        "embed": ("src",),
        "object": ("data",),
        "video": ("src", "poster"),
        "audio": ("src",),
        "track": ("src",),
        "input": ("src",),
        "form": ("action",),
        "use": ("href", "xlink:href"),
        "image": ("href", "xlink:href"),
    }

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []
        self.icons: list[str] = []
        self._in_style = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in self.ATTRIBUTES.get(tag, ()):
            value = attributes.get(name)
            if value:
                found = [part.split()[0] for part in value.split(",")] if name == "srcset" else [value]
                self.urls += found
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            self.urls += re.findall(r"url=(\S+)", attributes.get("content") or "", flags=re.IGNORECASE)
        self.urls += css_references(attributes.get("style") or "")
        rel = (attributes.get("rel") or "").lower().split()
        if tag == "link" and "stylesheet" in rel:
            self.stylesheets.append(attributes["href"])
        if tag == "link" and "icon" in rel:
            self.icons.append(attributes["href"])
        if tag == "script" and attributes.get("src"):
            self.scripts.append(attributes["src"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += css_references(data)


def css_references(css: str) -> list[str]:
    """Every url(...) and @import in a stylesheet or a style attribute."""
    found = re.findall(r"""url\(\s*["']?([^"')]+?)["']?\s*\)""", css)
    found += re.findall(r"""@import\s+["']([^"']+)["']""", css)
    return found


def font_faces(css: str) -> list[dict[str, str]]:
    """The descriptors of every @font-face rule."""
    faces = []
    for rule in re.findall(r"@font-face\s*\{([^}]*)\}", css):
        descriptors = {}
        for declaration in re.split(r";(?![^(]*\))", rule):
            name, _, value = declaration.partition(":")
            if name.strip():
                descriptors[name.strip()] = value.strip()
        faces.append(descriptors)
    return faces


def static_file(url: str) -> Path:
    assert url.startswith(settings.STATIC_URL), url
    found = finders.find(url.removeprefix(settings.STATIC_URL).split("?")[0])
    assert found, f"{url} is not a static file"
    return Path(found)


def beside(stylesheet_url: str, reference: str) -> str:
    """A url() in a stylesheet, as the URL the browser fetches."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(stylesheet_url), reference.split("?")[0]))


def as_served(path: Path) -> int:
    """The bytes WhiteNoise sends for a static file: its brotli copy when collectstatic made one (a
    twentieth smaller or more), else its gzip copy likewise, else the file."""
    data = path.read_bytes()
    compressor = Compressor(quiet=True)
    if not compressor.should_compress(path.name):
        return len(data)
    for compress in (compressor.compress_brotli, compressor.compress_gzip):
        compressed = compress(data)
        if len(compressed) <= 0.95 * len(data):
            return len(compressed)
        if compress == compressor.compress_brotli:
            return len(data)  # WhiteNoise tries gzip only where brotli helped
    return len(data)


def opened_link(client: Client, link) -> None:
    response = client.get(reverse("gensidig:token-intake", args=[link.token]))
    assert response.status_code == 302 and response["Location"] == ANSWER_URL


def page_text(response) -> str:
    body = gzip.decompress(response.content) if response.get("Content-Encoding") == "gzip" else response.content
    return body.decode()


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part.strip()}


# --- The first visit ---------------------------------------------------------------------------------


def test_the_first_visit_to_the_answer_form_moves_under_100_kb():
    _round, links = start_round(make_team(leaders=6))
    browser = Client(**FROM_THE_PERSON)
    opened_link(browser, leader_links(links)[0])
    page = browser.get(ANSWER_URL)
    assert page.status_code == 200
    assert page["Content-Encoding"] == "gzip"

    loads = Loads(page_text(page))
    sizes = {ANSWER_URL: len(page.content)}
    for url in loads.stylesheets + loads.scripts + loads.icons:
        sizes[url] = as_served(static_file(url))
    assert loads.stylesheets and loads.scripts
    # A browser fetches only the faces a page uses; this counts every face the styles declare.
    for stylesheet in loads.stylesheets:
        for face in font_faces(static_file(stylesheet).read_text(encoding="utf-8")):
            for reference in css_references(face.get("src", "")):
                url = beside(stylesheet, reference)
                sizes[url] = as_served(static_file(url))
    fonts = [url for url in sizes if "/fonts/" in url]
    assert fonts and all(url.endswith(".woff2") for url in fonts), fonts
    breakdown = "\n".join(f"{size / KB:8.1f} KB  {url}" for url, size in sizes.items())
    assert sum(sizes.values()) < FIRST_VISIT_LIMIT, (
        f"the first visit moves {sum(sizes.values()) / KB:.1f} KB:\n{breakdown}"
    )


def test_static_files_are_kept_compressed_with_brotli_as_well_as_gzip():
    # Production storage (tests use the plain one, with no manifest to build): hashed names, which
    # WhiteNoise serves with a far-future, immutable Cache-Control, and .br and .gz copies.
    import gensidig.settings as production

    assert production.STORAGES["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert brotli_installed


# --- Compression, and BREACH ---------------------------------------------------------------------------


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_pages_are_compressed_for_requests_from_our_own_pages_or_from_the_person(client, site):
    response = client.get(reverse("gensidig:about"), HTTP_ACCEPT_ENCODING="gzip, deflate, br", HTTP_SEC_FETCH_SITE=site)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert page_text(response).rstrip().endswith("</html>")
    assert int(response["Content-Length"]) == len(response.content)
    assert {"accept-encoding", "sec-fetch-site"} <= vary(response)


@pytest.mark.parametrize("site", ["cross-site", "same-site", None])
def test_requests_another_site_can_make_a_browser_send_are_answered_uncompressed(client, site):
    """The only way to get input of an attacker's choosing into a page the victim receives is a
    request from another site; its answer is never compressed, so its length says nothing of
    how a guess compressed. A browser that does not say where a request came from is treated so."""
    headers = {"HTTP_ACCEPT_ENCODING": "gzip"} | ({"HTTP_SEC_FETCH_SITE": site} if site else {})
    response = client.get(reverse("gensidig:about") + "?guess=Gensidig", **headers)
    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert b"guess=Gensidig" in response.content  # the address is in the page (the language switch)
    assert {"accept-encoding", "sec-fetch-site"} <= vary(response)


def test_nothing_is_compressed_for_a_browser_that_does_not_ask_and_only_html_at_all(client):
    assert not client.get(reverse("gensidig:about"), HTTP_SEC_FETCH_SITE="none").has_header("Content-Encoding")
    health = client.get(reverse("gensidig:health"), **FROM_THE_PERSON)
    assert health["Content-Type"].startswith("text/plain") and not health.has_header("Content-Encoding")


def test_the_chiefs_report_is_compressed_to_a_fraction(client):
    team = make_team(leaders=6)
    round_ = closed_round(team, answering=5)
    client.force_login(team.chief.user)
    url = reverse("gensidig:report", args=[round_.public_id])
    plain = client.get(url)
    compressed = client.get(url, **FROM_OUR_PAGES)
    assert compressed["Content-Encoding"] == "gzip" and not plain.has_header("Content-Encoding")
    assert len(compressed.content) < len(plain.content) / 3
    assert "no-store" in compressed["Cache-Control"]


def test_the_page_behind_a_sign_in_link_holds_its_token_and_is_never_compressed(client):
    token = new_token().token
    for headers in (FROM_THE_PERSON, FROM_OUR_PAGES):
        response = client.get(reverse("gensidig:sign-in-link-use", args=[token]), **headers)
        assert response.status_code == 200
        assert token.encode() in response.content  # the language switch returns to the address
        assert not response.has_header("Content-Encoding")


@override_settings(GENSIDIG_DEMO_OUTBOX=True)
def test_the_demo_outbox_is_never_compressed(client):
    response = client.get(reverse("gensidig:demo-outbox"), **FROM_THE_PERSON)
    assert response.status_code == 200 and not response.has_header("Content-Encoding")


def test_every_page_kept_uncompressed_by_name_exists():
    def names(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from names(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield f"{namespace}{pattern.name}"

    assert set(UNCOMPRESSED_VIEWS) <= set(names(get_resolver().url_patterns))


def test_answer_pages_padded_to_one_size_are_never_compressed_and_stay_one_size(team):
    """A compressed length would follow what was typed again (views/padding.py)."""
    _round, links = start_round(team)
    browser = Client(**FROM_OUR_PAGES)
    opened_link(browser, leader_links(links)[0])
    first_theme = browser.post(ANSWER_URL, {"step": "0", "action": "next"})
    assert first_theme.status_code == 200 and not first_theme.has_header("Content-Encoding")
    theme_key = first_theme.context["step"].theme.key
    lengths = set()
    for typed in ("", "Kort.", "Vi savner sparring – især før budgettet. " * 40):
        # Nothing rated: the same step comes back with its errors and what was typed.
        page = browser.post(ANSWER_URL, {"step": "1", "action": "next", comment_name(theme_key): typed})
        assert page.status_code == 400 and not page.has_header("Content-Encoding")
        lengths.add(len(page.content))
    assert len(lengths) == 1


def test_the_same_page_compressed_twice_differs_in_length(rf):
    """Django's GZipMiddleware puts 0 to 99 filler bytes, at random, into each gzip header (Django 4.2+)."""
    body = ("<!DOCTYPE html><html><body>" + "<p>Samme side, samme indhold.</p>" * 200 + "</body></html>").encode()
    middleware = HtmlCompressionMiddleware(lambda request: HttpResponse(body))
    request = rf.get("/", HTTP_ACCEPT_ENCODING="gzip", HTTP_SEC_FETCH_SITE="same-origin")
    responses = [middleware(request) for _ in range(30)]
    assert all(gzip.decompress(r.content) == body for r in responses)
    assert len({len(r.content) for r in responses}) > 1


# --- The fonts ---------------------------------------------------------------------------------------


def served_fonts() -> dict[tuple[int, str], Path]:
    """Every face the stylesheets declare, and its file."""
    faces = {}
    for stylesheet in ("gensidig/vendor/dkfds/css/dkfds.min.css", "gensidig/css/gensidig.css"):
        url = settings.STATIC_URL + stylesheet
        for face in font_faces(static_file(url).read_text(encoding="utf-8")):
            sources = css_references(face.get("src", ""))
            if not sources:
                continue  # the design system's "system" family: local fonts only
            assert face.get("font-display") == "swap", face
            assert len(sources) == 1 and sources[0].endswith(".woff2") and 'format("woff2")' in face["src"], face
            faces[int(face["font-weight"]), face["font-style"]] = static_file(beside(url, sources[0]))
    return faces


def characters_used() -> set[str]:
    """Every character of the templates, the Danish catalogues (ours and Django's), the framework
    texts, and the text the stylesheets put on the page."""
    texts = [path.read_text(encoding="utf-8") for path in (PACKAGE / "templates").rglob("*") if path.is_file()]
    texts += [path.read_text(encoding="utf-8") for path in (PACKAGE / "framework").rglob("*.toml")]
    catalogue = polib.pofile(str(PACKAGE / "locale" / "da" / "LC_MESSAGES" / "django.po"))
    django_dir = Path(django.__file__).parent
    catalogues = [catalogue] + [
        polib.mofile(str(path))
        for path in (
            django_dir / "conf" / "locale" / "da" / "LC_MESSAGES" / "django.mo",
            django_dir / "contrib" / "auth" / "locale" / "da" / "LC_MESSAGES" / "django.mo",
        )
    ]
    for entries in catalogues:
        for entry in entries:
            texts += [entry.msgid, entry.msgid_plural, entry.msgstr, *entry.msgstr_plural.values()]
    for stylesheet in ("gensidig/vendor/dkfds/css/dkfds.min.css", "gensidig/css/gensidig.css"):
        css = static_file(settings.STATIC_URL + stylesheet).read_text(encoding="utf-8")
        texts += re.findall(r"""content:\s*["']([^"']*)["']""", css)
    return {c for text in texts for c in text if unicodedata.category(c) != "Cc"}


def test_only_the_faces_the_pages_use_are_served_each_woff2_with_swap():
    assert set(served_fonts()) == SERVED_FACES


def test_every_face_has_every_character_of_the_pages_and_the_catalogues():
    used = characters_used()
    assert set("æøåÆÅé«»–“”…") <= used  # the sources were read
    for face, path in served_fonts().items():
        cmap = TTFont(path).getBestCmap()
        missing = sorted(c for c in used - DRAWN_BY_SYSTEM_FONTS if ord(c) not in cmap)
        assert not missing, f"{path.name} {face} lacks {[f'U+{ord(c):04X} {c}' for c in missing]}"


def test_every_face_has_all_of_latin_1_and_the_typographic_punctuation():
    wanted = [chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0xA0, 0x100)] + list("–—‘’“”„•…‰€−≤≥×")
    for path in served_fonts().values():
        cmap = TTFont(path).getBestCmap()
        assert [c for c in wanted if ord(c) not in cmap] == [], path.name


# --- Nothing from another host ------------------------------------------------------------------------


def assert_same_host(url: str, where: str) -> None:
    parts = urlsplit(url.strip())
    if parts.scheme == "data":
        return
    assert not parts.scheme and not parts.netloc, f"{where} loads {url} from another host"


def test_no_page_and_no_stylesheet_loads_anything_from_another_host(client):
    team = make_team(leaders=6)
    round_ = closed_round(team, answering=5)
    _open, links = start_round(make_team(leaders=6))
    browser = Client(**FROM_THE_PERSON)
    opened_link(browser, leader_links(links)[0])
    pages = {
        "the answer form's first page": browser.get(ANSWER_URL),
        "a theme of the answer form": browser.post(ANSWER_URL, {"step": "0", "action": "next"}),
        "about": client.get(reverse("gensidig:about")),
        "help": client.get(reverse("gensidig:help")),
        "sign-in": client.get(reverse("gensidig:login")),
    }
    client.force_login(team.chief.user)
    pages["the chief's home"] = client.get(reverse("gensidig:home"))
    pages["the report"] = client.get(reverse("gensidig:report", args=[round_.public_id]))
    pages["the meeting guide"] = client.get(reverse("gensidig:guide", args=[round_.public_id]))

    stylesheets = set()
    for name, response in pages.items():
        assert response.status_code == 200, name
        loads = Loads(page_text(response))
        assert loads.stylesheets, name
        for url in loads.urls:
            assert_same_host(url, name)
        stylesheets |= set(loads.stylesheets)
        for directive in response["Content-Security-Policy"].split(";"):
            for source in directive.split()[1:]:
                assert source in {"'self'", "'none'", "data:"} or source.startswith("'nonce-"), (name, directive)

    for url in stylesheets:
        css = static_file(url).read_text(encoding="utf-8")
        for reference in css_references(css):
            assert_same_host(reference, url)
            if not reference.startswith("data:"):
                static_file(beside(url, reference))  # and it is there
