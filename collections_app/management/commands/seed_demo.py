"""manage.py seed_demo --accounts N [--practices P] [--seed S] [--today YYYY-MM-DD] [--if-empty]

Here, not in accounts: it seeds the patient record and ledger (accounts.demo), then the work of
collecting on top of it (collections_app.demo).
"""

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.demo import seed_demo
from accounts.models import PatientAccount
from collections_app.demo import seed_collections_activity


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Load deterministic, realistic demo data (practices, patients, accounts, encounters, claims, "
        "the ledger, appointments) and the demo users, in one transaction. The same --seed and --today "
        "give the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=_positive, default=2_000, help="Patient accounts (default 2000).")
        parser.add_argument("--practices", type=int, default=3, help="Practices, at least 2 (default 3).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            help="The date the data is relative to (default: today). Pass it to reproduce data exactly.",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already has accounts."
        )
        parser.add_argument("--quiet-progress", action="store_true", help="No progress lines.")

    def handle(self, *args, **options):
        if options["practices"] < 2:
            raise CommandError("--practices must be at least 2 (the outsider demo user works only the last one).")
        if options["if_empty"] and PatientAccount.objects.exists():
            self.stdout.write("Accounts already exist; demo data not loaded (--if-empty).")
            return
        today = options["today"] or timezone.localdate()
        accounts = options["accounts"]
        step = max(accounts // 10, 1)
        reported = [0]

        def progress(done, total, seconds):
            if options["quiet_progress"] or total < 20_000:
                return
            if done - reported[0] >= step or done == total:
                reported[0] = done
                self.stdout.write(f"  {done:,} / {total:,} accounts loaded ({seconds:.0f} s)")

        self.stdout.write(
            f"Seeding {accounts:,} accounts over {options['practices']} practices "
            f"(seed {options['seed']}, today {today.isoformat()})..."
        )
        result = seed_demo(
            accounts=accounts, practices=options["practices"], seed=options["seed"], today=today, progress=progress
        )
        activity = seed_collections_activity(seed=options["seed"], today=today)
        counts = ", ".join(f"{n:,} {table.removeprefix('accounts_')}" for table, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Loaded {counts} in {result.seconds:.1f} s."))
        if options["verbosity"] > 1 or result.bulk_ddl:
            phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.phases.items())
            self.stdout.write(f"Phases: {phases}.")
        self.stdout.write("Collections activity: " + ", ".join(f"{n:,} {kind}" for kind, n in activity.items()) + ".")
        self.stdout.write(
            f"Patient balances {result.patient_total}, insurance balances {result.insurance_total}; "
            f"practices: {', '.join(result.practices)}."
        )
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD}):")
        for username, tier, practices in result.logins:
            scope = "all practices" if tier == "Director" else ", ".join(practices) or "no practices"
            suffix = " (site administrator)" if username == "admin" else ""
            self.stdout.write(f"  {username:<9} {tier:<10} {scope}{suffix}")
