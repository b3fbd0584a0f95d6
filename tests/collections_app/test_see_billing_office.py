""" "See billing office": one rule for the schedule, the account page and the API. The front desk
sends a patient to the billing office only for a past-due balance that may be collected now."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import PatientAccount
from collections_app.holds import services as holds
from collections_app.models import AccountHold
from payment_plans import services as plans
from tests.collections_app.test_schedule import appointment, mark_past_due

Kind = AccountHold.Kind
HOLD_DETAILS = {
    Kind.LOP: {"attorney_name": "Sam Counsel", "attorney_firm": "Counsel LLP", "case_number": "CV-1"},
    Kind.PROBATE: {"died_on": date(2025, 6, 1), "executor_name": "Pat Executor"},
    Kind.BANKRUPTCY: {"bankruptcy_chapter": 7, "filed_on": date(2025, 9, 1), "case_number": "25-10001"},
    Kind.DISPUTE: {"dispute_kind": "balance"},
}


def flag_shown(client, user, account) -> dict[str, bool]:
    """Where the flag shows for the account's patient: schedule, account page, API."""
    client.force_login(user)
    schedule = client.get(reverse("schedule")).content.decode()
    page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    api = client.get(reverse("api-account-detail", args=[account.pk])).json()
    return {
        "schedule": 'data-testid="see-billing-office"' in schedule,
        "account page": 'data-testid="past-due-flag"' in page,
        "api": api["past_due"],
    }


ALL_ON = {"schedule": True, "account page": True, "api": True}
ALL_OFF = {"schedule": False, "account page": False, "api": False}


@pytest.fixture
def past_due_patient(account):
    """The conftest account ($200 owed, the oldest visit 100 days ago) with an appointment tomorrow."""
    mark_past_due(account)
    appointment(account)
    return account


def test_a_past_due_balance_that_may_be_collected_shows_everywhere(client, low, past_due_patient):
    assert flag_shown(client, low, past_due_patient) == ALL_ON


@pytest.mark.parametrize("kind", list(Kind.values))
def test_no_flag_while_the_account_is_on_a_hold_and_back_after_release(client, low, medium, past_due_patient, kind):
    hold = holds.hold_place(acting_user=medium, account_id=past_due_patient.pk, kind=kind, **HOLD_DETAILS[kind])
    assert flag_shown(client, low, past_due_patient) == ALL_OFF
    holds.hold_release(acting_user=medium, hold_id=hold.pk, reason="Resolved")
    if kind == Kind.PROBATE:  # the patient stays deceased: the estate is not asked at the front desk
        assert flag_shown(client, low, past_due_patient) == ALL_OFF
    else:
        assert flag_shown(client, low, past_due_patient) == ALL_ON


def test_no_flag_while_a_payment_plan_runs_and_back_when_it_is_cancelled(client, low, medium, past_due_patient):
    plan = plans.plan_create(acting_user=medium, account_id=past_due_patient.pk, installment_count=4, activate=True)
    assert flag_shown(client, low, past_due_patient) == ALL_OFF
    plans.plan_cancel(acting_user=medium, plan_id=plan.pk, note="Patient asked to stop")
    assert flag_shown(client, low, past_due_patient) == ALL_ON


def test_no_flag_while_an_attorney_represents_the_patient(client, low, past_due_patient):
    PatientAccount.objects.filter(pk=past_due_patient.pk).update(attorney_represented=True)
    assert flag_shown(client, low, past_due_patient) == ALL_OFF


@pytest.mark.parametrize("status", [PatientAccount.Status.AGENCY, PatientAccount.Status.CLOSED])
def test_no_flag_for_an_account_at_an_agency_or_closed(client, low, past_due_patient, status):
    PatientAccount.objects.filter(pk=past_due_patient.pk).update(status=status)
    assert flag_shown(client, low, past_due_patient) == ALL_OFF


# --- Low sees demographics, appointments and the flag only ----------------------------------------


@pytest.mark.parametrize("kind", list(Kind.values))
def test_the_front_desk_sees_no_billing_status_on_the_account_page(client, low, medium, past_due_patient, kind):
    holds.hold_place(acting_user=medium, account_id=past_due_patient.pk, kind=kind, **HOLD_DETAILS[kind])
    client.force_login(low)
    html = client.get(reverse("account-detail", args=[past_due_patient.pk])).content.decode()
    assert "On hold" not in html and AccountHold.Kind(kind).label not in html
    client.force_login(medium)
    html = client.get(reverse("account-detail", args=[past_due_patient.pk])).content.decode()
    assert "On hold" in html


def test_the_front_desk_sees_no_payment_plan_status(client, low, medium, past_due_patient):
    plans.plan_create(acting_user=medium, account_id=past_due_patient.pk, installment_count=4, activate=True)
    client.force_login(low)
    html = client.get(reverse("account-detail", args=[past_due_patient.pk])).content.decode()
    assert "Payment plan" not in html
    search = client.post(reverse("search"), {"q": past_due_patient.account_number}).content.decode()
    assert past_due_patient.account_number in search and "Payment plan" not in search
