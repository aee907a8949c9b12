from django import template
from django.utils.translation import gettext as _

from gensidig.formatting import score_text, signed_text

register = template.Library()


@register.filter
def score(value) -> str:
    """A mean on the 1-5 scale with one decimal, in the reader's number format; a dash if absent."""
    return score_text(value)


@register.filter
def signed(value) -> str:
    """A difference with its sign, so +0,8 and −0,8 read differently at a glance."""
    return signed_text(value)


@register.filter
def quadrant_label(key: str) -> str:
    from gensidig.services.report_charts import quadrant_labels

    return quadrant_labels().get(key, "")


@register.simple_tag
def distribution_text(distribution) -> str:
    """A distribution in words, grouped or full as the anonymity rules allow (rule 3)."""
    if not distribution:
        return ""
    counts = distribution["counts"]
    if distribution["kind"] == "grouped":
        return _("Low (1–2): %(low)d · Middle (3): %(mid)d · High (4–5): %(high)d") % {
            "low": counts[0],
            "mid": counts[1],
            "high": counts[2],
        }
    return " · ".join(f"{value}: {count}" for value, count in enumerate(counts, start=1))


@register.filter
def heat_bucket(value) -> int:
    """Which of five colour steps an experience mean falls in (the number is always shown too)."""
    if value is None:
        return 0
    for bucket, upper in ((1, 2.0), (2, 3.0), (3, 3.5), (4, 4.0)):
        if value < upper:
            return bucket
    return 5


@register.simple_tag
def item_change(trend, key: str, scale: str) -> str:
    """The change in a leaders' mean since the previous round, or a dash if either was withheld;
    marked ≈ where either round shows the mean less exactly than to a tenth."""
    if not trend or not trend.previous:
        return ""
    change = trend.item(key, scale)
    return ("≈" if change is not None and trend.item_is_approximate(key, scale) else "") + signed(change)


@register.simple_tag
def theme_change(trend, key: str, measure: str) -> str:
    if not trend or not trend.previous:
        return ""
    change = trend.theme(key, measure)
    return ("≈" if change is not None and trend.theme_is_approximate(key) else "") + signed(change)


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template, or None."""
    return mapping.get(key) if mapping else None


@register.filter
def minutes(value) -> str:
    """Minutes from the start of a meeting as h:mm (0:00, 1:35)."""
    hours, rest = divmod(int(value), 60)
    return f"{hours}:{rest:02d}"


@register.simple_tag
def targeted_items(theme, agreement, trend) -> list[str]:
    """The items an agreement aimed at, each with its change since then: "Title (+0,4)".

    A need's change is the leaders' experience; an expectation's, their self-assessment.
    """
    wanted = set(agreement.item_keys)
    found = [(need.key, need.title, "experience") for need in theme.needs if need.key in wanted]
    found += [(exp.key, exp.title, "fulfilment") for exp in theme.expectations if exp.key in wanted]
    return [f"{title} ({item_change(trend, key, scale) or '–'})" for key, title, scale in found]


@register.simple_tag
def course_theme_rows(course, theme_key: str) -> list[dict]:
    """Per round of the course: a theme's figures and its change since the round before."""
    return course.theme_rows(theme_key) if course else []


@register.simple_tag
def course_item_rows(course, key: str, scale: str) -> list[dict]:
    """Per round of the course: an item's figure where shown, and its change where both rounds showed it."""
    return course.item_rows(key, scale) if course else []


@register.filter
def approx(value, approximate) -> str:
    """A figure as `score` shows it, marked ≈ where it is shown to the nearest half or whole point."""
    text = score_text(value)
    return f"≈{text}" if approximate and value is not None else text


@register.filter
def withheld_note(figure) -> str:
    """Why a figure, or a theme's figures, are not shown (services.report_charts.withheld_note)."""
    from gensidig.services.report_charts import withheld_note as note

    return note(figure)
