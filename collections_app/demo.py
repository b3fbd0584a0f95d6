"""Demo collections activity on top of the seeded ledger: contacts, promises, holds, returned mail,
inquiries, consents, follow-up dates and rep assignments, so a fresh `make run` shows reps a
realistic day. Deterministic for a seed and date; bulk inserts (a few statements per kind).

A slice of the accounts with a patient balance (1 in SAMPLE_EVERY, chosen by id) gets activity; at
2,000 demo accounts that is about 120 accounts, at 1M about 60,000.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F

from accounts.models import PatientAccount
from collections_app.agencies.demo import seed_agencies
from collections_app.models import (
    AccountHold,
    AccountNote,
    BillingInquiry,
    Contact,
    ContactConsent,
    PromiseToPay,
    RepAssignment,
    ReturnedMail,
)
from core.access import practice_ids_for
from core.models import StaffUser
from payment_plans.demo import seed_payment_plans
from writeoffs.demo import seed_writeoff_requests

SAMPLE_EVERY = 10
BATCH = 5_000

CALL_NOTES = (
    "Left voicemail with callback number.",
    "No answer; will try again later this week.",
    "Spoke with guarantor; wants an itemized statement first.",
    "Patient asked about insurance payment timing.",
    "Patient will pay on payday.",
)
QUESTIONS = (
    "Why was I billed after insurance paid?",
    "Please send an itemized statement for the last visit.",
    "My insurance changed in January; was the claim sent to the new plan?",
    "I was charged twice for the same visit.",
)
ATTORNEYS = (
    ("Dana Whitfield", "Whitfield & Cole LLP", "2125550142"),
    ("Marcus Reyes", "Reyes Injury Law", "3055550199"),
    ("Helen Park", "Park Legal Group", "3125550117"),
)


def _local_dt(day: date, hour: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZoneInfo(zone))


@transaction.atomic
def seed_collections_activity(*, seed: int, today: date) -> dict[str, int]:
    rnd = random.Random(seed * 7919 + today.toordinal())
    rep = StaffUser.objects.filter(username="medium").first()
    sample = list(
        PatientAccount.objects.filter(patient_balance__gt=0, status=PatientAccount.Status.ACTIVE)
        .annotate(slot=F("id") % SAMPLE_EVERY)
        .filter(slot=seed % SAMPLE_EVERY)
        .order_by("id")
        .values_list(
            "id", "practice_id", "patient_id", "patient__address_is_bad", "patient__deceased_on", "practice__time_zone"
        )
    )
    contacts, promises, notes, holds, mail, inquiries, consents = [], [], [], [], [], [], []
    follow_ups: dict[date, list[int]] = {}
    held: dict[str, list[int]] = {}
    for account_id, practice_id, patient_id, address_is_bad, deceased_on, zone in sample:
        roll = rnd.random()
        common = {"account_id": account_id, "practice_id": practice_id}
        if deceased_on:
            notice = deceased_on + timedelta(days=rnd.randint(20, 60))
            holds.append(
                AccountHold(
                    **common,
                    kind=AccountHold.Kind.PROBATE,
                    placed_on=notice,
                    placed_by=rep,
                    status_before="active",
                    died_on=deceased_on,
                    estate_name="Estate of the patient",
                    executor_name="Jordan Ellis",
                    executor_phone="5185550100",
                    court="County Surrogate's Court",
                    case_number=f"P-{account_id}",
                    published_notice_on=notice,
                    claim_deadline_on=min(notice + timedelta(days=122), deceased_on + timedelta(days=365)),
                    review_on=min(notice + timedelta(days=108), deceased_on + timedelta(days=351)),
                )
            )
            held.setdefault("probate", []).append(account_id)
            continue
        if address_is_bad:
            mail.append(
                ReturnedMail(
                    **common,
                    patient_id=patient_id,
                    received_on=today - timedelta(days=rnd.randint(1, 20)),
                    reason=rnd.choice(ReturnedMail.Reason.values[:4]),
                    recorded_by=rep,
                )
            )
        if roll < 0.06:
            name, firm, phone = rnd.choice(ATTORNEYS)
            placed = today - timedelta(days=rnd.randint(10, 200))
            holds.append(
                AccountHold(
                    **common,
                    kind=AccountHold.Kind.LOP,
                    placed_on=placed,
                    placed_by=rep,
                    status_before="active",
                    attorney_name=name,
                    attorney_firm=firm,
                    attorney_phone=phone,
                    case_number=f"CV-{account_id}",
                    accident_on=placed - timedelta(days=rnd.randint(5, 60)),
                    lop_status=AccountHold.LopStatus.PENDING,
                    review_on=placed + timedelta(days=90),
                )
            )
            held.setdefault("lop", []).append(account_id)
            continue
        if roll < 0.08:
            filed = today - timedelta(days=rnd.randint(5, 300))
            holds.append(
                AccountHold(
                    **common,
                    kind=AccountHold.Kind.BANKRUPTCY,
                    placed_on=filed,
                    placed_by=rep,
                    status_before="active",
                    bankruptcy_chapter=rnd.choice((7, 13)),
                    filed_on=filed,
                    case_number=f"BK-{account_id}",
                )
            )
            held.setdefault("bankruptcy", []).append(account_id)
            continue
        if roll < 0.11:
            received = today - timedelta(days=rnd.randint(1, 60))
            no_surprises = rnd.random() < 0.5
            holds.append(
                AccountHold(
                    **common,
                    kind=AccountHold.Kind.DISPUTE,
                    placed_on=received,
                    placed_by=rep,
                    status_before="active",
                    dispute_kind=AccountHold.DisputeKind.NO_SURPRISES
                    if no_surprises
                    else AccountHold.DisputeKind.BALANCE,
                    received_on=received,
                    ends_on=received + timedelta(days=120) if no_surprises else None,
                )
            )
            held.setdefault("dispute", []).append(account_id)
            continue
        for _ in range(rnd.randint(0, 3)):
            day = today - timedelta(days=rnd.randint(1, 30))
            outcome = rnd.choice(
                (
                    Contact.Outcome.LEFT_MESSAGE,
                    Contact.Outcome.NO_ANSWER,
                    Contact.Outcome.LEFT_MESSAGE,
                    Contact.Outcome.INFORMATION_GIVEN,
                )
            )
            party = Contact.Party.NOBODY if outcome == Contact.Outcome.NO_ANSWER else Contact.Party.PATIENT
            contacts.append(
                Contact(
                    **common,
                    channel=Contact.Channel.OUTBOUND_CALL,
                    party=party,
                    outcome=outcome,
                    notes=rnd.choice(CALL_NOTES),
                    occurred_at=_local_dt(day, rnd.randint(9, 17), zone),
                    logged_by=rep,
                )
            )
        if roll < 0.25:
            made = today - timedelta(days=rnd.randint(1, 25))
            contact = Contact(
                **common,
                channel=Contact.Channel.OUTBOUND_CALL,
                party=Contact.Party.PATIENT,
                outcome=Contact.Outcome.PROMISE_TO_PAY,
                notes="Promised a payment.",
                occurred_at=_local_dt(made, 11, zone),
                logged_by=rep,
            )
            contacts.append(contact)
            promises.append(
                PromiseToPay(
                    **common,
                    contact=contact,
                    amount=Decimal(rnd.choice((25, 40, 50, 75, 100))),
                    promised_on=made,
                    due_on=made + timedelta(days=rnd.randint(3, 14)),
                    created_by=rep,
                )
            )
        elif roll < 0.32:
            received = today - timedelta(days=rnd.randint(0, 20))
            inquiries.append(
                BillingInquiry(
                    **common,
                    channel=rnd.choice(BillingInquiry.Channel.values),
                    question=rnd.choice(QUESTIONS),
                    received_on=received,
                    response_due_on=received + timedelta(days=14),
                    created_by=rep,
                )
            )
        if roll > 0.85:
            consents.append(
                ContactConsent(
                    **common,
                    channel=ContactConsent.Channel.TEXT,
                    granted_on=today - timedelta(days=rnd.randint(30, 400)),
                    granted_how="Intake form",
                    recorded_by=rep,
                )
            )
        if roll > 0.7:
            follow_ups.setdefault(today + timedelta(days=rnd.randint(-5, 5)), []).append(account_id)
            notes.append(AccountNote(**common, body="Check back after the next statement.", created_by=rep))

    Contact.objects.bulk_create(contacts, batch_size=BATCH)
    for promise in promises:
        promise.contact_id = promise.contact.pk
    PromiseToPay.objects.bulk_create(promises, batch_size=BATCH)
    AccountNote.objects.bulk_create(notes, batch_size=BATCH)
    AccountHold.objects.bulk_create(holds, batch_size=BATCH)
    ReturnedMail.objects.bulk_create(mail, batch_size=BATCH)
    BillingInquiry.objects.bulk_create(inquiries, batch_size=BATCH)
    ContactConsent.objects.bulk_create(consents, batch_size=BATCH)
    for kind, ids in held.items():
        PatientAccount.objects.filter(id__in=ids).update(
            status=PatientAccount.Status.HOLD, hold_reason=kind, version=F("version") + 1
        )
    for day, ids in follow_ups.items():
        PatientAccount.objects.filter(id__in=ids).update(follow_up_on=day)
    if rep is not None:
        for practice_id in practice_ids_for(rep):
            RepAssignment.objects.get_or_create(rep=rep, practice_id=practice_id, bucket=RepAssignment.Bucket.ALL)
    writeoffs = seed_writeoff_requests(seed=seed, today=today)
    plans = seed_payment_plans(seed=seed, today=today)
    agencies = seed_agencies(seed=seed, today=today)
    return {
        **writeoffs,
        **plans,
        **agencies,
        "contacts": len(contacts),
        "promises": len(promises),
        "holds": len(holds),
        "returned_mail": len(mail),
        "inquiries": len(inquiries),
        "consents": len(consents),
        "notes": len(notes),
    }
