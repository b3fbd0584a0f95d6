"""Many documents' contents at once (`documents.statement_contents`, the nightly cycle's way): the
same words and figures as one statement at a time, for a fixed number of queries however many
statements there are."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.selectors import practice_today
from payment_plans import services as plans
from reports.models import Statement
from reports.statements import documents
from tests.conftest import post_visit
from tests.factories import GuarantorFactory, PatientAccountFactory, PatientFactory
from tests.reports.statement_world import crafted_account

pytestmark = pytest.mark.django_db
Kind = Statement.Kind


def unsaved_statement(account, kind=Kind.STATEMENT, *, level=0, covers=None):
    today = practice_today(account.practice)
    statement = Statement.objects.create(
        account=account,
        practice=account.practice,
        guarantor=account.guarantor,
        kind=kind,
        dunning_level=level,
        statement_date=today,
        pay_by=today + timedelta(days=21),
    )
    statement.covers.set(covers or [account])
    return statement


def owing_account(practice, number, *, days_ago=50, share="90.00", guarantor=None):
    patient = PatientFactory(practice=practice)
    extra = {"guarantor": guarantor} if guarantor else {}
    account = PatientAccountFactory(practice=practice, patient=patient, account_number=number, **extra)
    post_visit(account, days_ago=days_ago, charge="250.00", insurance_paid="100.00", to_patient=share)
    post_visit(account, days_ago=days_ago + 40, charge="120.00", to_patient="120.00")
    account.refresh_from_db()
    return account


@pytest.fixture
def statements(practice, medium):
    crafted = crafted_account(practice)
    on_plan = owing_account(practice, "N0000101")
    plans.plan_create(acting_user=medium, account_id=on_plan.pk, installment_count=3, activate=True)
    guarantor = GuarantorFactory(practice=practice)
    first = owing_account(practice, "N0000201", guarantor=guarantor)
    second = owing_account(practice, "N0000202", days_ago=130, share="40.00", guarantor=guarantor)
    final = owing_account(practice, "N0000301", days_ago=140)
    return [
        unsaved_statement(crafted),
        unsaved_statement(on_plan, level=1),
        unsaved_statement(first, covers=[first, second]),
        unsaved_statement(first, Kind.DUNNING_60, level=2, covers=[first, second]),
        unsaved_statement(final, Kind.FINAL_NOTICE, level=4),
        unsaved_statement(on_plan, Kind.PLAN_REMINDER),
    ]


def test_many_at_once_say_what_each_says_alone(statements):
    one_by_one = [documents.statement_content(statement) for statement in statements]
    assert documents.statement_contents(statements) == one_by_one
    crafted, on_plan, covering, dunning, final, reminder = one_by_one
    assert crafted["amount_due"] == "65.00"
    assert [row["amount"] for row in crafted["aging"]] == ["50.00", "0.00", "15.00", "0.00", "0.00"]
    assert [row["date_of_service"] for row in crafted["accounts"][0]["encounters"]] == sorted(
        row["date_of_service"] for row in crafted["accounts"][0]["encounters"]
    )
    # The plan's installment is what the statement asks for, not the balance.
    assert on_plan["plan_due"] is not None and on_plan["amount_due"] == on_plan["plan_due"]["amount_due"]
    assert reminder["plan"]["installment_amount"] == on_plan["plan_due"]["installment_amount"]
    assert [row["account_number"] for row in covering["accounts"]] == ["N0000201", "N0000202"]
    assert covering["balance"] == "370.00"
    assert [row["account_number"] for row in dunning["covered_accounts"]] == ["N0000201", "N0000202"]
    assert final["referral_after"] and final["amount_due"] == "210.00"


def test_the_queries_do_not_grow_with_the_statements(statements):
    with CaptureQueriesContext(connection) as two:
        documents.statement_contents(statements[:2])
    with CaptureQueriesContext(connection) as six:
        documents.statement_contents(statements)
    assert len(six) == len(two) <= 10
