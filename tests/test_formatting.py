"""Figures are written with one decimal, rounded half up, in the reader's number format."""

from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from gensidig.formatting import one_decimal, score_text, signed_text


@pytest.mark.parametrize(
    "value, danish, english",
    [(4.666, "4,7", "4.7"), (4.25, "4,3", "4.3"), (2.95, "3,0", "3.0"), (1.0, "1,0", "1.0"), (None, "–", "–")],
)
def test_a_mean_is_rounded_not_cut(value, danish, english):
    with translation.override("da"):
        assert score_text(value) == danish
    with translation.override("en"):
        assert score_text(value) == english


@pytest.mark.parametrize(
    "value, text", [(0.86, "+0,9"), (-0.86, "−0,9"), (0.04, "0,0"), (-0.04, "0,0"), (-0.25, "−0,3"), (None, "–")]
)
def test_a_difference_carries_its_sign_unless_it_rounds_to_zero(value, text):
    with translation.override("da"):
        assert signed_text(value) == text


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=1000))
def test_a_mean_of_answers_is_within_half_a_tenth_of_what_is_written(total, count):
    # Means come from whole-number answers: sum / n. The written figure is never more than
    # 0.05 away, and exact halves go up.
    mean = total / count
    written = one_decimal(mean)
    assert abs(Decimal(repr(mean)) - written) <= Decimal("0.05")
    if (Decimal(total) / Decimal(count) * 100) % 10 == 5:
        assert written > Decimal(total) / Decimal(count)
