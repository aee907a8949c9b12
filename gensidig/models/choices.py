"""Status values and other closed sets, with translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Language(models.TextChoices):
    DANISH = "da", _("Danish")
    ENGLISH = "en", _("English")


class Role(models.TextChoices):
    # Translators: the person who answers as one of the chief's leaders.
    LEADER = "leader", pgettext_lazy("respondent role", "Leader")
    # Translators: the person who leads the team of leaders.
    CHIEF = "chief", pgettext_lazy("respondent role", "Chief")


class ItemKind(models.TextChoices):
    # Translators: something leaders need from their chief (a survey item).
    NEED = "need", _("Need")
    # Translators: something the chief expects of the leaders (a survey item).
    EXPECTATION = "expectation", _("Expectation")


class Scale(models.TextChoices):
    IMPORTANCE = "importance", _("Importance")
    EXPERIENCE = "experience", _("Experience")
    # Translators: how well an expectation is lived up to.
    FULFILMENT = "fulfilment", _("Fulfilment")


class RoundStatus(models.TextChoices):
    # Translators: a survey round that is accepting answers.
    OPEN = "open", pgettext_lazy("round status", "Open")
    # Translators: a survey round that no longer accepts answers.
    CLOSED = "closed", pgettext_lazy("round status", "Closed")


class Withheld(models.TextChoices):
    """Why a leaders' figure is not shown (DESIGN.md 2.2-2.6)."""

    # Translators: fewer leaders than the anonymity threshold answered the question.
    TOO_FEW = "too_few", _("Too few answers to show")
    # Translators: hidden although enough answered, so that no other team's figure can be worked out.
    PATTERN = "pattern", _("Not shown, to protect a smaller group")
    # Translators: hidden so that it cannot be subtracted from an earlier round of nearly the same leaders.
    HISTORY = "history", _("Not shown, because the team changed little since an earlier round")


class Precision(models.TextChoices):
    """How exactly a leaders' mean is shown: to a tenth, or coarser where an earlier round of nearly
    the same leaders could otherwise be subtracted (services.results.history)."""

    TENTH = "tenth", _("to a tenth")
    HALF = "half", _("to the nearest half point")
    WHOLE = "whole", _("to the nearest whole point")


# Answer values: 1-5 on the scale, 0 for "don't know". A skipped question stores nothing.
DONT_KNOW = 0
SCALE_VALUES = (1, 2, 3, 4, 5)
ANSWER_VALUES = (DONT_KNOW, *SCALE_VALUES)

# Which scales each role answers, per kind of item. This is the shape of the instrument:
# leaders rate the chief's behaviours (needs) for importance and experience and rate
# themselves on the chief's expectations; the chief rates their own behaviour and how
# important and how well met each expectation is.
SCALES_BY_ROLE_AND_KIND = {
    (Role.LEADER, ItemKind.NEED): (Scale.IMPORTANCE, Scale.EXPERIENCE),
    (Role.LEADER, ItemKind.EXPECTATION): (Scale.FULFILMENT,),
    (Role.CHIEF, ItemKind.NEED): (Scale.EXPERIENCE,),
    (Role.CHIEF, ItemKind.EXPECTATION): (Scale.IMPORTANCE, Scale.FULFILMENT),
}
