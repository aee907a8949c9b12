"""A report nobody misreads (issue 9): the grid's labels, sums that add up, true texts, the chief
addressed as "you", the framework beside the gaps, the course over every round, the guide's left-out
focus themes, and headings in order on every page and PDF."""

import io
import itertools
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from pypdf import PdfReader

from gensidig.models import GuideFormat, MeetingGuide, Round
from gensidig.models.choices import Role
from gensidig.services import exports
from gensidig.services.reports import build_report
from gensidig.services.survey.closing import close_round
from gensidig.services.survey.instruments import framework_for

from ..factories import answer, answers_for, chief_link, leader_links, make_team, start_round
from .test_dialogue_views import leader_client
from .test_report_views import sign_in

pytestmark = pytest.mark.django_db


def varied(number: int):
    """Leader `number`'s answers: different per leader and item, so means have decimals of their own."""

    def value(key, scale):
        return 1 + (len(key) * 7 + len(scale) * 3 + number * 5) % 5

    return value


def varied_round(team, *, answering=7, offset=0):
    round_, links = start_round(team)
    for number, link in enumerate(leader_links(links)[:answering]):
        answer(link, answers_for(round_, Role.LEADER, varied(number + offset)))
    answer(chief_link(links), answers_for(round_, Role.CHIEF, lambda key, scale: 1 + len(key) % 5))
    return close_round(round_=round_)


class Page(HTMLParser):
    """The text of a page's table cells, row by row (and by table), and its headings in order."""

    def __init__(self, html: str):
        super().__init__()
        self.rows, self.headings, self._row, self._cell, self._heading = [], [], None, None, None
        self.tables = []  # each a list of rows, the header row first
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = (int(tag[1]), [])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            if self.tables:
                self.tables[-1].append(self._row)
            self._row = None
        elif self._heading and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], " ".join("".join(self._heading[1]).split())))
            self._heading = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._heading:
            self._heading[1].append(data)


def number(text: str) -> Decimal | None:
    """A printed figure ("4,8", "+2.2", "−0,3", "≈3,5") as a Decimal; None if the cell has none."""
    found = re.search(r"([+−-]?)≈?(\d+)[,.](\d)", text)
    if not found:
        return None
    sign = -1 if found.group(1) in ("−", "-") else 1
    return sign * Decimal(f"{found.group(2)}.{found.group(3)}")


def assert_headings_in_order(headings, where):
    assert [level for level, _text in headings].count(1) == 1, (where, headings)
    for (before, _a), (after, text) in itertools.pairwise(headings):
        assert after <= before + 1, f"{where}: h{before} then h{after} ({text})"


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def columns(table, *names):
    """For each row of a table under its header: the cells under the named columns (None if absent)."""
    header = table[0]
    where = [header.index(name) if name in header else None for name in names]
    for row in table[1:]:
        yield [row[i] if i is not None and i < len(row) else None for i in where]


# --- 1. The grid -------------------------------------------------------------------------------------


def test_the_grid_table_uses_the_charts_region_names_and_the_page_explains_the_lines(client):
    team = make_team(leaders=8)
    round_ = varied_round(team)
    sign_in(in_english(client), team)
    html = client.get(reverse("gensidig:report", args=[round_.public_id])).content.decode()
    regions = set(re.findall(r'class="chart-quadrant"[^>]*>([^<]+)<', html))
    assert len(regions) >= 3
    (grid,) = [t for t in Page(html).tables if t and "Quadrant" in t[0]]
    assert len(grid) > 1
    for importance, experience, label in columns(grid, "Importance", "Experience", "Quadrant"):
        assert label in regions, label
        if number(experience) < number(importance):
            assert label != "Possibly over-served"
    assert "chart-diagonal" in html
    for name in ("Concentrate here", "Keep it up", "Possibly over-served", "Lower priority"):
        assert f"<strong>{name}:</strong>" in html  # each region explained in words
    with translation.override("da"):
        for name in ("Concentrate here", "Keep it up", "Possibly over-served", "Lower priority"):
            assert f"<strong>{_(name)}:</strong>" in _(  # the Danish explanation names the chart's regions too
                {
                    "Concentrate here": "<strong>Concentrate here:</strong> more than half a point above the diagonal – experienced less than its importance – and important (3.5 or more). This is where a change would matter most.",
                    "Keep it up": "<strong>Keep it up:</strong> within half a point of the diagonal (the dashed lines), and important.",
                    "Possibly over-served": "<strong>Possibly over-served:</strong> more than half a point below the diagonal – experienced more than leaders find it important.",
                    "Lower priority": "<strong>Lower priority:</strong> importance under 3.5, and not over-served.",
                }[name]
            )


# --- 2. Sums that add up ------------------------------------------------------------------------------


def test_every_difference_on_every_page_is_the_difference_of_the_figures_shown_beside_it(client):
    team = make_team(leaders=9)
    varied_round(team, answering=8)
    round_ = varied_round(team, answering=9, offset=3)
    sign_in(in_english(client), team)
    checked = 0

    def check(table, a, b, difference):
        nonlocal checked
        for first, second, shown in columns(table, a, b, difference):
            if None not in (first, second, shown) and None not in (number(first), number(second), number(shown)):
                assert number(shown) == number(first) - number(second), (a, b, first, second, shown)
                checked += 1

    pages = [reverse("gensidig:report", args=[round_.public_id])]
    pages += [
        reverse("gensidig:report-theme", args=[round_.public_id, theme.key])
        for theme in framework_for(round_.instrument, "en").themes
    ]
    pages += [reverse("gensidig:guide", args=[round_.public_id])]
    pages += [reverse("gensidig:guide-present-step", args=[round_.public_id, step]) for step in (3, 4)]
    for url in pages:
        for table in Page(client.get(url).content.decode()).tables:
            check(table, "Leaders: importance", "Leaders: experience", "Gap")
            check(table, "Importance", "Experience", "Gap")
            check(table, "Leaders' self-assessment", "How well you find it met", "Difference")
    report = build_report(round_=round_, language="en")
    with translation.override("en"):
        by_item = {}
        for row in exports.figure_rows(report=report):
            by_item.setdefault((row.theme, row.item), {})[row.measure] = row.value
        for measures in by_item.values():
            gap = measures.get("Gap (importance − experience)")
            if isinstance(gap, float):
                assert round(measures["Importance"] - measures["Experience"], 1) == gap
                checked += 1
    assert checked > 60


# --- 3. Texts that are true for their page ------------------------------------------------------------


def test_no_page_says_the_lowest_and_highest_answers_are_never_shown_and_groups_say_why(client):
    team = make_team(leaders=8)
    round_ = varied_round(team, answering=6)
    sign_in(client, team)
    with translation.override("da"):
        never = _("Smallest and largest answers are never shown.")
    overview = client.get(reverse("gensidig:report", args=[round_.public_id])).content.decode()
    theme = client.get(reverse("gensidig:report-theme", args=[round_.public_id, "direction"])).content.decode()
    assert never not in overview and never not in theme
    assert "tre grupper" in theme  # why a distribution of 5 to 7 answers is grouped
    about = " ".join(value for _label, value in exports.about(report=build_report(round_=round_, language="da")))
    assert "never shown" not in about and "aldrig vist" not in about


# --- 4. The chief is "you" ---------------------------------------------------------------------------


def test_the_chiefs_own_form_and_thank_you_page_speak_to_the_chief(client):
    team = make_team(leaders=6)
    _round, links = start_round(team)
    link = chief_link(links)
    client.get(f"/a/{link.token}/")
    intro = client.get(reverse("gensidig:answer")).content.decode()
    with translation.override("da"):
        assert _("Your answers are anonymous") not in intro
        assert _("Your answers are not anonymous – your leaders' are") in intro
        assert (
            _("The chief sees the team's results once the survey closes – never before, and never single answers.")
            not in intro
        )
        assert _("You see the team's results once the survey closes – never before, and never single answers.") in intro
    leader = leader_links(links)[0]
    other = client.__class__()
    other.get(f"/a/{leader.token}/")
    leader_intro = other.get(reverse("gensidig:answer")).content.decode()
    with translation.override("da"):
        assert _("Your answers are anonymous") in leader_intro
    in_english(client)
    thanks_chief = client.get(reverse("gensidig:answer-thanks") + "?chief").content.decode()
    thanks_leader = client.get(reverse("gensidig:answer-thanks")).content.decode()
    assert "comment" not in thanks_chief.lower() and "comment" in thanks_leader.lower()
    assert "not anonymous" in thanks_chief


def test_the_chief_is_sent_to_their_own_thank_you_page_and_a_leader_to_theirs(client):
    from .test_answer_flow import ANSWER_URL, full_post, visit

    team = make_team(leaders=6)
    round_, links = start_round(team)
    visit(client, chief_link(links))
    response = client.post(ANSWER_URL, full_post(round_, Role.CHIEF, "3"))
    assert response.status_code == 303 and response["Location"] == reverse("gensidig:answer-thanks") + "?chief"
    visit(client, leader_links(links)[0])
    response = client.post(ANSWER_URL, full_post(round_, Role.LEADER, "3"))
    assert response.status_code == 303 and response["Location"] == reverse("gensidig:answer-thanks")


# --- 5. The framework beside the gaps -----------------------------------------------------------------


@pytest.mark.parametrize("audience", ["chief", "team"])
def test_each_theme_page_carries_the_framework_and_the_report_names_the_four_differences(client, audience):
    team = make_team(leaders=8)
    round_ = varied_round(team)
    Round.objects.filter(pk=round_.pk).update(shared_on=round_.closed_on)
    if audience == "chief":
        sign_in(client, team)
        overview_url, theme_url = "gensidig:report", "gensidig:report-theme"
    else:
        leader_client(client, round_)
        overview_url, theme_url = "gensidig:team-report", "gensidig:team-report-theme"
    framework = framework_for(round_.instrument, "da")
    overview = client.get(reverse(overview_url, args=[round_.public_id])).content.decode()
    for difference in framework.differences:
        assert overview.count(difference.title) == 1
    for theme in framework.themes:
        page = client.get(reverse(theme_url, args=[round_.public_id, theme.key])).content.decode()
        for text in (*theme.practices, *theme.chief_practices, *theme.risks, *theme.dilemmas):
            assert text.replace("'", "&#x27;").replace('"', "&quot;") in page, (theme.key, text[:40])


# --- 6. The course over every round ---------------------------------------------------------------------


def test_a_team_with_three_rounds_sees_its_course_over_all_three(client):
    team = make_team(leaders=9)
    rounds = [varied_round(team, answering=8, offset=i) for i in range(3)]
    sign_in(in_english(client), team)
    url = reverse("gensidig:report-theme", args=[rounds[-1].public_id, "direction"])
    html = client.get(url).content.decode()
    course_svg = html[
        html.index('id="chart-course-direction"') : html.index("</svg>", html.index('id="chart-course-direction"'))
    ]
    assert course_svg.count("series-experience circle") == 3  # a small chart: one row per round
    theme = Page(html)
    (by_round,) = [t for t in theme.tables if t and t[0][:2] == ["Round", "Importance"]]
    assert [row[0].split(" (")[0] for row in by_round[1:]] == ["Round 1", "Round 2", "Round 3"]
    assert all(number(row[2]) is not None for row in by_round[1:]), by_round  # every round's experience
    (by_item,) = [t for t in theme.tables if t and t[0][0] == "What leaders were asked" and "Round 3" in t[0]]
    assert by_item[0][1:] == ["Round 1", "Round 2", "Round 3"] and len(by_item) == 1 + 4 + 3
    overview = client.get(reverse("gensidig:report", args=[rounds[-1].public_id])).content.decode()
    assert all(f"Round {n} (" in overview for n in (1, 2, 3))
    first = client.get(reverse("gensidig:report", args=[rounds[0].public_id])).content.decode()
    assert "Round 2 (" not in first  # a round shows its own course up to itself


def test_the_team_sees_the_course_only_over_rounds_the_chief_shared(client):
    team = make_team(leaders=9)
    rounds = [varied_round(team, answering=8, offset=i) for i in range(3)]
    Round.objects.filter(pk__in=[rounds[0].pk, rounds[2].pk]).update(shared_on=rounds[2].closed_on)
    in_english(leader_client(client, rounds[2]))
    overview = client.get(reverse("gensidig:team-report", args=[rounds[2].public_id])).content.decode()
    assert "Round 1 (" in overview and "Round 2 (" not in overview
    theme = client.get(reverse("gensidig:team-report-theme", args=[rounds[2].public_id, "direction"])).content.decode()
    assert "since round 2" not in theme.lower() and "since round 1" in theme.lower()


# --- 7. The guide's left-out focus themes ---------------------------------------------------------------


def test_the_guide_says_which_focus_theme_the_format_leaves_out_and_lets_the_chief_swap_it(client):
    team = make_team(leaders=8)
    round_ = varied_round(team)
    report = build_report(round_=round_, language="en")
    focus = report.focus
    assert len(focus) == 3  # the varied answers give three focus themes, one more than two hours have room for
    MeetingGuide.objects.create(round=round_, format=GuideFormat.TWO_HOURS)
    sign_in(in_english(client), team)
    url = reverse("gensidig:guide", args=[round_.public_id])
    page = client.get(url).content.decode()
    left_out = focus[2]
    assert f"focus theme no. 3, “{left_out.title}”, is not in this guide" in page.replace("&quot;", '"')
    # The swap: the third focus theme in place of the second.
    response = client.post(url, {"format": GuideFormat.TWO_HOURS, "themes": [focus[0].key, left_out.key]}, follow=True)
    assert response.status_code == 200
    guide = response.context["guide"]
    assert [t.theme.key for t in guide.themes] == [focus[0].key, left_out.key]
    assert [t.key for t in guide.left_out] == [focus[1].key]


# --- 8. Headings in order ----------------------------------------------------------------------------------


def pdf_headings(content: bytes) -> list[int]:
    """The heading levels of a tagged PDF, in document order."""
    reader = PdfReader(io.BytesIO(content))
    levels = []

    def walk(node):
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for kid in node:
                walk(kid)
        elif isinstance(node, dict):
            kind = str(node.get("/S", ""))
            if re.fullmatch(r"/H[1-6]", kind):
                levels.append(int(kind[2]))
            if node.get("/K") is not None:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return levels


def test_headings_go_in_order_on_the_report_the_guide_meeting_mode_and_both_pdfs(client):
    team = make_team(leaders=8)
    varied_round(team)
    round_ = varied_round(team, offset=2)
    sign_in(client, team)
    pages = {
        "overview": reverse("gensidig:report", args=[round_.public_id]),
        "theme": reverse("gensidig:report-theme", args=[round_.public_id, "direction"]),
        "guide": reverse("gensidig:guide", args=[round_.public_id]),
    }
    for step in range(1, 8):
        pages[f"meeting mode {step}"] = reverse("gensidig:guide-present-step", args=[round_.public_id, step])
    for where, url in pages.items():
        response = client.get(url)
        if response.status_code == 404 and where.startswith("meeting mode"):
            continue
        assert_headings_in_order(Page(response.content.decode()).headings, where)
    for name in ("report-pdf", "guide-pdf"):
        levels = pdf_headings(client.get(reverse(f"gensidig:{name}", args=[round_.public_id])).content)
        assert_headings_in_order([(level, "") for level in levels], name)
