"""Who a round's pages are for, and the downloads each audience gets.

Kept apart so that the report's pages and the exports can both use it without importing each other.
"""

from django.utils.translation import gettext as _

CHIEF, TEAM, GUIDE = "chief", "team", "guide"


def export_links(audience: str) -> list[tuple[str, str]]:
    """(URL name, label) of the downloads for a page: the chief's report, the team's, or the guide."""
    if audience == GUIDE:
        return [("gensidig:guide-pdf", _("Guide as PDF"))]
    prefix = "gensidig:team-" if audience == TEAM else "gensidig:"
    return [
        (f"{prefix}report-pdf", _("Report as PDF")),
        (f"{prefix}figures-xlsx", _("Figures as a spreadsheet (XLSX)")),
        (f"{prefix}figures-csv", _("Figures as CSV")),
    ]
