"""`make run`'s demo data puts balances on payment plans, so the rep sees plans on accounts and the
manager's plan report has plans to count: active ones with their down payment posted, and one
proposed plan waiting for the patient's agreement."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Transaction
from core.models import StaffUser
from payment_plans.models import PaymentPlan


@pytest.mark.django_db
def test_the_demo_sets_up_plans_the_manager_sees_in_the_plan_report():
    call_command("seed_demo", accounts=600, today=timezone.localdate(), stdout=StringIO())
    active = PaymentPlan.objects.filter(status="active")
    assert active.count() >= 3
    assert PaymentPlan.objects.filter(status="proposed").exists()
    for plan in active.filter(down_payment__gt=0):
        down = Transaction.objects.get(account=plan.account, reference=f"DEMO-PLAN-{plan.pk}-DOWN")
        assert down.patient_amount == -plan.down_payment
        assert plan.account.status == "payment_plan"
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "stored balances equal the ledger" in out.getvalue()

    client = Client()
    client.force_login(StaffUser.objects.get(username="manager"))
    report = client.get("/reports/payment-plans/").content.decode()
    scoped_active = active.filter(practice__code__in=["hudson-peds", "bayview-cardio"]).count()
    assert f"<strong>{scoped_active}</strong>" in report or f">{scoped_active}<" in report
