"""How a figure is written: one decimal, rounded half up, in the reader's number format.

Django's number_format cuts a float's decimals instead of rounding them (4.66 would read 4,6),
so every figure goes through `one_decimal` first; the report, the PDFs and the spreadsheets then
agree with each other and with arithmetic.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

TENTH = Decimal("0.1")


def one_decimal(value: float) -> Decimal:
    """The value rounded half up to one decimal (4.25 -> 4.3, -0.25 -> -0.3)."""
    return Decimal(repr(value)).quantize(TENTH, rounding=ROUND_HALF_UP)


def score_text(value: float | None) -> str:
    """A mean with one decimal in the reader's format; a dash if absent."""
    if value is None:
        return "–"
    return number_format(one_decimal(value), 1)


def signed_text(value: float | None) -> str:
    """A difference with its sign (+0,8 / −0,8), so the two read differently at a glance; a
    difference that rounds to zero has none."""
    if value is None:
        return "–"
    rounded = one_decimal(value)
    if rounded == 0:
        return number_format(Decimal("0.0"), 1)
    return ("+" if rounded > 0 else "−") + number_format(abs(rounded), 1)
