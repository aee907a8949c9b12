"""Figures stored as they are published (DESIGN.md 2.3 and 2.6), and what the audit needs to know.

New rows are written rounded, with rule 3 applied, by services.results. Rows of rounds closed
before this version are brought to the same state here: every stored mean and spread is rounded
half up to a tenth, as the pages always showed it (a chart drew its coordinates from the unrounded
value); where a team's spread or groups, at that rounding, pin both the lowest and the highest
answer, they are left out, as a round closed now would leave them out. Theme figures are rounded
too. Why a withheld figure was withheld was not recorded before: old rows keep it empty.
"""

from decimal import ROUND_HALF_UP, Decimal

import django.db.models.deletion
from django.db import migrations, models

from gensidig.services.results.distributions import Shown, keeping_ends_open


def _tenths(value):
    return int((Decimal(repr(value)) * 10).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _rounded(value):
    return None if value is None else _tenths(value) / 10


def publish_stored_figures(apps, schema_editor):
    ItemStatistic = apps.get_model("gensidig", "ItemStatistic")
    RoundSummary = apps.get_model("gensidig", "RoundSummary")
    RollupStatistic = apps.get_model("gensidig", "RollupStatistic")
    ThemeStatistic = apps.get_model("gensidig", "ThemeStatistic")
    RollupTheme = apps.get_model("gensidig", "RollupTheme")
    left_out = {}
    for row in ItemStatistic.objects.filter(withheld=False, role="leader").iterator(chunk_size=2000):
        row.mean = _rounded(row.mean)
        row.sd = _rounded(row.sd)
        distribution = row.distribution or {}
        if row.mean is not None and row.n and row.n < 8:
            shown = Shown(
                n=row.n,
                mean=_tenths(row.mean),
                sd=None if row.sd is None else _tenths(row.sd),
                groups=tuple(distribution["counts"]) if distribution.get("kind") == "grouped" else None,
            )
            kept = keeping_ends_open(shown)
            if kept != shown:
                left_out[row.round_id] = left_out.get(row.round_id, 0) + 1
                row.sd = None if kept.sd is None else kept.sd / 10
                row.distribution = None if kept.groups is None else distribution
        row.save(update_fields=["mean", "sd", "distribution"])
    for round_id, count in left_out.items():
        RoundSummary.objects.filter(round_id=round_id).update(spreads_left_out=count)
    for row in RollupStatistic.objects.filter(withheld=False).iterator(chunk_size=2000):
        row.mean = _rounded(row.mean)
        row.save(update_fields=["mean"])
    theme_fields = ("importance", "experience", "gap", "disagreement", "chief_self", "blind_spot",
                    "chief_importance", "chief_fulfilment", "leaders_fulfilment", "mirror_gap")
    for model, fields in ((ThemeStatistic, theme_fields), (RollupTheme, ("importance", "experience", "gap"))):
        for row in model.objects.iterator(chunk_size=2000):
            for name in fields:
                setattr(row, name, _rounded(getattr(row, name)))
            row.save(update_fields=list(fields))
    for summary in RoundSummary.objects.exclude(grid_importance=None):
        summary.grid_importance = _rounded(summary.grid_importance)
        summary.grid_experience = _rounded(summary.grid_experience)
        summary.save(update_fields=["grid_importance", "grid_experience"])


class Migration(migrations.Migration):

    dependencies = [
        ('gensidig', '0012_scrub_what_the_old_design_left'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='rollupstatistic',
            name='withheld_rollup_has_no_figures',
        ),
        migrations.AddField(
            model_name='itemstatistic',
            name='precision',
            field=models.CharField(choices=[('tenth', 'to a tenth'), ('half', 'to the nearest half point'), ('whole', 'to the nearest whole point')], default='tenth', max_length=5),
        ),
        migrations.AddField(
            model_name='itemstatistic',
            name='withheld_because',
            field=models.CharField(blank=True, choices=[('too_few', 'Too few answers to show'), ('pattern', 'Not shown, to protect a smaller group'), ('history', 'Not shown, because the team changed little since an earlier round')], default='', max_length=10),
        ),
        migrations.AddField(
            model_name='rollupparticipation',
            name='parent',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='gensidig.team'),
        ),
        migrations.AddField(
            model_name='rollupstatistic',
            name='precision',
            field=models.CharField(choices=[('tenth', 'to a tenth'), ('half', 'to the nearest half point'), ('whole', 'to the nearest whole point')], default='tenth', max_length=5),
        ),
        migrations.AddField(
            model_name='rolluptheme',
            name='approximate',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='roundsummary',
            name='changed_leaders',
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.AddField(
            model_name='roundsummary',
            name='coarsened',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='roundsummary',
            name='hidden_for_history',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='roundsummary',
            name='responses_shown',
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name='roundsummary',
            name='spreads_left_out',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='themestatistic',
            name='approximate',
            field=models.BooleanField(default=False),
        ),
        migrations.AddConstraint(
            model_name='rollupstatistic',
            constraint=models.CheckConstraint(condition=models.Q(('withheld', False), models.Q(('mean__isnull', True), ('n__isnull', True)), _connector='OR'), name='withheld_rollup_has_no_figures'),
        ),
        migrations.RemoveField(
            model_name='rollupstatistic',
            name='sd',
        ),
        migrations.RunPython(publish_stored_figures, migrations.RunPython.noop),
    ]
