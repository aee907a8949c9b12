"""A unit's roll-up a page of the units below it at a time (services.results.rollup_pages).

The pages only split the rows of the whole heatmap: each row on a page is the very row the whole
list shows (every stored figure and every "Not shown" as the close left it), the unit's own totals
are on every page, and nothing else appears. Its statements are the same at two sizes.
"""

import re

import pytest
from django.urls import reverse

from gensidig.models import Team
from gensidig.services.results import rollup_pages
from gensidig.services.signin import user_for_email

from .test_page_scale import build, statements, walk

pytestmark = pytest.mark.django_db

ROW = r'(?s)<tr class="gs-heat-row-(\w+)">(.*?)</tr>'  # (?s): a row spans lines


def rows_of(html: str) -> list[tuple[str, str]]:
    return re.findall(ROW, html)


def test_the_pages_split_the_whole_heatmaps_rows_and_show_nothing_else(client, monkeypatch):
    org = build("r", 5)
    url = reverse("gensidig:rollup", args=[org["closed"], org["top_team"]])
    for reader in ("hr", "top"):
        client.force_login(org[reader])
        monkeypatch.setattr(rollup_pages, "UNITS_PER_PAGE", 100)
        whole_html = client.get(url).content.decode()
        whole = rows_of(whole_html)
        assert [kind for kind, _row in whole] == ["total", "own"] + ["branch"] * 5, reader
        assert '<nav class="gs-pages"' not in whole_html

        monkeypatch.setattr(rollup_pages, "UNITS_PER_PAGE", 2)
        pages = walk(client, url, ROW)
        assert len(pages) == 3, reader
        for page in pages:
            assert page[:2] == whole[:2]  # the unit itself, all together and its own team, on every page
        assert [row for page in pages for row in page[2:]] == whole[2:]  # each unit once, in name order
        assert client.get(url + "?page=99").status_code == 200  # past the end: the last page


def test_a_page_of_the_roll_up_runs_the_same_statements_at_two_sizes(client, monkeypatch):
    monkeypatch.setattr(rollup_pages, "UNITS_PER_PAGE", 2)
    small, large = build("s", 3), build("l", 7)
    counts = {}
    for org in (small, large):
        url = reverse("gensidig:rollup", args=[org["closed"], org["top_team"]])
        for reader in ("hr", "top"):
            for page in (1, 2):
                counts.setdefault((reader, page), []).append(statements(client, org[reader], f"{url}?page={page}"))
    different = {key: found for key, found in counts.items() if found[0] != found[1]}
    assert not different, different


def test_a_unit_below_links_up_only_for_a_reader_who_may_open_the_unit_above(client):
    org = build("u", 2)
    area = Team.objects.get(organisation__slug="u", chief__email="chief0@u.dk")
    area_url = reverse("gensidig:rollup", args=[org["closed"], area.public_id])
    for reader, may_go_up in ((org["hr"], True), (org["top"], True), (user_for_email("chief0@u.dk"), False)):
        client.force_login(reader)
        html = client.get(area_url).content.decode()
        assert ('class="gs-breadcrumb"' in html) is may_go_up, reader
        assert [kind for kind, _row in rows_of(html)] == ["total"]  # no units below: no "own" row, no pages
    other = Team.objects.get(organisation__slug="u", chief__email="chief1@u.dk")
    assert client.get(reverse("gensidig:rollup", args=[org["closed"], other.public_id])).status_code == 404
