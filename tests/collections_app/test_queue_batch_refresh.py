"""The queue after a batch of postings (an import's chunk): one set-based refresh of the batch's
accounts leaves the work items and queue entries that refreshing each account alone leaves."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts import services as ledger
from accounts.models import AccountAgingState, PatientAccount, Transaction
from accounts.selectors import practice_today
from collections_app.models import PromiseToPay, QueueEntry, WorkItem
from collections_app.queues.services import queue_refresh_account, queue_refresh_accounts
from imports import x12_generator as gen
from imports.claims import import_837
from imports.remittance import import_835
from tests.factories import EncounterFactory, PatientAccountFactory

Kind = Transaction.Kind
Reason = WorkItem.Reason


def queue_of(account, *, since=None) -> tuple:
    """What the queue holds for an account, without ids or times. With `since`, items opened and
    cleared again after it are left out: one posting opening an item and the next clearing it,
    inside one batch, writes no item (the batch's refresh reads the state the batch left)."""
    items = WorkItem.objects.filter(account=account)
    if since is not None:
        items = items.exclude(opened_at__gte=since, cleared_at__isnull=False)
    items = sorted(items.values_list("reason", "opened_on", "cleared_because"))
    entry = (
        QueueEntry.objects.filter(account=account)
        .values_list("score", "top_reason", "reasons", "oldest_item_on", "assigned_rep_id")
        .first()
    )
    return items, entry


def states(practice):
    """Accounts in the states a remittance meets, with what each is sent: (account, postings)."""
    today = practice_today(practice)
    built = []

    def account_with(balance, *, days_old=60, **fields):
        account = PatientAccountFactory(practice=practice, **fields)
        encounter = EncounterFactory(account=account, date_of_service=today - timedelta(days=days_old))
        ledger.transaction_post(
            acting_user=None,
            account_id=account.pk,
            kind=Kind.CHARGE,
            insurance_amount=Decimal("500.00"),
            encounter_id=encounter.pk,
            effective_on=encounter.date_of_service,
        )
        if Decimal(balance):
            transfer(account, encounter, balance, "OLD")
        AccountAgingState.objects.update_or_create(
            account=account,
            defaults={
                "practice": practice,
                "patient_open": Decimal(balance),
                "oldest_open_service_on": encounter.date_of_service,
                "is_past_due": Decimal(balance) > 0 and days_old > practice.statement_grace_days,
            },
        )
        queue_refresh_account(account_id=account.pk)
        return account, encounter

    def transfer(account, encounter, amount, tag):
        return ledger.transaction_post(acting_user=None, **vars(to_patient(account, encounter, amount, tag)))

    # Owing and past due, more moved onto the patient: re-scored.
    account, encounter = account_with("80.00")
    built.append((account, [to_patient(account, encounter, "40.00", "A")]))
    # Nothing owed, a balance arrives (crosses zero): past due opens at once.
    account, encounter = account_with("0")
    built.append((account, [to_patient(account, encounter, "60.00", "A")]))
    # Owing and in the queue, paid off by the patient in the same batch: past due clears.
    account, encounter = account_with("70.00")
    built.append((account, [to_patient(account, encounter, "30.00", "A"), payment(account, "100.00")]))
    # A follow-up date due and nothing owed, an insurance-only posting: the queue need not move.
    account, encounter = account_with("0", follow_up_on=today)
    built.append((account, [insurance_payment(account, encounter, "25.00")]))
    # A broken promise on an owing account, a partial payment.
    account, encounter = account_with("90.00")
    PromiseToPay.objects.create(
        account=account,
        practice=practice,
        amount=Decimal("50.00"),
        promised_on=today - timedelta(days=10),
        due_on=today - timedelta(days=3),
        status=PromiseToPay.Status.BROKEN,
        created_at=timezone.now() - timedelta(days=10),
    )
    queue_refresh_account(account_id=account.pk)
    built.append((account, [payment(account, "20.00"), to_patient(account, encounter, "15.00", "A")]))
    # Crossing zero and back within the batch.
    account, encounter = account_with("0")
    built.append((account, [to_patient(account, encounter, "45.00", "A"), payment(account, "45.00")]))
    return built


def to_patient(account, encounter, amount, tag) -> ledger.Posting:
    return ledger.Posting(
        account_id=account.pk,
        kind=Kind.TRANSFER_TO_PATIENT,
        patient_amount=Decimal(amount),
        insurance_amount=-Decimal(amount),
        encounter_id=encounter.pk,
        reference=f"{tag}:{account.pk}:PR",
    )


def payment(account, amount) -> ledger.Posting:
    return ledger.Posting(
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount=-Decimal(amount),
        payment_method=Transaction.PaymentMethod.CHECK,
    )


def insurance_payment(account, encounter, amount) -> ledger.Posting:
    return ledger.Posting(
        account_id=account.pk,
        kind=Kind.INSURANCE_PAYMENT,
        insurance_amount=-Decimal(amount),
        encounter_id=encounter.pk,
    )


def test_a_batch_leaves_the_queue_as_posting_and_refreshing_each_account_alone(practice):
    batch = states(practice)
    single = states(practice)
    since = timezone.now()
    ledger.transactions_post_many(acting_user=None, postings=[p for _, postings in batch for p in postings])
    for account, postings in single:
        for posting in postings:
            ledger.transaction_post(acting_user=None, **vars(posting))
        queue_refresh_account(account_id=account.pk)
    after_batch = [queue_of(account) for account, _ in batch]
    assert after_batch == [queue_of(account, since=since) for account, _ in single]
    # And refreshing each batch account alone now changes nothing.
    for account, _ in batch:
        queue_refresh_account(account_id=account.pk)
    assert [queue_of(account) for account, _ in batch] == after_batch
    reasons = [{item[0] for item in items if not item[2]} for items, _ in after_batch]
    assert reasons[1]  # the balance that arrived is in the queue at once
    assert Reason.PAST_DUE not in reasons[2]  # the balance paid off left it


def test_refreshing_many_accounts_equals_refreshing_each(practice, other_practice):
    accounts = []
    for each in (practice, other_practice):
        for balance in ("0", "75.00", "300.00"):
            account = PatientAccountFactory(practice=each, patient_balance=Decimal(balance))
            AccountAgingState.objects.create(
                account=account,
                practice=each,
                patient_open=account.patient_balance,
                oldest_open_service_on=practice_today(each) - timedelta(days=90),
                is_past_due=balance != "0",
            )
            accounts.append(account)
    queue_refresh_accounts(account_ids=[account.pk for account in accounts])
    together = [queue_of(account) for account in accounts]
    assert sum(1 for items, entry in together if entry) == 4
    WorkItem.objects.filter(account__in=accounts).delete()
    QueueEntry.objects.filter(account__in=accounts).delete()
    for account in accounts:
        queue_refresh_account(account_id=account.pk)
    assert [queue_of(account) for account in accounts] == together


def test_an_imported_remittance_leaves_the_queue_as_refreshing_each_account(practice):
    claims = gen.generate_claims(40, seed=7)
    loaded = import_837(practice=practice, content=gen.write_837(claims), file_name="visits.837")
    assert loaded.claims_created == 40
    account_ids = list(PatientAccount.objects.filter(practice=practice).values_list("pk", flat=True))
    AccountAgingState.objects.bulk_create(
        AccountAgingState(
            account_id=pk,
            practice=practice,
            patient_open=Decimal("0"),
            oldest_open_service_on=practice_today(practice) - timedelta(days=80),
            is_past_due=True,
        )
        for pk in account_ids
    )
    imported = import_835(practice=practice, content=gen.write_835(claims), file_name="era.835")
    assert imported.claims_posted == 40 and not imported.rejects
    accounts = PatientAccount.objects.filter(pk__in=account_ids).order_by("pk")
    after_import = [queue_of(account) for account in accounts]
    owing = [account for account in accounts if account.patient_balance > 0]
    assert owing and all(queue_of(account)[1] is not None for account in owing)
    for pk in account_ids:
        queue_refresh_account(account_id=pk)
    assert [queue_of(account) for account in accounts] == after_import
