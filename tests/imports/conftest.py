"""Where the shared sample files are, and a helper to count every row of every model."""

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

# ../shared/data beside the project, or wherever SAMPLE_DATA_DIR says (a clone made elsewhere).
DATA = Path(os.environ.get("SAMPLE_DATA_DIR") or Path(__file__).resolve().parents[2].parent / "shared" / "data")
X12 = DATA / "x12"
SYNTHEA = DATA / "synthea"


def need(folder: Path) -> Path:
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the shared sample data is not on this machine)")
    return folder


def row_counts() -> dict[str, int]:
    """Rows of every model of the project: what "a second import changes nothing" compares."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def run_json(command: str, *args) -> dict:
    out = StringIO()
    call_command(command, *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def cas_pr_sum(text: str) -> "Decimal":  # noqa: F821
    """The CAS*PR amounts of an 835, summed with a plain split (no reader of ours)."""
    from decimal import Decimal

    element = text[3] if text.startswith("ISA") else text[2]
    terminator = text[105] if text.startswith("ISA") else "~"
    total = Decimal("0.00")
    for raw in text.split(terminator):
        parts = raw.strip().split(element)
        if parts[0] == "CAS" and parts[1] == "PR":
            total += sum((Decimal(parts[i]) for i in range(3, len(parts), 3) if parts[i]), Decimal("0.00"))
    return total
