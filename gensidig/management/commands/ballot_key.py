"""`gensidig ballot-key`: make a master key, check the open rounds, or move every round key to a new one."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations

from gensidig.services.ballots import keys


class Command(BaseCommand):
    help = (
        "Manage the ballot master key, which wraps every open round's private key and never enters the "
        "database. `generate` makes one, `check` verifies this server can count every open round, and "
        "`rewrap` moves every round key to a new master key in one transaction."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        generate = actions.add_parser("generate", help="Make a new master key and print it, or write it to a file.")
        generate.add_argument("--file", type=Path, help="Write it to this file (mode 0600; never overwrites).")
        actions.add_parser("check", help="Fail unless this server's master key opens every open round's key.")
        rewrap = actions.add_parser(
            "rewrap",
            help="Wrap every round key with a new master key (from a file or an environment variable). Afterwards, "
            "give every server the new key.",
        )
        source = rewrap.add_mutually_exclusive_group(required=True)
        source.add_argument("--new-key-file", type=Path, help="A key file made by `generate --file`.")
        source.add_argument("--new-key-env", metavar="NAME", help="The name of an environment variable holding it.")

    @no_translations
    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except keys.BallotKeyError as error:
            raise CommandError(str(error)) from error

    def _generate(self, options):
        key = keys.generate_master_key()
        if options["file"] is None:
            self.stdout.write(key.encoded())
            return
        try:
            keys.write_key_file(options["file"], key)
        except FileExistsError:
            raise CommandError(f"{options['file']} exists already; it is never overwritten.") from None
        self.stdout.write(f"Wrote master key {key.key_id} to {options['file']}.")

    def _check(self, options):
        keys.check_ready_to_serve()
        self.stdout.write(self.style.SUCCESS(f"Master key {keys.master_key().key_id} opens every open round's key."))

    def _rewrap(self, options):
        if options["new_key_file"] is not None:
            new = keys.parse_master_key(options["new_key_file"].read_text(), source=str(options["new_key_file"]))
        else:
            name = options["new_key_env"]
            if not os.environ.get(name):
                raise CommandError(f"The environment variable {name} is not set.")
            new = keys.parse_master_key(os.environ[name], source=name)
        old = keys.master_key()
        moved = keys.rewrap_all(old=old, new=new)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrapped {moved} round key(s) with master key {new.key_id} (was {old.key_id}). "
                "Now give every app server and worker the new key, and keep the old one until they all have it."
            )
        )
