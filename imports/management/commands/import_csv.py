from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imports.csv_import import LAYOUTS, import_csv, template_csv
from imports.management.commands._common import practice_by_code, write_summary


class Command(BaseCommand):
    help = (
        "Import a CSV of demographics, appointments or opening balances (README, Imports); "
        "--template prints the header and an example row."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(LAYOUTS), help="What the file holds.")
        parser.add_argument("file", nargs="?", help="The CSV file (UTF-8).")
        parser.add_argument("--practice", help="Practice code (required to import).")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary object.")
        parser.add_argument("--template", action="store_true", help="Print the template (header and an example row).")

    def handle(self, *args, **options):
        if options["template"]:
            self.stdout.write(template_csv(options["kind"]), ending="")
            return
        if not options["file"] or not options["practice"]:
            raise CommandError("Give the file and --practice (or --template).")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        practice = practice_by_code(options["practice"])
        summary = import_csv(practice=practice, kind=options["kind"], content=path.read_bytes(), file_name=path.name)
        write_summary(self, summary, as_json=options["json"])
