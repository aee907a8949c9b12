"""What was rendered from a closed round's figures, kept so that the next reader gets it at once.

A closed round's figures never change, so its report pages and PDFs are rendered once and kept in
the database: every app server reads the same copy, and nothing but the database is needed. What
can change around them (agreements, sharing, the guide's choices, a person's name, a purge)
moves the team's generation on, which retires every copy of the team's rounds
(services/results/rendered.py).
"""

from django.db import models

from .organisation import Team
from .survey import Round


class RenderGeneration(models.Model):
    """How often what a team's closed rounds show has changed since their first render.

    Every kept copy belongs to one generation; moving it on makes the copies of the old one useless
    (and deletes them). The row is also the lock a render and a change take turns on.
    """

    team = models.OneToOneField(Team, on_delete=models.CASCADE, primary_key=True, related_name="+")
    number = models.PositiveBigIntegerField(default=0)


class Rendered(models.Model):
    """One kept render of a closed round: a report page's parts, or a PDF.

    `name` says what it is and for whom (the audience, the language, the guide's choices); `version`
    the code and the round's own fields it was rendered with; `generation` the team's generation
    then. Only what the page or file itself shows is kept: never a comment, a name of the reader,
    a form token, or when it was made. It goes with its round (and so with the team and the
    organisation), and with the round's figures when the retention period ends.
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=64)
    generation = models.PositiveBigIntegerField()
    content = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "name"], name="rendered_name_unique_in_round")]

    def __str__(self):
        return f"{self.name} (round {self.round_id})"
