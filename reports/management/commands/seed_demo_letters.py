"""`manage.py seed_demo_letters`: a few printed letters on demo accounts (reports.demo); run after
`seed_demo` and the night's jobs by `make run`. Running it again adds nothing."""

from django.core.management.base import BaseCommand

from reports.demo import seed_demo_letters


class Command(BaseCommand):
    help = "Give a few demo accounts in each practice the letters a rep would have printed (idempotent)."

    def handle(self, *args, **options):
        counts = seed_demo_letters()
        self.stdout.write(
            f"Demo letters: {counts['letters']} printed, {counts['already']} already there, "
            f"{counts['refused']} refused for the account's state."
        )
