"""Demo letters for `make run`: a few accounts in each practice get letters a rep would have printed (a
request for a correct address, a past-due letter, a billing inquiry's response, and on an account
with an active payment plan its agreement and a reminder), so the account page's "Statements and
letters" panel has something to open before the first statement cycle has mailed anything.
Deterministic and idempotent: the same accounts every time, and an account that already has a letter
of that kind gets none again."""

from accounts.models import PatientAccount, Practice
from collections_app.correspondence.selectors import mailable_q
from core.access import practice_ids_for
from core.errors import ApplicationError
from core.models import StaffUser, Tier
from payment_plans.models import PaymentPlan
from reports.models import Statement
from reports.statements.services import letter_produce

Kind = Statement.Kind
# The letters each chosen account receives, in turn (account 1 the first, account 2 the second...).
DEMO_LETTERS = (
    (Kind.DUNNING_30,),
    (Kind.DUNNING_30, Kind.DUNNING_60),
    (Kind.ADDRESS_REQUEST,),
    (Kind.INQUIRY_RESPONSE,),
    (Kind.DUNNING_60, Kind.FINAL_NOTICE),
)

# On one account with an active payment plan, where the demo has plans.
PLAN_LETTERS = (Kind.PLAN_AGREEMENT, Kind.PLAN_REMINDER)
ACCOUNT_RELATED = ("practice", "patient", "guarantor")

# What the rep added to the letter, where the letter needs it (an inquiry's answer is the rep's own).
DEMO_NOTES = {
    Kind.INQUIRY_RESPONSE: "You asked why your balance changed. Your insurance paid its share of your visit; "
    "the amount shown is your part under your plan's deductible.",
}


def demo_rep(practice) -> StaffUser | None:
    """Who prints the demo letters: the demo rep where they work the practice, else a Director."""
    rep = StaffUser.objects.filter(username="medium", is_active=True).first()
    if rep is not None and (rep.tier >= Tier.DIRECTOR or practice.pk in practice_ids_for(rep)):
        return rep
    return StaffUser.objects.filter(tier__gte=Tier.DIRECTOR, is_active=True).order_by("pk").first()


def seed_demo_letters(*, per_practice: int = len(DEMO_LETTERS)) -> dict[str, int]:
    """Letters for the first mailable accounts with a patient balance in each practice."""
    counts = {"letters": 0, "refused": 0, "already": 0}
    for practice in Practice.objects.filter(is_active=True).order_by("pk"):
        user = demo_rep(practice)
        accounts = (
            PatientAccount.objects.filter(practice=practice, patient_balance__gt=0)
            .exclude(status=PatientAccount.Status.PAYMENT_PLAN)  # a plan's letters are its own (below)
            .filter(mailable_q())
            .select_related(*ACCOUNT_RELATED)
            .order_by("pk")[:per_practice]
        )
        accounts = list(accounts)
        for account, kinds in zip(accounts, DEMO_LETTERS, strict=False):
            for kind in kinds:
                _demo_letter(account, kind, user, counts)
        _demo_plan_letters(practice, user, counts, taken=[account.pk for account in accounts])
    return counts


def _demo_letter(account, kind: str, user, counts: dict[str, int]) -> None:
    if Statement.objects.filter(account=account, kind=kind).exists():
        counts["already"] += 1
        return
    try:
        letter_produce(account=account, kind=kind, user=user, note=DEMO_NOTES.get(kind, ""))
    except ApplicationError:
        counts["refused"] += 1
    else:
        counts["letters"] += 1


def _demo_plan_letters(practice, user, counts: dict[str, int], *, taken: list[int]) -> None:
    """The plan agreement and an installment reminder on one account of the practice with an active
    payment plan (the demo's plans, where the seed made any), so the panel shows plan letters too.
    The same account every time: the one that already has the demo's agreement, else the first."""
    written = Statement.objects.filter(practice=practice, kind=Kind.PLAN_AGREEMENT, created_by=user, batch__isnull=True)
    account = (
        PatientAccount.objects.filter(pk__in=written.values("account_id")).select_related(*ACCOUNT_RELATED).first()
    )
    if account is None:
        account = (
            PatientAccount.objects.filter(practice=practice, payment_plans__status=PaymentPlan.Status.ACTIVE)
            .exclude(pk__in=taken)
            .filter(mailable_q())
            .select_related(*ACCOUNT_RELATED)
            .order_by("pk")
            .first()
        )
    if account is None:
        return
    for kind in PLAN_LETTERS:
        _demo_letter(account, kind, user, counts)
