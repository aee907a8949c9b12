"""Answering in the browser: a leader's and a chief's way through the form, on a phone and without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, Response, expect

from gensidig.forms.answer import field_name
from gensidig.models import Comment, RatingCounter
from gensidig.models.choices import Role
from gensidig.services.survey.questions import questions_for

from ..counters import total
from ..factories import chief_link, leader_links, start_round
from .conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

THEMES = 6
COMMENT = "Vi savner sparring på tværs – især før budgetforhandlingerne. Æbler, øl og å: æøå ÆØÅ."


def go(page: Page, action: str) -> Response:
    """Press one of the form's buttons (next, back, send) and wait for the page it leads to."""
    with page.expect_navigation() as navigation:
        page.locator(f"button[name=action][value={action}]").click()
    return navigation.value


def step_number(page: Page) -> int:
    return int(page.locator("form input[name=step]").input_value())


def radio_names(page: Page) -> list[str]:
    """The names of the radio groups on the page, in page order."""
    names: list[str] = []
    for radio in page.locator(".gs-answer-form input[type=radio]").all():
        name = radio.get_attribute("name")
        if name not in names:
            names.append(name)
    return names


def choose(page: Page, name: str, value: int) -> None:
    """Choose an answer the way a person does: by clicking its label.

    The design system lays the real (transparent) radio over the label's drawn circle, so the
    click lands on the label's words, at its right end, where nothing covers it.
    """
    label = page.locator(f'.form-group-radio:has(> input[name="{name}"][value="{value}"]) > label')
    box = label.bounding_box()
    label.click(position={"x": box["width"] - 4, "y": box["height"] / 2})


def expect_checked(page: Page, chosen: dict[str, int], names: list[str]) -> None:
    for name in names:
        expect(page.locator(f'input[type=radio][name="{name}"][value="{chosen[name]}"]')).to_be_checked()


def answer_step(page: Page, pick: Callable[[int, int], int], chosen: dict[str, int]) -> list[str]:
    """Answer every question on the current theme page with pick(step, question index)."""
    number = step_number(page)
    names = radio_names(page)
    assert names, "a theme page without questions"
    for index, name in enumerate(names):
        chosen[name] = pick(number, index)
        choose(page, name, chosen[name])
    return names


def varied(step: int, index: int) -> int:
    return (step + index) % 5 + 1


def answer_everything(
    page: Page, pick: Callable[[int, int], int] = varied, *, first: int = 1, chosen: dict[str, int] | None = None
) -> dict[str, int]:
    """Answer every theme from `first` on and send; from the intro page when first is 1."""
    if first == 1:
        go(page, "next")
    chosen = {} if chosen is None else chosen
    for number in range(first, THEMES + 1):
        assert step_number(page) == number
        answer_step(page, pick, chosen)
        response = go(page, "send" if number == THEMES else "next")
    assert response.status == 200
    assert urlparse(page.url).path == "/answer/thanks/"
    return chosen


def assert_counted_once(round_, role: str, chosen: dict[str, int]) -> None:
    """Each question's counters went up by exactly one, at the value chosen; the other role's stayed at zero."""
    questions = questions_for(instrument=round_.instrument, role=role)
    assert {field_name(key, scale) for key, scale in questions} == set(chosen)
    for counter in RatingCounter.objects.filter(round=round_, role=role).select_related("item"):
        name = field_name(counter.item.key, counter.scale)
        assert counter.counts == {value: int(value == chosen[name]) for value in range(6)}, name
    other = Role.CHIEF if role == Role.LEADER else Role.LEADER
    assert total(round_, role=other) == 0


def test_a_leader_answers_every_theme_and_the_link_is_then_used_up(page, team):
    round_, links = start_round(team, threshold=6)
    link = leader_links(links)[0]

    response = page.goto(f"/a/{link.token}/")
    assert response.status == 200
    assert link.token not in page.url
    assert urlparse(page.url).path == "/answer/"
    assert page.locator("html").get_attribute("lang") == "da"
    # The first list after "Your answers are anonymous" names the threshold before anything is asked.
    expect(page.locator("main > h2 + ul").first).to_contain_text("6")
    assert_accessible(page)

    go(page, "next")
    assert step_number(page) == 1
    first_names = radio_names(page)

    response = go(page, "next")
    assert response.status == 400
    assert step_number(page) == 1
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a")).to_have_count(len(first_names))
    for summary_link, name in zip(summary.locator("a").all(), first_names, strict=True):
        target = page.locator(summary_link.get_attribute("href"))
        expect(target).to_have_count(1)
        assert target.get_attribute("name") == name
        group = page.locator(".gs-scale-group").filter(has=target)
        message_id = group.get_attribute("aria-describedby")
        expect(group.locator(f"#{message_id}.form-error-message")).to_be_visible()
    expect(page.locator(".form-error-message")).to_have_count(len(first_names))
    expect(page.locator(".gs-comment .form-error-message")).to_have_count(0)  # the comment is optional
    assert_accessible(page)

    chosen: dict[str, int] = {}

    def pick(step: int, index: int) -> int:
        return 0 if (step, index) == (4, 1) else varied(step, index)

    answer_step(page, pick, chosen)
    comment = page.locator(".gs-comment textarea")
    comment.fill(COMMENT)
    comment_theme = comment.get_attribute("name").removeprefix("comment-")
    go(page, "next")

    second_names = answer_step(page, pick, chosen)
    go(page, "back")
    assert step_number(page) == 1
    expect_checked(page, chosen, first_names)
    expect(page.locator(".gs-comment textarea")).to_have_value(COMMENT)
    go(page, "next")
    assert step_number(page) == 2
    expect_checked(page, chosen, second_names)
    go(page, "next")

    answer_everything(page, pick, first=3, chosen=chosen)
    assert_accessible(page)

    response = page.goto(f"/a/{link.token}/")
    assert response.status == 404
    with translation.override("da"):
        expect(page.locator("h1")).to_have_text(gettext("This link cannot be used"))
    assert_accessible(page)

    assert list(chosen.values()).count(0) == 1
    assert_counted_once(round_, Role.LEADER, chosen)
    assert list(Comment.objects.filter(round=round_).values_list("theme_key", "text")) == [(comment_theme, COMMENT)]


def test_the_chief_answers_the_mirror_form_without_comments(page, team):
    round_, links = start_round(team)
    page.goto(f"/a/{chief_link(links).token}/")
    go(page, "next")

    chosen: dict[str, int] = {}
    for number in range(1, THEMES + 1):
        assert step_number(page) == number
        expect(page.locator("textarea")).to_have_count(0)
        answer_step(page, lambda step, index: (step * 2 + index) % 6, chosen)
        if number == 1:
            assert_accessible(page)
        response = go(page, "send" if number == THEMES else "next")
    assert response.status == 200
    assert urlparse(page.url).path == "/answer/thanks/"

    assert_counted_once(round_, Role.CHIEF, chosen)
    assert not Comment.objects.filter(round=round_).exists()


def fits_the_width(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_a_leader_can_answer_on_a_phone(new_page, team):
    page = new_page(phone=True)
    round_, links = start_round(team)
    page.goto(f"/a/{leader_links(links)[0].token}/")
    assert fits_the_width(page)
    go(page, "next")

    assert step_number(page) == 1
    assert fits_the_width(page)
    chosen: dict[str, int] = {}
    answer_step(page, varied, chosen)
    assert_accessible(page)
    response = go(page, "next")
    assert response.status == 200
    assert step_number(page) == 2
    expect(page.locator(".gs-progress-list li[aria-current=step]")).to_have_count(1)
    expect(page.locator(".gs-progress-list li").nth(1)).to_have_attribute("aria-current", "step")
    # Nothing is stored until the last page is sent: no drafts on the server.
    assert total(round_) == 0


def test_the_whole_form_works_without_javascript(new_page, team):
    page = new_page(javascript=False)
    round_, links = start_round(team)
    page.goto(f"/a/{leader_links(links)[1].token}/")

    chosen = answer_everything(page)

    assert_counted_once(round_, Role.LEADER, chosen)
