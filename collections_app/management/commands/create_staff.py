"""manage.py create_staff USERNAME --tier {low,medium,management,director} [--practice CODE ...] [--password P]"""

import getpass
import secrets
import sys

from django.core.management.base import BaseCommand, CommandError

from collections_app import services
from core.errors import ApplicationError
from core.models import Tier


class Command(BaseCommand):
    help = (
        "Create a staff user with an access tier and the practices they may work. Without --password, "
        "asks for one (or, with no terminal, generates one and prints it once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--tier", required=True, choices=sorted(services.TIER_BY_NAME, key=services.TIER_BY_NAME.get)
        )
        parser.add_argument(
            "--practice",
            action="append",
            default=[],
            metavar="CODE",
            help="A practice code this user may work; repeat for several. Directors see every practice.",
        )
        parser.add_argument("--password", help="Initial password (checked by the password rules).")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args, **options):
        tier = services.tier_from_name(options["tier"])
        generated = False
        try:
            practices = services.practices_from_codes(options["practice"])
            password = options["password"]
            if password is None:
                password, generated = self._ask_password()
            user = services.staff_create(
                acting_user=None,
                username=options["username"],
                tier=tier,
                password=password,
                practices=practices,
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        if tier >= Tier.DIRECTOR:
            scope = "every practice (Director)"
        else:
            scope = ", ".join(p.code for p in practices) or "none yet (grant one in /admin/)"
        self.stdout.write(self.style.SUCCESS(f"Created {user.username} ({tier.label}); practices: {scope}."))
        if generated:
            self.stdout.write(f"Password (shown once): {password}")

    def _ask_password(self) -> tuple[str, bool]:
        if not sys.stdin.isatty():
            return secrets.token_urlsafe(15), True
        first = getpass.getpass("Password: ")
        if not first:
            return secrets.token_urlsafe(15), True
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("The two passwords differ.")
        return first, False
