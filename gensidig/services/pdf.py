"""HTML to PDF with WeasyPrint: A4, tagged for screen readers (PDF/UA-1), nothing fetched over the network.

WeasyPrint is imported inside the functions that use it: the import takes about half a second, and
neither the start-up of a worker nor any page but a PDF export should pay for it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.utils.safestring import SafeString, mark_safe

CSS_DIR = Path(__file__).resolve().parent.parent / "static" / "gensidig" / "css"
PRINT_CSS = CSS_DIR / "print.css"
WEB_CSS = CSS_DIR / "gensidig.css"  # the charts' colours live here, for the web and the PDF alike
PDF_VARIANT = "pdf/ua-1"  # tagged: structure tree, /MarkInfo, /Lang and a title, for screen readers
# Everything a PDF shows is in its HTML or in print.css; the only URLs it may load are data: URLs,
# so a stray <img src="https://..."> in a template can never make the server call out.
ALLOWED_PROTOCOLS = frozenset({"data"})
CHART_SELECTORS = (".chart", ".series-")
CHART_FONT = '.chart { font-family: "DejaVu Sans", sans-serif; }'


def url_fetcher():
    """A WeasyPrint URL fetcher that refuses everything but data: URLs (WeasyPrint leaves the
    refused resource out and logs a warning)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS, allow_redirects=False)


def html_to_pdf(*, html: str, base_url: str | None = None) -> bytes:
    """A tagged PDF/UA-1 document from a complete HTML page, styled by print.css.

    `base_url` only makes relative links absolute (to the web pages they point at); it is never
    fetched from. The page's <html lang> becomes the PDF's /Lang and its <title> the PDF's title.
    """
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=url_fetcher())
    return document.write_pdf(stylesheets=_stylesheets(), pdf_variant=PDF_VARIANT)


@functools.cache
def _stylesheets() -> list:
    # Parsed once per process; a CSS object is read-only and can style any number of documents.
    import weasyprint

    return [
        weasyprint.CSS(string=PRINT_CSS.read_text(encoding="utf-8"), url_fetcher=url_fetcher()),
        weasyprint.CSS(string=legend_css(), url_fetcher=url_fetcher()),
    ]


def pdf_chart(svg: SafeString | None) -> SafeString | None:
    """A chart for the PDF: the web's SVG with the chart rules inside it.

    WeasyPrint draws an inline SVG with the SVG's own <style> only, not the page's stylesheets, so
    without this every dot would be black. The rules are read from the web stylesheet, so the PDF
    draws in the same colours as the page.
    """
    if svg is None:
        return None
    opening_end = svg.index(">") + 1  # the attributes are escaped, so the first ">" ends <svg ...>
    return mark_safe(f"{svg[:opening_end]}<style>{chart_css()}</style>{svg[opening_end:]}")  # noqa: S308


@functools.cache
def chart_css() -> str:
    """The web stylesheet's rules for the charts (.chart*, .series-*), and the PDF's font for them."""
    import tinycss2

    return "".join(tinycss2.serialize([rule]) for rule, _selectors in _chart_rules()) + CHART_FONT


@functools.cache
def legend_css() -> str:
    """The PDF legend's markers (characters, not SVG) in their series' colours: the fill of a
    filled marker, the outline of an open one."""
    import tinycss2

    rules = []
    for rule, selectors in _chart_rules():
        series = [s.split(".")[1] for s in selectors if s.startswith(".series-")]
        declarations = {
            d.lower_name: tinycss2.serialize(d.value).strip()
            for d in tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True)
            if d.type == "declaration"
        }
        fill, stroke = declarations.get("fill"), declarations.get("stroke")
        colour = stroke if fill in (None, "none", "#fff", "#ffffff", "white") else fill
        if series and colour:
            rules.append(f".gs-legend-mark.{series[0]} {{ color: {colour}; }}")
    return "\n".join(rules)


def _chart_rules() -> list:
    import tinycss2  # WeasyPrint's own CSS parser, installed with it

    found = []
    for rule in tinycss2.parse_stylesheet(WEB_CSS.read_text(encoding="utf-8"), skip_comments=True):
        if rule.type != "qualified-rule":
            continue
        selectors = [part.strip() for part in tinycss2.serialize(rule.prelude).split(",")]
        if selectors and all(selector.startswith(CHART_SELECTORS) for selector in selectors):
            found.append((rule, selectors))
    return found
