from django.core.management.base import BaseCommand, no_translations

from gensidig.services.retention import purge_expired


class Command(BaseCommand):
    help = "Delete the answers of rounds whose organisation's retention period is over (run daily from cron)."

    @no_translations
    def handle(self, *args, **options):
        purged = purge_expired()
        self.stdout.write(
            f"Deleted the answers of {purged.rounds} round(s): {purged.counters} counter rows, "
            f"{purged.comments} comments."
        )
