from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imports.management.commands._common import practice_by_code, write_summary


class Command(BaseCommand):
    help = "Import a Synthea CSV export (patients, encounters, claims, claim transactions) up to a cut-off date."

    def add_arguments(self, parser):
        parser.add_argument("folder", help="The folder holding Synthea's CSV files.")
        parser.add_argument("--practice", required=True, help="Practice code.")
        parser.add_argument("--cutoff", required=True, help="YYYY-MM-DD: nothing dated after it is imported.")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary object.")

    def handle(self, *args, **options):
        from imports.synthea import import_synthea

        try:
            cutoff = date.fromisoformat(options["cutoff"])
        except ValueError:
            raise CommandError("--cutoff must be a date, YYYY-MM-DD.") from None
        folder = Path(options["folder"])
        if not folder.is_dir():
            raise CommandError(f"{folder}: no such folder.")
        practice = practice_by_code(options["practice"])
        summary = import_synthea(practice=practice, folder=folder, cutoff=cutoff)
        write_summary(self, summary, as_json=options["json"])
