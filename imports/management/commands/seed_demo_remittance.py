"""`manage.py seed_demo_remittance`: a claims file and its remittance for the first demo practice
(imports.demo); run after `seed_demo` by `make run`. Running it again imports nothing."""

from django.core.management.base import BaseCommand

from imports.demo import seed_demo_remittance


class Command(BaseCommand):
    help = "Import a demo claims file and the payer's remittance for the first practice (idempotent)."

    def handle(self, *args, **options):
        counts = seed_demo_remittance()
        if not counts["practice"]:
            self.stdout.write("Demo remittance: no practice to import for.")
            return
        if counts["already_imported"] == 2:
            self.stdout.write(f"Demo remittance: imported for {counts['practice']} before; nothing changed.")
            return
        self.stdout.write(
            f"Demo remittance for {counts['practice']}: {counts['claims_created']} claims billed, "
            f"{counts['claims_posted']} paid by the remittance, {counts['unmatched']} for the review list."
        )
