"""What the import commands share: the practice by code, and printing the summary."""

import json

from django.core.management.base import CommandError

from accounts.models import Practice


def practice_by_code(code: str) -> Practice:
    practice = Practice.objects.filter(code=code).first()
    if practice is None:
        raise CommandError(f"No practice with code {code!r}.")
    return practice


def write_summary(command, summary, *, as_json: bool) -> None:
    if as_json:
        command.stdout.write(json.dumps(summary.to_json(), indent=2))
    else:
        for line in summary.lines():
            command.stdout.write(line)
