"""`seed_demo_letters`: a few demo accounts get printed letters, once."""

import pytest
from django.core.management import call_command

from reports.models import Statement
from tests.reports.statements_support import temporary_statement_storage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(tmp_path, monkeypatch):
    return temporary_statement_storage(tmp_path, monkeypatch)


def test_demo_letters_are_printed_once_by_the_demo_rep(account, medium, capsys):
    call_command("seed_demo_letters")
    assert "Demo letters: 1 printed" in capsys.readouterr().out
    letter = Statement.objects.get()
    assert (letter.account, letter.kind, letter.created_by) == (account, Statement.Kind.DUNNING_30, medium)
    assert letter.document and letter.mailed_on is not None
    call_command("seed_demo_letters")
    assert "0 printed, 1 already there" in capsys.readouterr().out
    assert Statement.objects.count() == 1


def test_an_account_with_an_active_plan_gets_its_agreement_and_a_reminder_once(practice, medium, capsys):
    from payment_plans.services import plan_create
    from tests.conftest import post_visit
    from tests.factories import PatientAccountFactory

    first = PatientAccountFactory(practice=practice)
    post_visit(first, days_ago=40, charge="150.00", to_patient="150.00")
    planned = PatientAccountFactory(practice=practice)
    post_visit(planned, days_ago=40, charge="400.00", to_patient="400.00")
    plan_create(acting_user=medium, account_id=planned.pk, installment_count=4, activate=True)

    call_command("seed_demo_letters")
    assert "Demo letters: 3 printed" in capsys.readouterr().out
    kinds = set(Statement.objects.filter(account=planned).values_list("kind", flat=True))
    assert kinds == {Statement.Kind.PLAN_AGREEMENT, Statement.Kind.PLAN_REMINDER}
    agreement = Statement.objects.get(account=planned, kind=Statement.Kind.PLAN_AGREEMENT)
    assert agreement.document and agreement.content["plan"]["installment_count"] == 4
    assert Statement.objects.filter(account=first, kind=Statement.Kind.DUNNING_30).exists()

    call_command("seed_demo_letters")
    assert "0 printed, 3 already there" in capsys.readouterr().out
