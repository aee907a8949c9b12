"""Pages whose cost must not grow with the organisation (benchmarks/page_scale.py measures the time):
the same statements at two sizes, and a page of teams, people or participation at a time."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gensidig.models import Campaign, Person, Round, Team, User
from gensidig.services.access import add_admin
from gensidig.services.campaigns import create_campaign, launch_campaign
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.signin import user_for_email
from gensidig.services.survey.closing import close_campaign
from gensidig.services.survey.rounds import reissue_links
from gensidig.views import campaigns as campaign_views
from gensidig.views import organisation as organisation_views

from ..factories import answer, answers_for

pytestmark = pytest.mark.django_db


def build(slug: str, areas: int, *, leaders: int = 5) -> dict:
    """A director, `areas` chiefs under them, each with `leaders` leaders; a closed campaign and an open one."""
    rows = [(f"top@{slug}.dk", "Direktør", "", "Forvaltningen")]
    for a in range(areas):
        rows.append((f"chief{a}@{slug}.dk", f"Chef {a}", f"top@{slug}.dk", f"Område {a:02d}"))
        rows += [
            (f"l{a}-{i}@{slug}.dk", f"Leder {a}-{i}", f"chief{a}@{slug}.dk", f"Område {a:02d}") for i in range(leaders)
        ]
    data = ("email;name;manager_email;unit\n" + "\n".join(";".join(r) for r in rows)).encode()
    organisation = apply_import(
        organisation_slug=slug, organisation_name=slug.upper(), chart=read_chart(data=data, filename="c.csv")
    ).organisation
    add_admin(email=f"hr@{slug}.dk", organisation_slug=slug)

    def campaign(name: str) -> Campaign:
        made = create_campaign(
            organisation=organisation,
            name=name,
            root_team=None,
            opens_on=timezone.localdate(),
            closes_at=timezone.now() + datetime.timedelta(days=9),
        )
        launch_campaign(campaign=made)
        return made

    closed = campaign("Runde 1")
    for round_ in Round.objects.filter(campaign=closed):
        for link in reissue_links(round_=round_):
            answer(link, answers_for(round_, link.role, 4))
    close_campaign(campaign=closed)
    opened = campaign("Runde 2")
    user_for_email(f"top@{slug}.dk")
    top = Team.objects.get(organisation=organisation, chief__email=f"top@{slug}.dk")
    return {
        "slug": slug,
        "hr": User.objects.get(email=f"hr@{slug}.dk"),
        "top": User.objects.get(email=f"top@{slug}.dk"),
        "closed": closed.public_id,
        "open": opened.public_id,
        "top_team": top.public_id,
    }


def pages(org: dict) -> dict[str, tuple[str, str]]:
    slug = org["slug"]
    return {
        "campaign, closed": ("hr", reverse("gensidig:campaign", args=[slug, org["closed"]])),
        "campaign, open": ("hr", reverse("gensidig:campaign", args=[slug, org["open"]])),
        "heatmap, HR": ("hr", reverse("gensidig:rollup", args=[org["closed"], org["top_team"]])),
        "roll-up, chief of chiefs": ("top", reverse("gensidig:rollup", args=[org["closed"], org["top_team"]])),
        "teams": ("hr", reverse("gensidig:org-teams", args=[slug])),
        "people": ("hr", reverse("gensidig:org-people", args=[slug])),
        "people, page 2": ("hr", reverse("gensidig:org-people", args=[slug]) + "?page=2"),
        "search": ("hr", reverse("gensidig:org-people", args=[slug]) + "?q=Leder"),
        "search, one person": ("hr", reverse("gensidig:org-people", args=[slug]) + "?q=top%40"),
    }


def statements(client, user, url: str) -> int:
    client.force_login(user)
    assert client.get(url).status_code == 200, url  # warms the instrument and writes the floors shown once
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def test_every_page_runs_the_same_statements_at_two_sizes(client, monkeypatch):
    # Small pages, so that both sizes have more than one page of everything.
    monkeypatch.setattr(organisation_views, "PEOPLE_PER_PAGE", 4)
    monkeypatch.setattr(organisation_views, "TEAMS_PER_PAGE", 2)
    monkeypatch.setattr(campaign_views, "PARTICIPATION_PER_PAGE", 2)
    small, large = build("s", 2), build("l", 6)
    counts = {}
    for name, (who, url) in pages(small).items():
        counts[name] = [statements(client, small[who], url)]
    for name, (who, url) in pages(large).items():
        counts[name].append(statements(client, large[who], url))
    different = {name: found for name, found in counts.items() if found[0] != found[1]}
    assert not different, different
    assert all(found[0] <= 25 for found in counts.values()), counts


def next_link(html: str) -> str | None:
    """The "next page" link of a page's page navigation, if it has one."""
    nav = re.search(r'<nav class="gs-pages".*?</nav>', html, re.S)
    if nav is None:
        return None
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav.group(0))
    forward = [href for href, _text in links if int(re.search(r"page=(\d+)", href).group(1)) > current_page(nav)]
    return forward[0].replace("&amp;", "&") if forward else None


def current_page(nav) -> int:
    return int(re.search(r"(\d+)\D+\d+\s*</span>", nav.group(0)).group(1))


def walk(client, url: str, pattern: str) -> list[list[str]]:
    """Every page from the first by its next links: the matches of pattern on each."""
    found, seen = [], set()
    while url is not None and url not in seen:
        seen.add(url)
        html = client.get(url).content.decode()
        found.append(re.findall(pattern, html))
        link = next_link(html)
        url = None if link is None else url.split("?")[0] + link
    return found


def test_the_teams_page_lists_the_tree_a_page_at_a_time(client, monkeypatch):
    monkeypatch.setattr(organisation_views, "TEAMS_PER_PAGE", 2)
    org = build("t", 3)
    client.force_login(org["hr"])
    url = reverse("gensidig:org-teams", args=["t"])
    found = walk(client, url, r'<span class="gs-depth gs-depth-(\d)">([^<]+)</span>')
    # Top down, each team followed by its branch, two to a page; the last page links back.
    assert found == [[("0", "Forvaltningen"), ("1", "Område 00")], [("1", "Område 01"), ("1", "Område 02")]]
    last = client.get(url + "?page=2").content.decode()
    assert 'href="?page=1"' in last and 'href="?page=3"' not in last
    assert client.get(url + "?page=99").status_code == 200  # past the end: the last page


def test_the_campaign_page_shows_participation_a_page_at_a_time_with_the_whole_campaigns_total(client, monkeypatch):
    org = build("c", 3)
    client.force_login(org["hr"])
    for campaign in ("closed", "open"):
        url = reverse("gensidig:campaign", args=["c", org[campaign]])
        whole = client.get(url).content.decode()
        every = re.findall(r'<span class="gs-depth gs-depth-\d">([^<]+)</span>', whole)
        assert every == ["Forvaltningen", "Område 00", "Område 01", "Område 02"]
        assert '<nav class="gs-pages"' not in whole
        monkeypatch.setattr(campaign_views, "PARTICIPATION_PER_PAGE", 3)
        paged = walk(client, url, r'<span class="gs-depth gs-depth-\d">([^<]+)</span>')
        assert paged == [every[:3], every[3:]], campaign
        total = re.search(r'<p class="font-lead">.*?</p>', whole, re.S)
        if total:  # the campaign's count is the same on every page
            assert total.group(0) in client.get(url + "?page=2").content.decode()
        monkeypatch.setattr(campaign_views, "PARTICIPATION_PER_PAGE", 100)


def test_a_search_goes_on_across_pages_in_name_order_and_keeps_its_words(client, monkeypatch):
    monkeypatch.setattr(organisation_views, "PEOPLE_PER_PAGE", 4)
    org = build("p", 2)
    # Two people with the same name: the order breaks the tie the same way on every page.
    Person.objects.filter(email="l1-0@p.dk").update(name="Leder 0-0")
    client.force_login(org["hr"])
    url = reverse("gensidig:org-people", args=["p"]) + "?q=Leder"
    found = walk(client, url, r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td>')
    names = [row for page in found for row in page]
    assert [len(page) for page in found] == [4, 4, 2]
    assert len(set(names)) == 10  # every leader once, none twice
    expected = (
        Person.objects.filter(organisation__slug="p", name__icontains="Leder")
        .order_by("-active", "name", "pk")
        .values_list("email", flat=True)
    )
    assert [email for _name, email in names] == list(expected)
    second = client.get(url + "&page=2").content.decode()
    assert 'href="?q=Leder&amp;page=1"' in second and 'href="?q=Leder&amp;page=3"' in second


def test_the_audited_participation_pattern_is_reused_only_for_exactly_the_same_counts(monkeypatch):
    from gensidig.services.results import participation
    from gensidig.services.results.hierarchy import campaign_hierarchy

    org = build("m", 2)
    campaign = Campaign.objects.get(public_id=org["open"])
    audits = []
    real = participation.protect_participation
    monkeypatch.setattr(participation, "_PATTERNS", {})
    monkeypatch.setattr(participation, "protect_participation", lambda **kw: audits.append(1) or real(**kw))
    hierarchy = campaign_hierarchy(campaign, light=True)
    invited, answered = participation.counts_now(hierarchy)
    first = participation.participation_rows(campaign=campaign, hierarchy=hierarchy, invited=invited, answered=answered)
    again = participation.participation_rows(campaign=campaign, hierarchy=hierarchy, invited=invited, answered=answered)
    assert again == first and len(audits) == 1
    # One more answer somewhere is another question: audited afresh.
    team = hierarchy.team_ids[-1]
    more = {**answered, team: answered.get(team, 0) + 1}
    participation.participation_rows(campaign=campaign, hierarchy=hierarchy, invited=invited, answered=more)
    assert len(audits) == 2
