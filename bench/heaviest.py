"""The heaviest account the workspace must still open quickly: 1,000 encounters, 5,000 ledger rows.

Built once per bench database (found again by its account number), every posting through
`accounts.services.transaction_post` like any other money: per visit a charge billed to insurance,
the payer's payment, the contractual adjustment, the patient's share and, for most visits, the
patient's payment. A tenth of the visits are paid only in part, spread over three years of dates of service,
so aging, the open encounters list and the ledger's pages all have real work to do.
"""

from datetime import date, timedelta
from decimal import Decimal

ACCOUNT_NUMBER = "BENCH-HEAVIEST"
ENCOUNTERS = 1_000
ROWS_PER_ENCOUNTER = 5


def ensure_heaviest_account(*, encounters: int = ENCOUNTERS, log=print) -> tuple[int, int, int]:
    """The heaviest account's id, its encounter count and its ledger row count (built if missing)."""
    from django.db.models import Count

    from accounts import services as ledger
    from accounts.models import Encounter, Guarantor, Patient, PatientAccount, Practice, Transaction

    Kind = Transaction.Kind
    existing = PatientAccount.objects.filter(account_number=ACCOUNT_NUMBER).first()
    if existing is not None:
        return existing.pk, existing.encounters.count(), existing.transactions.count()

    practice = Practice.objects.annotate(size=Count("accounts")).order_by("-size").first()
    patient = Patient.objects.create(
        practice=practice,
        medical_record_number="BENCH-HEAVY-1",
        first_name="Harriet",
        last_name="Heaviest",
        date_of_birth=date(1950, 3, 14),
        phone="5550009999",
        address_line1="1 Long Ledger Lane",
        city="Austin",
        state=practice.state or "TX",
        postal_code="78701",
    )
    guarantor = Guarantor.objects.create(
        practice=practice, patient=patient, first_name=patient.first_name, last_name=patient.last_name,
        phone=patient.phone,
    )  # fmt: skip
    account = PatientAccount.objects.create(
        practice=practice, patient=patient, guarantor=guarantor, account_number=ACCOUNT_NUMBER,
        opened_on=date.today() - timedelta(days=3 * 365),
    )  # fmt: skip
    first_day = date.today() - timedelta(days=3 * 365)
    visits = Encounter.objects.bulk_create(
        Encounter(
            practice=practice,
            account=account,
            date_of_service=first_day + timedelta(days=index * (3 * 365 - 30) // encounters),
            rendering_provider="Dr. Ruth Alvarez",
            diagnosis_codes=["E11.9"],
        )
        for index in range(encounters)
    )
    log(f"heaviest account {account.pk}: {encounters:,} encounters created; posting {encounters * 5:,} rows")
    for index, visit in enumerate(Encounter.objects.filter(account=account).order_by("date_of_service", "pk")):
        day = visit.date_of_service
        post = {"acting_user": None, "account_id": account.pk, "encounter_id": visit.pk}
        ledger.transaction_post(**post, kind=Kind.CHARGE, insurance_amount=Decimal("240.00"), effective_on=day)
        ledger.transaction_post(
            **post, kind=Kind.INSURANCE_PAYMENT, insurance_amount=Decimal("-150.00"), effective_on=day + timedelta(14)
        )
        ledger.transaction_post(
            **post, kind=Kind.CONTRACTUAL_ADJUSTMENT, insurance_amount=Decimal("-50.00"),
            effective_on=day + timedelta(14),
        )  # fmt: skip
        ledger.transaction_post(
            **post, kind=Kind.TRANSFER_TO_PATIENT, patient_amount=Decimal("40.00"), insurance_amount=Decimal("-40.00"),
            effective_on=day + timedelta(15),
        )  # fmt: skip
        # Nine visits in ten are paid in full; the tenth only in part, so its share stays open.
        paid = Decimal("10.00") if index % 10 == 9 else Decimal("40.00")
        ledger.transaction_post(
            acting_user=None, account_id=account.pk, kind=Kind.PATIENT_PAYMENT, patient_amount=-paid,
            payment_method=Transaction.PaymentMethod.CHECK, reference=f"HEAVY-{visit.pk}",
            effective_on=min(day + timedelta(45), date.today()),
        )  # fmt: skip
        if index and index % 200 == 0:
            log(f"heaviest account: {index:,} of {encounters:,} visits posted")
    del visits
    return account.pk, account.encounters.count(), account.transactions.count()
