"""Demo payment plans, so a fresh `make run` shows plans on accounts, in the rep's workspace and in
the manager's plan report: in each of the rep's practices a few balances set up on monthly plans
today through the services (the patient agreed on the phone), most with a down payment taken by
card, and one only proposed. Deterministic for a seed and date; a handful of plans whatever the
number of accounts (the candidates are the first accounts by id that fit, one indexed scan).
"""

import random
from datetime import date
from decimal import Decimal

from django.db import transaction

from accounts import services as ledger
from accounts.models import PatientAccount, Transaction
from accounts.selectors import practice_today
from core.access import practice_ids_for
from core.errors import ApplicationError
from core.models import StaffUser
from payment_plans import services

PLANS_PER_PRACTICE = 6
CANDIDATES = 400
LOWEST_BALANCE = Decimal("300.00")
HIGHEST_BALANCE = Decimal("5000.00")
CENTS = Decimal("0.01")


@transaction.atomic
def seed_payment_plans(*, seed: int, today: date) -> dict[str, int]:
    rep = StaffUser.objects.filter(username="medium").first()
    if rep is None:
        return {"payment_plans": 0}
    rnd = random.Random(seed * 15485863 + today.toordinal())
    candidates = (
        PatientAccount.objects.filter(
            practice_id__in=practice_ids_for(rep),
            status=PatientAccount.Status.ACTIVE,
            patient_balance__gte=LOWEST_BALANCE,
            patient_balance__lte=HIGHEST_BALANCE,
            attorney_represented=False,
            cease_communication_on__isnull=True,
        )
        .select_related("practice")
        .order_by("id")[:CANDIDATES]
    )
    chosen: dict[int, list[PatientAccount]] = {}
    for account in candidates:
        # The services set plans up on the practice's real today: only when seeding for today,
        # which in a practice a few time zones away may already (or still) be the next (or the
        # previous) date; seeding for another date sets up no plans.
        if abs((practice_today(account.practice) - today).days) > 1:
            continue
        picked = chosen.setdefault(account.practice_id, [])
        if len(picked) < PLANS_PER_PRACTICE and rnd.random() < 0.3:
            picked.append(account)
    created = 0
    for accounts in chosen.values():
        for position, account in enumerate(accounts):
            practice = account.practice
            balance = account.patient_balance
            months = min(practice.plan_max_months, rnd.choice((6, 9, 12)))
            down = (balance * Decimal(rnd.choice(("0.10", "0.15", "0.20")))).quantize(CENTS)
            down = max(down, (balance * practice.plan_min_down_payment_percent / 100).quantize(CENTS))
            if (balance - down) / months < practice.plan_min_installment:
                months = max(1, int((balance - down) // practice.plan_min_installment))
            proposed_only = position == len(accounts) - 1 and len(accounts) > 1
            try:
                with transaction.atomic():
                    plan = services.plan_create(
                        acting_user=rep,
                        account_id=account.pk,
                        down_payment=down,
                        installment_count=months,
                        day_of_month=rnd.choice((1, 5, 15, 20)),
                        activate=not proposed_only,
                    )
            except ApplicationError:
                continue  # terms this practice's policy refuses: the next account instead
            created += 1
            if proposed_only or not down:
                continue
            ledger.transaction_post(
                acting_user=rep,
                account_id=account.pk,
                kind=Transaction.Kind.PATIENT_PAYMENT,
                patient_amount=-down,
                payment_method=Transaction.PaymentMethod.CARD,
                reference=f"DEMO-PLAN-{plan.pk}-DOWN",
                memo="Down payment on the payment plan",
                effective_on=practice_today(practice),
            )
            services.plan_payment_received(account_id=account.pk, acting_user=rep)
    return {"payment_plans": created}
