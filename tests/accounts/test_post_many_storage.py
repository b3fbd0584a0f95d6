"""How a batch reaches the database: on PostgreSQL the ledger and audit rows go in by COPY and the
set-based statements take one array per column (core.sql); on SQLite, bulk_create and VALUES lists.
Both must store exactly what the batch returns, and read back odd text unchanged."""

from datetime import date
from decimal import Decimal

from django.db.models.signals import post_init

from accounts import services as ledger
from accounts.models import Encounter, PatientAccount, Transaction
from core.models import AuditEvent
from core.sql import among, update_from_values
from tests.accounts.test_post_many import remittance_postings, twin

Kind = Transaction.Kind
ODD_TEXT = ['a,"b}{\\', "", "NULL", "x y", "'quoted'", "{1,2}"]
FIELDS = [field.attname for field in Transaction._meta.concrete_fields]


def test_the_rows_stored_are_the_rows_returned_in_posting_order(practice, medium):
    accounts = [twin(practice) for _ in range(3)]
    postings = [p for n, (a, e) in enumerate(accounts) for p in remittance_postings(a, e, f"{n + 1}.10", f"S{n}")]
    rows = ledger.transactions_post_many(acting_user=medium, postings=postings)
    ids = [row.pk for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stored = Transaction.objects.in_bulk(ids)
    for row in rows:
        assert [getattr(stored[row.pk], name) for name in FIELDS] == [getattr(row, name) for name in FIELDS]
        assert row._state.adding is False
    assert rows[0].account.pk == accounts[0][0].pk  # the locked account, no query
    audits = AuditEvent.objects.filter(object_type="accounts.transaction", object_id__in=[str(pk) for pk in ids])
    assert sorted((a.object_id, a.detail["account_id"], a.detail["kind"]) for a in audits) == sorted(
        (str(row.pk), row.account_id, row.kind) for row in rows
    )
    assert {(a.username, a.user_id, a.practice_id) for a in audits} == {(medium.username, medium.pk, practice.pk)}


def test_a_listener_for_new_ledger_rows_hears_every_row_of_a_batch(practice, medium):
    # A batch builds its rows without Model.__init__ only while nothing listens for their init.
    heard = []

    def listen(sender, instance, **kwargs):
        heard.append(instance)

    post_init.connect(listen, sender=Transaction)
    try:
        account, encounter = twin(practice)
        rows = ledger.transactions_post_many(
            acting_user=medium, postings=remittance_postings(account, encounter, "4.10", "L1")
        )
    finally:
        post_init.disconnect(listen, sender=Transaction)
    assert rows and all(any(row is each for each in heard) for row in rows)
    stored = Transaction.objects.in_bulk([row.pk for row in rows])
    for row in rows:
        assert [getattr(stored[row.pk], name) for name in FIELDS] == [getattr(row, name) for name in FIELDS]


def test_odd_references_are_stored_and_replayed_as_written(practice):
    account, encounter = twin(practice)
    postings = [
        ledger.Posting(
            account_id=account.pk,
            encounter_id=encounter.pk,
            kind=Kind.CONTRACTUAL_ADJUSTMENT,
            insurance_amount=Decimal("-1.00"),
            reference=reference or "empty-is-no-reference",
            memo=reference,
        )
        for reference in ODD_TEXT
    ]
    first = ledger.transactions_post_many(acting_user=None, postings=postings)
    assert [row.reference for row in first] == [p.reference for p in postings]
    assert [Transaction.objects.get(pk=row.pk).memo for row in first] == ODD_TEXT
    again = ledger.transactions_post_many(acting_user=None, postings=postings)
    assert [row.replayed for row in again] == [True] * len(postings)
    assert [row.pk for row in again] == [row.pk for row in first]


def test_update_from_values_takes_nulls_and_odd_text(practice):
    pairs = [twin(practice) for _ in range(3)]
    accounts = [PatientAccount.objects.get(pk=account.pk) for account, _ in pairs]
    update_from_values(
        table=PatientAccount._meta.db_table,
        columns={"id": "int", "paid_on": "date", "delta": "money"},
        rows=[
            (accounts[0].pk, date(2026, 1, 2), Decimal("1.10")),
            (accounts[1].pk, None, Decimal("-2.00")),
            (accounts[2].pk, None, Decimal("0.00")),
        ],
        assignments="last_patient_payment_on = v.paid_on, patient_balance = t.patient_balance + v.delta",
    )
    after = PatientAccount.objects.in_bulk([a.pk for a in accounts])
    assert [after[a.pk].last_patient_payment_on for a in accounts] == [date(2026, 1, 2), None, None]
    assert [after[a.pk].patient_balance - a.patient_balance for a in accounts] == [
        Decimal("1.10"),
        Decimal("-2.00"),
        Decimal("0.00"),
    ]
    encounters = [encounter for _, encounter in pairs]
    update_from_values(
        table=Encounter._meta.db_table,
        columns={"id": "int", "provider": "text"},
        rows=[(encounters[0].pk, ODD_TEXT[0]), (encounters[1].pk, None), (encounters[2].pk, ODD_TEXT[5])],
        assignments="rendering_provider = COALESCE(v.provider, 'none')",
    )
    providers = Encounter.objects.in_bulk([e.pk for e in encounters])
    assert [providers[e.pk].rendering_provider for e in encounters] == [ODD_TEXT[0], "none", ODD_TEXT[5]]


def test_among_matches_odd_text_and_ids(practice):
    account, encounter = twin(practice)
    references = [f"odd:{text}" for text in ODD_TEXT]
    for reference in references:
        ledger.transaction_post(
            acting_user=None,
            account_id=account.pk,
            kind=Kind.CONTRACTUAL_ADJUSTMENT,
            insurance_amount=Decimal("-1.00"),
            encounter_id=encounter.pk,
            reference=reference,
        )
    found = among(Transaction.objects.filter(account=account), "reference", [*references, "odd:missing"], "text[]")
    assert sorted(found.values_list("reference", flat=True)) == sorted(references)
    assert list(among(Encounter.objects, "pk", [encounter.pk, 0]).values_list("pk", flat=True)) == [encounter.pk]
    assert not among(Encounter.objects, "pk", []).exists()
