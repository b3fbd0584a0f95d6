"""`manage.py run_nightly [--date YYYY-MM-DD] [--job NAME]`: the nightly jobs, here and now."""

import argparse
import logging
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from collections_app.nightly.runner import UnknownJobError, run_nightly


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-26.") from None


class Command(BaseCommand):
    help = (
        "Run the nightly jobs in order for a date (default: tonight, by each practice's time zone). "
        "Jobs already done for the date are skipped; failed ones are tried again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=iso_date, dest="as_of", help="The as-of date, YYYY-MM-DD.")
        parser.add_argument("--job", help="Run only this job (by name).")

    def handle(self, *args, as_of=None, job=None, **options):
        # The command prints one line per job itself; the runner's log lines (for the worker's log)
        # would say everything twice here, unless asked for with -v 2.
        runner_log = logging.getLogger("collections_app.nightly.runner")
        previous_level = runner_log.level
        if options["verbosity"] < 2:
            runner_log.setLevel(logging.WARNING)
        try:
            results = run_nightly(as_of=as_of, job=job)
        except UnknownJobError as error:
            raise CommandError(str(error)) from None
        finally:
            runner_log.setLevel(previous_level)
        for result in results:
            style = self.style.ERROR if result.failed else self.style.SUCCESS if result.outcome == "ran" else str
            self.stdout.write(style(result.line()))
        failed = [result.job for result in results if result.failed]
        if failed:
            raise CommandError(f"{len(failed)} nightly job(s) failed: {', '.join(failed)}. Run again to retry.")
