"""The ``gensidig`` console command: Django's management commands under one name.

``gensidig create-team ...`` runs the management command ``create_team``; hyphens and
underscores are the same, so commands read naturally on a shell.
"""

import os
import sys


def command_line(argv: list[str]) -> list[str]:
    """Django's argv for ours: the program is `gensidig`, and `create-team` means `create_team`."""
    argv = ["gensidig", *argv[1:]]
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    return argv


# Commands that serve web requests; every other command is batch work (a job), whose database
# statements are not bounded by the web's statement timeout (settings.GENSIDIG_DB_STATEMENT_TIMEOUT).
SERVING_COMMANDS = frozenset({"serve", "demo", "runserver"})


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gensidig.settings")
    argv = command_line(list(sys.argv if argv is None else argv))
    if len(argv) > 1:
        # Set, not defaulted: a server started from a shell or a process that ran a job before
        # (and so has "job" in its environment) must still bound its statements.
        os.environ["GENSIDIG_PROCESS"] = "web" if argv[1] in SERVING_COMMANDS else "job"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
