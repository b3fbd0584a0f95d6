from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imports.batches import Summary
from imports.management.commands._common import practice_by_code, write_summary
from imports.x12 import X12Error, kind_of, read


class Command(BaseCommand):
    help = "Import X12 files (837P claims, 835 remittances) for a practice; each file once."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="837P and/or 835 files, in the order to import.")
        parser.add_argument("--practice", required=True, help="Practice code.")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary object.")

    def handle(self, *args, **options):
        from imports.claims import import_837
        from imports.remittance import import_835

        practice = practice_by_code(options["practice"])
        total = Summary()
        for name in options["files"]:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"{name}: no such file.")
            content = path.read_bytes()
            try:
                kind = kind_of(read(content))
            except X12Error:
                kind = "835" if path.suffix == ".835" else "837"
            importer = import_835 if kind == "835" else import_837
            total.add(importer(practice=practice, content=content, file_name=path.name))
        write_summary(self, total, as_json=options["json"])
