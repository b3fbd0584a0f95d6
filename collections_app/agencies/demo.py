"""Demo agencies, so a fresh `make run` shows the manager agency candidates: two agencies per
practice (the default takes CSV, the other fixed-width), final notices sent 35 to 90 days ago on
a few active accounts with a balance over the practice's minimum (candidates today), a few sent
last week (not yet), and one small batch already placed through the services (its file to
download; only when seeding for today) with the agency's first payments on it. Where a practice
follows 501(r), the candidates also get their first statement and written notice. A handful of
rows per practice whatever the number of accounts: the accounts are the first by id that fit (one
indexed scan each).
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef

from accounts.models import PatientAccount, Practice
from accounts.selectors import practice_today
from collections_app.agencies import services
from collections_app.models import AccountHold, Agency, Contact, Placement
from core.access import practice_ids_for
from core.models import StaffUser
from payment_plans.models import PaymentPlan

AGENCIES = (
    ("Keystone Recovery Services", "Pat Keyes", "5185550150", "placements@keystone.example", "25.00", "csv", True),
    (
        "Second Chance Collections",
        "Lee Moreno",
        "5125550177",
        "intake@secondchance.example",
        "30.00",
        "fixed_width",
        False,
    ),
)
READY_PER_PRACTICE = 12
NOT_YET_PER_PRACTICE = 3
PLACED_IN_DEMO = 3


def _at(day: date, hour: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZoneInfo(zone))


def _letter(account_id: int, practice_id: int, outcome: str, when: datetime, rep) -> Contact:
    return Contact(
        account_id=account_id,
        practice_id=practice_id,
        channel=Contact.Channel.LETTER,
        party=Contact.Party.GUARANTOR,
        outcome=outcome,
        occurred_at=when,
        logged_by=rep,
        notes="Mailed by the statement vendor.",
    )


def seed_agencies(*, seed: int, today: date) -> dict[str, int]:
    rnd = random.Random(seed * 4099 + today.toordinal())
    rep = StaffUser.objects.filter(username="medium").first()
    manager = StaffUser.objects.filter(username="manager").first()
    letters = []
    agencies = 0
    chosen: dict[int, list[int]] = {}
    paused = Exists(AccountHold.objects.filter(account=OuterRef("pk"), released_at__isnull=True)) | Exists(
        PaymentPlan.objects.filter(account=OuterRef("pk"), status__in=PaymentPlan.RUNNING_STATUSES)
    )
    for practice in Practice.objects.filter(is_active=True).order_by("id"):
        for name, contact, phone, email, rate, layout, default in AGENCIES:
            _, created = Agency.objects.get_or_create(
                practice=practice,
                name=name,
                defaults={
                    "contact_name": contact,
                    "phone": phone,
                    "email": email,
                    "commission_rate": Decimal(rate),
                    "file_layout": layout,
                    "is_default": default,
                },
            )
            agencies += created
        accounts = list(
            PatientAccount.objects.filter(
                practice=practice,
                status=PatientAccount.Status.ACTIVE,
                patient_balance__gte=max(practice.agency_min_balance, Decimal("150.00")),
            )
            .exclude(paused)
            .exclude(contacts__outcome=Contact.Outcome.FINAL_NOTICE_SENT)
            .order_by("id")
            .values_list("id", flat=True)[: READY_PER_PRACTICE + NOT_YET_PER_PRACTICE]
        )
        zone = practice.time_zone
        for position, account_id in enumerate(accounts):
            ready = position < READY_PER_PRACTICE
            days_ago = rnd.randint(35, 90) if ready else rnd.randint(3, 20)
            letters.append(
                _letter(
                    account_id,
                    practice.pk,
                    Contact.Outcome.FINAL_NOTICE_SENT,
                    _at(today - timedelta(days=days_ago), 9, zone),
                    rep,
                )
            )
            if practice.follows_501r and ready:
                letters.append(
                    _letter(
                        account_id,
                        practice.pk,
                        Contact.Outcome.STATEMENT_SENT,
                        _at(today - timedelta(days=days_ago + 130), 9, zone),
                        rep,
                    )
                )
                letters.append(
                    _letter(
                        account_id,
                        practice.pk,
                        Contact.Outcome.NOTICE_501R_SENT,
                        _at(today - timedelta(days=days_ago + 5), 9, zone),
                        rep,
                    )
                )
        chosen[practice.pk] = accounts[:READY_PER_PRACTICE]
    Contact.objects.bulk_create(letters)
    placed = agency_payments = 0
    if manager is not None and not Placement.objects.exists():
        practice_ids = practice_ids_for(manager)
        first = next((pk for pk in sorted(chosen) if pk in practice_ids and chosen[pk]), None)
        # The services post the bad-debt write-off today: only a seed for today places (a seed for
        # another date, as the tests make, would put a ledger row after its own today).
        if first is not None and practice_today(Practice.objects.get(pk=first)) == today:
            ids = chosen[first][-PLACED_IN_DEMO:]
            preview = services.placement_preview(acting_user=manager, account_ids=ids)
            if preview.count:
                batches = services.placement_place(
                    acting_user=manager, account_ids=ids, fingerprint=preview.fingerprint
                )
                placed = sum(batch.account_count for batch in batches)
                agency_payments = _demo_agency_payments(manager, batches, today)
    return {
        "agencies": agencies,
        "final_notices": sum(len(ids) for ids in chosen.values()),
        "placed": placed,
        "agency_payments": agency_payments,
    }


def _demo_agency_payments(manager, batches, today: date) -> int:
    """What the agency has sent back so far: its payment file for the first two placed accounts (a
    part payment and one paid in full, which closes its placement), and one payment posted by hand
    from a remittance statement. Through the services, so the ledger, bad-debt recovery and the
    agency recovery report follow as they would for a real file."""
    posted = 0
    for batch in batches:
        placements = list(batch.placements.select_related("account").order_by("id"))
        if not placements:
            continue
        agency, rate = batch.agency, batch.agency.commission_rate / Decimal(100)
        rows = []
        for placement, share in zip(placements[:2], (Decimal("0.40"), Decimal("1")), strict=False):
            gross = (placement.placed_balance * share).quantize(Decimal("0.01"))
            rows.append((placement.account.account_number, gross, (gross * rate).quantize(Decimal("0.01"))))
        lines = ["account_number,payment_date,gross,commission"]
        lines += [f"{number},{today.isoformat()},{gross},{fee}" for number, gross, fee in rows]
        lines.append(f"TOTAL,{len(rows)},{sum(r[1] for r in rows)},{sum(r[2] for r in rows)}")
        result = services.agency_payment_import(
            acting_user=manager,
            agency_id=agency.pk,
            data=("\r\n".join(lines) + "\r\n").encode(),
            file_name=f"{agency.name.split()[0].lower()}-remittance-{today:%Y%m%d}.csv",
        )
        posted += result.posted_count
        if len(placements) > 2:
            _payment, replayed = services.agency_payment_record(
                acting_user=manager,
                placement_id=placements[2].pk,
                paid_on=today,
                gross=(placements[2].placed_balance / 4).quantize(Decimal("0.01")),
                reference=f"RMT-{batch.pk:05d}",
            )
            posted += not replayed
    return posted
