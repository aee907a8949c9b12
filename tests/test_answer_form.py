"""The quick reading of a complete answer form accepts exactly what the full form accepts."""

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gensidig.forms.answer import AnswerForm, comment_name, complete_answers, field_name
from gensidig.models.choices import Role
from gensidig.services.survey.instruments import current_instrument, framework_for
from gensidig.services.survey.questions import MAX_COMMENT_LENGTH, questions_for

raw_values = st.one_of(st.sampled_from(["0", "1", "2", "3", "4", "5"]), st.sampled_from(["", "6", "-1", "x", " 3"]))
comments = st.one_of(
    st.just(""),
    st.text(max_size=40),
    st.sampled_from([" spaced ", "a\x00b", "x" * MAX_COMMENT_LENGTH, "x" * (MAX_COMMENT_LENGTH + 1)]),
)


@pytest.mark.django_db
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data(), role=st.sampled_from([Role.LEADER, Role.CHIEF]))
def test_the_quick_path_and_the_form_agree(data, role):
    instrument = current_instrument()
    framework = framework_for(instrument, "da")
    questions = questions_for(instrument=instrument, role=role)
    # Mostly valid answers, with a few spoiled or missing ones now and then.
    sent = {
        field_name(key, scale): data.draw(st.one_of(st.sampled_from(["1", "2", "3", "4", "5", "0"]), raw_values))
        for key, scale in questions
        if data.draw(st.integers(0, 60)) > 0
    }
    for theme in framework.themes:
        sent[comment_name(theme.key)] = data.draw(comments)
    form = AnswerForm(sent, framework=framework, role=role, instrument=instrument)
    quick = complete_answers(sent, questions=questions, theme_keys=[t.key for t in framework.themes], role=role)
    assert (quick is not None) == form.is_valid(), form.errors
    if quick is not None:
        assert quick == form.answers()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("role", [Role.LEADER, Role.CHIEF])
def test_every_question_on_a_page_has_a_name_of_its_own_for_the_error_summary(role, language):
    instrument = current_instrument()
    framework = framework_for(instrument, language)
    with translation.override(language):
        steps = AnswerForm({}, framework=framework, role=role, instrument=instrument).steps()
        for step in steps:
            titles = {item.key: item.title for item in (*step.theme.needs, *step.theme.expectations)}
            summaries = [field.summary for field in step.fields]
            assert len(set(summaries)) == len(summaries), summaries
            for question in (*step.needs, *step.expectations):
                for field in question.fields:
                    assert field.summary.startswith(f"{titles[question.item_key]} – "), field.summary
