import shlex
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations

from gensidig.services.organisation.chart import ImportPlan, import_chart

SHOWN = 20  # entries of each list in the preview


class Command(BaseCommand):
    help = (
        "Import an organisation's chart from a CSV or XLSX file with the columns email, name, manager_email "
        "and unit (optionally title and language). Shows what would change; applies it only with --yes."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV (',' or ';', UTF-8 or cp1252) or XLSX file.")
        parser.add_argument("--org", required=True, help="The organisation's short name (created if new).")
        parser.add_argument("--org-name", help="The organisation's full name, when it is created.")
        parser.add_argument("--yes", action="store_true", help="Apply the changes (without it, only show them).")

    @no_translations  # the console speaks English; e-mails and pages follow each person's language
    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}.") from error
        result = import_chart(
            organisation_slug=options["org"],
            organisation_name=options["org_name"],
            data=data,
            filename=path.name,
            apply=options["yes"],
        )
        if result.errors:
            for error in result.errors:
                self.stderr.write(self.style.ERROR(error.message))
            count = len(result.errors)
            raise CommandError(f"{count} problem{'s' if count != 1 else ''} in {path.name}; nothing was imported.")
        self._show(result.plan, options["org"])
        if result.applied:
            self.stdout.write(self.style.SUCCESS(f"Imported {path.name} into '{options['org']}'."))
        elif result.plan.has_changes:
            self.stdout.write(
                "Nothing has been changed yet. To apply this, run:\n"
                f"  gensidig import-org {shlex.quote(options['file'])} --org {shlex.quote(options['org'])} --yes"
            )
        else:
            self.stdout.write("The organisation already matches the file; there is nothing to apply.")

    def _show(self, plan: ImportPlan, slug: str) -> None:
        write = self.stdout.write
        if not plan.organisation_exists:
            write(f"The organisation '{slug}' is new.")
        write(
            f"People: {len(plan.new)} new, {len(plan.changed)} changed, {plan.unchanged} unchanged, "
            f"{len(plan.leaving)} leaving."
        )
        write(
            f"Teams: {len(plan.teams_formed)} formed, {len(plan.teams_changed)} changed, "
            f"{plan.teams_unchanged} unchanged, {len(plan.teams_dissolved)} dissolved."
        )
        self._list(
            "New people",
            [
                f"+ {p.email} ({p.name or '-'}), {p.unit or 'no unit'}, reports to {p.manager_email or 'nobody'}"
                for p in plan.new
            ],
        )
        self._list(
            "Changed people",
            [
                f"~ {c.email}: "
                + "; ".join(
                    (["returns"] if c.returning else [])
                    + [f"{change.field} '{change.old}' -> '{change.new}'" for change in c.changes]
                )
                for c in plan.changed
            ],
        )
        self._list("Leaving", [f"- {p.email} ({p.name or '-'})" for p in plan.leaving])
        self._list(
            "Teams formed",
            [
                f"+ {t.name} [{t.slug}], chief {t.chief_email}, {t.leaders} leaders"
                + (f", in {t.parent_name}" if t.parent_name else ", at the top")
                for t in plan.teams_formed
            ],
        )
        self._list("Teams changed", [self._team_change(t) for t in plan.teams_changed])
        self._list("Teams dissolved", [f"- {t.name} [{t.slug}], chief {t.chief_email}" for t in plan.teams_dissolved])

    @staticmethod
    def _team_change(change) -> str:
        parts = []
        if change.old_name:
            parts.append(f"renamed from '{change.old_name}'")
        if change.leaders_added:
            parts.append("joining: " + ", ".join(change.leaders_added))
        if change.leaders_removed:
            parts.append("leaving: " + ", ".join(change.leaders_removed))
        if change.new_parent_name is not None:
            parts.append(f"now in {change.new_parent_name}" if change.new_parent_name else "now at the top")
        return f"~ {change.name} [{change.slug}]: " + "; ".join(parts)

    def _list(self, title: str, lines: list[str]) -> None:
        if not lines:
            return
        self.stdout.write(f"{title}:")
        for line in lines[:SHOWN]:
            self.stdout.write(f"  {line}")
        if len(lines) > SHOWN:
            self.stdout.write(f"  ... and {len(lines) - SHOWN} more")
