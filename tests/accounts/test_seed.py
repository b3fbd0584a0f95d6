"""Demo data (`manage.py seed_demo`): deterministic, consistent with the ledger, realistic, all-or-nothing."""

import hashlib
import re
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum

from accounts import demo
from accounts.aging import BUCKET_LABELS, practice_aging
from accounts.models import Appointment, Guarantor, Patient, PatientAccount, Practice, Transaction
from accounts.services import POSTING_RULES
from core.access import practices_for
from core.models import AuditEvent, StaffUser, Tier

TODAY = date(2026, 3, 15)
Kind = Transaction.Kind


def _digest() -> str:
    """Every seeded value, table by table in id order."""
    digest = hashlib.sha256()
    tables = [("accounts_practice", ("id", "code", "name", "state", "time_zone")), *demo.COLUMNS.items()]
    with connection.cursor() as cursor:
        for table, columns in tables:
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")
            for row in cursor.fetchall():
                digest.update(repr(row).encode())
    return digest.hexdigest()


def _seed_and_digest(**options) -> str:
    with transaction.atomic():
        demo.seed_demo(today=TODAY, **options)
        value = _digest()
        transaction.set_rollback(True)
    return value


def _seed(accounts=30, **options):
    out = StringIO()
    call_command("seed_demo", accounts=accounts, today=TODAY, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_same_seed_and_date_give_the_same_data_and_another_seed_does_not():
    first = _seed_and_digest(accounts=30, seed=7)
    again = _seed_and_digest(accounts=30, seed=7)
    other = _seed_and_digest(accounts=30, seed=8)
    assert first == again
    assert other != first


@pytest.mark.django_db
def test_seeded_balances_equal_the_ledger():
    _seed(accounts=60)
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "Ledger OK: 60 accounts" in out.getvalue()
    totals = PatientAccount.objects.aggregate(p=Sum("patient_balance"), i=Sum("insurance_balance"))
    assert totals["p"] > 0 and totals["i"] > 0


@pytest.mark.django_db
def test_patient_balances_fall_in_every_aging_bucket():
    _seed(accounts=30)
    buckets = dict.fromkeys(BUCKET_LABELS, Decimal("0.00"))
    for practice in Practice.objects.all():
        aging = practice_aging(practice.id, as_of=TODAY)
        assert aging["unapplied_credit"] == 0  # payments never exceed what was owed
        for label, amount in aging["buckets"].items():
            buckets[label] += amount
    assert all(amount > 0 for amount in buckets.values()), buckets


@pytest.mark.django_db
def test_ledger_rows_follow_the_posting_rules():
    _seed(accounts=60)
    rows = list(Transaction.objects.all())
    kinds = {row.kind for row in rows}
    assert {Kind.CHARGE, Kind.INSURANCE_PAYMENT, Kind.CONTRACTUAL_ADJUSTMENT, Kind.TRANSFER_TO_PATIENT} <= kinds
    assert Kind.PATIENT_PAYMENT in kinds
    for row in rows:
        assert row.patient_amount != 0 or row.insurance_amount != 0
        assert row.effective_on <= TODAY and row.posted_at is not None
        if row.kind == Kind.REVERSAL:
            original = row.reverses
            assert (row.patient_amount, row.insurance_amount) == (-original.patient_amount, -original.insurance_amount)
            continue
        patient_rule, insurance_rule = POSTING_RULES[row.kind]
        for amount, rule in ((row.patient_amount, patient_rule), (row.insurance_amount, insurance_rule)):
            assert (
                (rule == "+" and amount >= 0)
                or (rule == "-" and amount <= 0)
                or (rule == "0" and amount == 0)
                or (rule == "±")
            )
        if row.kind == Kind.TRANSFER_TO_PATIENT:
            assert row.patient_amount == -row.insurance_amount
        if row.kind == Kind.PATIENT_PAYMENT:
            assert row.encounter_id is None and row.payment_method
        else:
            assert row.kind == Kind.REVERSAL or row.encounter_id is not None
    assert not PatientAccount.objects.filter(patient_balance__lt=0).exists()
    assert not PatientAccount.objects.filter(insurance_balance__lt=0).exists()


@pytest.mark.django_db
def test_demo_users_have_their_tiers_and_practices():
    output = _seed(accounts=30, practices=3)
    practices = list(Practice.objects.order_by("id"))
    codes = [p.code for p in practices]
    expected = {
        "low": (Tier.LOW, codes[:-1]),
        "medium": (Tier.MEDIUM, codes[:-1]),
        "manager": (Tier.MANAGEMENT, codes[:-1]),
        "director": (Tier.DIRECTOR, codes),
        "admin": (Tier.DIRECTOR, codes),
        "outsider": (Tier.MEDIUM, codes[-1:]),
    }
    for username, (tier, seen) in expected.items():
        user = StaffUser.objects.get(username=username)
        assert user.tier == tier
        assert sorted(practices_for(user).values_list("code", flat=True)) == sorted(seen)
        assert user.check_password(settings.DEMO_PASSWORD)
        assert username in output
    admin = StaffUser.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not StaffUser.objects.get(username="director").is_superuser
    assert settings.DEMO_PASSWORD in output


@pytest.mark.django_db
def test_if_empty_leaves_existing_data_alone():
    _seed(accounts=30)
    before = (PatientAccount.objects.count(), Transaction.objects.count(), _digest())
    output = _seed(accounts=500, if_empty=True)
    assert "already exist" in output
    assert (PatientAccount.objects.count(), Transaction.objects.count(), _digest()) == before


@pytest.mark.django_db
def test_seed_writes_one_audit_event_with_counts_and_no_names():
    _seed(accounts=30)
    event = AuditEvent.objects.get(object_type="seed")
    assert event.action == AuditEvent.Action.CREATE
    assert event.detail["patientaccount"] == 30
    assert event.detail["transaction"] == Transaction.objects.count()
    names = set(Patient.objects.values_list("last_name", flat=True))
    assert not names & set(map(str, event.detail.values()))


@pytest.mark.django_db
def test_a_failed_seed_leaves_nothing_behind(monkeypatch):
    monkeypatch.setattr(demo, "CHUNK_ACCOUNTS", 10)
    calls = {"n": 0}
    original = demo.DemoGenerator.chunk

    def failing_chunk(self, index, count):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return original(self, index, count)

    monkeypatch.setattr(demo.DemoGenerator, "chunk", failing_chunk)
    with pytest.raises(RuntimeError, match="disk full"):
        demo.seed_demo(accounts=30, today=TODAY)
    assert not Practice.objects.exists()
    assert not Patient.objects.exists()
    assert not Transaction.objects.exists()
    assert not StaffUser.objects.exists()


@pytest.mark.django_db
def test_demo_patients_look_like_a_real_practice_population():
    _seed(accounts=300, practices=3)
    patients = list(Patient.objects.all())
    names = [p.first_name + " " + p.last_name for p in patients]
    assert any("'" in name for name in names)
    assert any(not name.isascii() for name in names)
    assert all(p.phone == "" or re.fullmatch(r"\d{10}", p.phone) for p in patients)
    assert len({p.practice.time_zone for p in patients}) == 3
    assert any(p.address_is_bad for p in patients)
    assert any(p.deceased_on for p in patients)
    minors = [p for p in patients if (TODAY - p.date_of_birth).days < 18 * 365]
    assert minors
    parents = Guarantor.objects.filter(relationship=Guarantor.Relationship.PARENT).count()
    assert parents >= len(minors) * 0.8
    insurance = set(PatientAccount.objects.values_list("primary_insurance", flat=True))
    assert {"commercial", "medicare", "medicaid", "self_pay"} <= insurance
    appointments = list(Appointment.objects.select_related("patient"))
    assert appointments
    assert all(p.deceased_on is None for p in (a.patient for a in appointments))
    days_ahead = {(a.starts_at.date() - TODAY).days for a in appointments}
    assert min(days_ahead) >= 0 and max(days_ahead) <= 31
    encounters_per_account = demo_ratio("accounts_encounter")
    ledger_rows_per_account = demo_ratio("accounts_transaction")
    assert 2.5 <= encounters_per_account <= 3.5
    assert 8 <= ledger_rows_per_account <= 13
    numbers = list(PatientAccount.objects.values_list("practice_id", "account_number"))
    assert len(set(numbers)) == len(numbers)


def demo_ratio(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        rows = cursor.fetchone()[0]
    return rows / PatientAccount.objects.count()


@pytest.mark.django_db
def test_dates_follow_today_so_the_same_data_ages_the_same_way():
    _seed(accounts=30)
    latest = Transaction.objects.order_by("-effective_on").values_list("effective_on", flat=True).first()
    assert TODAY - timedelta(days=60) <= latest <= TODAY


@pytest.mark.postgres
@pytest.mark.django_db
def test_producer_processes_load_the_same_rows_as_one_process(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("producer processes feed PostgreSQL COPY only")
    monkeypatch.setattr(demo, "CHUNK_ACCOUNTS", 10)
    inline = _seed_and_digest(accounts=45, seed=3, producers=0)
    parallel = _seed_and_digest(accounts=45, seed=3, producers=2)
    assert inline == parallel


@pytest.mark.django_db
def test_seeding_again_adds_accounts_and_keeps_each_demo_users_practices():
    _seed(accounts=20, practices=2)
    _seed(accounts=20, practices=3, seed=2)
    assert PatientAccount.objects.count() == 40
    call_command("check_ledger", stdout=StringIO())
    codes = list(Practice.objects.order_by("id").values_list("code", flat=True))
    outsider = StaffUser.objects.get(username="outsider")
    assert list(practices_for(outsider).values_list("code", flat=True)) == codes[-1:]
    medium = StaffUser.objects.get(username="medium")
    assert sorted(practices_for(medium).values_list("code", flat=True)) == sorted(codes[:-1])
