"""Demo remittance for `make run`: the first practice's claims file and the payer's remittance for
it, so the imports page, the managers' review list of unmatched claims and the ledger's insurance
lines have something to show from the start. The remittance pays ten of the twelve claims billed
and names two claims this office never billed (another office's patients, as payers do send), which
go to the review list. Deterministic: a second seed finds both files imported and changes nothing."""

from datetime import date

from django.contrib.auth import get_user_model

from accounts.models import Practice
from imports import x12_generator as generator
from imports.claims import import_837
from imports.remittance import import_835

DEMO_CLAIMS = 12
DEMO_PAID = 10
DEMO_UNBILLED = 2


def seed_demo_remittance() -> dict[str, int | str]:
    practice = Practice.objects.filter(is_active=True).order_by("pk").first()
    if practice is None:
        return {"practice": "", "claims_created": 0, "claims_posted": 0, "unmatched": 0, "already_imported": 0}
    # Imported by the demo billing manager, as from the upload page (None on a seed without users).
    manager = get_user_model().objects.filter(username="manager", is_active=True).first()
    billed = generator.generate_claims(DEMO_CLAIMS, seed=26, prefix="DEMO", first_day=date(2026, 9, 8))
    unbilled = generator.generate_claims(DEMO_UNBILLED, seed=27, prefix="ELSE", first_day=date(2026, 9, 10))
    claims = import_837(
        practice=practice,
        content=generator.write_837(billed, control="2601"),
        file_name="demo-claims-2026-09.837",
        acting_user=manager,
    )
    remittance = import_835(
        practice=practice,
        content=generator.write_835(billed[:DEMO_PAID] + unbilled, trace="EFT20261015", control="2602"),
        file_name="demo-remittance-2026-10-15.835",
        acting_user=manager,
    )
    return {
        "practice": practice.code,
        "claims_created": claims.claims_created,
        "claims_posted": remittance.claims_posted,
        "unmatched": sum(1 for entry in remittance.unmatched_claims if entry["new"]),
        "already_imported": claims.files_already_imported + remittance.files_already_imported,
    }
