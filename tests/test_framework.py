"""The framework files and the instrument that freezes them."""

import copy

import pytest

from gensidig import framework as fw
from gensidig.models import Instrument, Item
from gensidig.models.choices import ItemKind
from gensidig.services.survey.instruments import current_instrument, framework_for

from .factories import start_round


def test_both_languages_have_six_themes_with_four_needs_and_three_expectations():
    raw = fw.read_version(fw.CURRENT_VERSION)
    for language in fw.LANGUAGES:
        framework = fw.parse(raw[language])
        assert [t.key for t in framework.themes] == [
            "direction",
            "autonomy",
            "sparring",
            "teamwork",
            "communication",
            "strengths",
        ]
        assert all(len(t.needs) == 4 and len(t.expectations) == 3 for t in framework.themes)
        assert len(framework.differences) == 4
        assert "Væksthus for Ledelse" in framework.credit
        assert all(len(item.title) <= 45 for item in (*framework.needs, *framework.expectations))


def test_the_languages_carry_the_same_items_in_the_same_order():
    raw = fw.read_version(fw.CURRENT_VERSION)
    assert fw.structure(fw.parse(raw["da"])) == fw.structure(fw.parse(raw["en"]))


def test_a_file_with_a_missing_need_is_refused():
    raw = copy.deepcopy(fw.read_version(fw.CURRENT_VERSION)["da"])
    raw["themes"][0]["needs"].pop()
    with pytest.raises(fw.FrameworkError):
        fw.parse(raw)


def test_a_file_with_an_empty_text_is_refused():
    raw = copy.deepcopy(fw.read_version(fw.CURRENT_VERSION)["en"])
    raw["themes"][2]["expectations"][1]["leader_text"] = "   "
    with pytest.raises(fw.FrameworkError):
        fw.parse(raw)


@pytest.mark.django_db
def test_the_instrument_freezes_the_text_and_the_items():
    instrument = current_instrument()
    assert instrument.version == fw.CURRENT_VERSION
    assert Item.objects.filter(instrument=instrument, kind=ItemKind.NEED).count() == 24
    assert Item.objects.filter(instrument=instrument, kind=ItemKind.EXPECTATION).count() == 18
    assert current_instrument() == instrument  # the same files give the same instrument


@pytest.mark.django_db
def test_an_edited_framework_never_changes_a_round_already_opened(team, monkeypatch):
    round_, _links = start_round(team)
    before = framework_for(round_.instrument, "da").themes[0].title
    edited = copy.deepcopy(fw.read_version(fw.CURRENT_VERSION))
    edited["da"]["themes"][0]["title"] = "En ny titel"
    monkeypatch.setattr(fw, "read_version", lambda version=fw.CURRENT_VERSION: edited)
    new_instrument = current_instrument()
    assert new_instrument != round_.instrument
    assert framework_for(new_instrument, "da").themes[0].title == "En ny titel"
    round_.refresh_from_db()
    assert framework_for(round_.instrument, "da").themes[0].title == before
    assert Instrument.objects.count() == 2


@pytest.mark.django_db
def test_english_readers_get_the_english_text_of_the_same_instrument():
    instrument = current_instrument()
    assert framework_for(instrument, "en").language == "en"
    assert framework_for(instrument, "xx").language == "da"
