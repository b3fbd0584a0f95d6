from django.core.management.base import BaseCommand, CommandError

from accounts.ledger_check import ledger_mismatches


class Command(BaseCommand):
    help = "Prove every account's stored balances equal its ledger sums; exit 1 naming any that do not."

    def add_arguments(self, parser):
        parser.add_argument("--practice", help="Only this practice code.")
        parser.add_argument("--limit", type=int, default=100, help="How many mismatches to list (default 100).")

    def handle(self, *args, **options):
        mismatches, checked = ledger_mismatches(practice_code=options["practice"], limit=options["limit"])
        if not mismatches:
            self.stdout.write(self.style.SUCCESS(f"Ledger OK: {checked} accounts, stored balances equal the ledger."))
            return
        for row in mismatches:
            self.stderr.write(
                f"account {row.account_number} (practice {row.practice_code}, id {row.account_id}): "
                f"stored patient {row.stored_patient} vs ledger {row.ledger_patient}; "
                f"stored insurance {row.stored_insurance} vs ledger {row.ledger_insurance}"
            )
        raise CommandError(f"{len(mismatches)} account(s) whose stored balances differ from the ledger.")
