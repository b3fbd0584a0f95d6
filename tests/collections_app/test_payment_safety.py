"""Money a rep takes posts once and within reason: one row per form (or Idempotency-Key) however
often it is sent, no payment far above the balance without a confirmed reason, no promise above
the balance or beside a payment plan."""

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import PatientAccount, Transaction
from accounts.selectors import practice_today
from collections_app.contacts import services
from collections_app.models import PromiseToPay, QueueEntry, WorkItem
from core.errors import ApplicationError
from payment_plans import services as plans

Kind = Transaction.Kind


@pytest.fixture
def today(account):
    return practice_today(account.practice)


def payments(account) -> list[Transaction]:
    return list(Transaction.objects.filter(account=account, kind=Kind.PATIENT_PAYMENT))


def balance(account) -> Decimal:
    return PatientAccount.objects.get(pk=account.pk).patient_balance


# --- one form, one payment -------------------------------------------------------------------------


def test_a_cash_payment_sent_twice_with_its_form_token_posts_once(medium, account):
    first = services.payment_record(
        acting_user=medium, account_id=account.pk, amount="50.00", method="cash", idempotency_key="form-1"
    )
    again = services.payment_record(
        acting_user=medium, account_id=account.pk, amount="50.00", method="cash", idempotency_key="form-1"
    )
    assert again.pk == first.pk and again.replayed and not first.replayed
    assert len(payments(account)) == 1 and balance(account) == Decimal("150.00")


def test_two_forms_are_two_payments(medium, account):
    for key in ("form-1", "form-2"):
        services.payment_record(
            acting_user=medium, account_id=account.pk, amount="50.00", method="cash", idempotency_key=key
        )
    assert len(payments(account)) == 2 and balance(account) == Decimal("100.00")


def test_a_replay_with_another_amount_is_refused_and_changes_nothing(medium, account):
    services.payment_record(
        acting_user=medium, account_id=account.pk, amount="50.00", method="cash", idempotency_key="form-1"
    )
    with pytest.raises(ApplicationError) as refused:
        services.payment_record(
            acting_user=medium, account_id=account.pk, amount="60.00", method="cash", idempotency_key="form-1"
        )
    assert refused.value.field == "idempotency_key"
    assert len(payments(account)) == 1 and balance(account) == Decimal("150.00")


def test_the_replay_of_a_payment_that_cleared_the_balance_is_not_taken_for_an_overpayment(medium, account):
    services.payment_record(
        acting_user=medium, account_id=account.pk, amount="200.00", method="cash", idempotency_key="form-1"
    )
    again = services.payment_record(
        acting_user=medium, account_id=account.pk, amount="200.00", method="cash", idempotency_key="form-1"
    )
    assert again.replayed and balance(account) == Decimal("0.00")


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="parallel writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_double_click_sent_at_the_same_moment_posts_once(medium, account):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def submit():
        try:
            barrier.wait()
            row = services.payment_record(
                acting_user=medium, account_id=account.pk, amount="50.00", method="cash", idempotency_key="form-1"
            )
            results.append(row.pk)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(results)) == 1
    assert len(payments(account)) == 1 and balance(account) == Decimal("150.00")


# --- overpayments ----------------------------------------------------------------------------------


def test_an_overpayment_is_refused_with_the_balance_and_changes_nothing(medium, account):
    with pytest.raises(ApplicationError) as refused:
        services.payment_record(acting_user=medium, account_id=account.pk, amount="250.00", method="cash")
    assert refused.value.field == "amount"
    assert "$50.00 more than the patient balance of $200.00" in refused.value.message
    assert "confirm_overpayment" in refused.value.extra
    assert payments(account) == [] and balance(account) == Decimal("200.00")


def test_a_confirmed_overpayment_needs_a_reason_and_then_leaves_a_credit(medium, account):
    with pytest.raises(ApplicationError) as refused:
        services.payment_record(
            acting_user=medium, account_id=account.pk, amount="250.00", method="cash", confirm_overpayment=True
        )
    assert refused.value.field == "overpayment_reason"
    row = services.payment_record(
        acting_user=medium,
        account_id=account.pk,
        amount="250.00",
        method="cash",
        confirm_overpayment=True,
        overpayment_reason="Prepaying next week's visit",
    )
    assert "Overpayment: Prepaying next week's visit" in row.memo
    assert balance(account) == Decimal("-50.00")


def test_a_billion_dollars_is_refused_even_when_confirmed(medium, account):
    with pytest.raises(ApplicationError) as refused:
        services.payment_record(
            acting_user=medium,
            account_id=account.pk,
            amount="1000000000.00",
            method="cash",
            confirm_overpayment=True,
            overpayment_reason="Typo",
        )
    assert refused.value.field == "amount" and "at most $500.00" in refused.value.message
    assert payments(account) == [] and balance(account) == Decimal("200.00")


def test_the_limit_is_the_practices(medium, account):
    account.practice.overpayment_limit = Decimal("0.00")
    account.practice.save()
    with pytest.raises(ApplicationError):
        services.payment_record(
            acting_user=medium,
            account_id=account.pk,
            amount="200.01",
            method="cash",
            confirm_overpayment=True,
            overpayment_reason="Rounding",
        )
    services.payment_record(acting_user=medium, account_id=account.pk, amount="200.00", method="cash")
    assert balance(account) == Decimal("0.00")


# --- promises ----------------------------------------------------------------------------------------


def test_a_promise_above_the_balance_is_refused(medium, account, today):
    with pytest.raises(ApplicationError) as refused:
        services.promise_create(acting_user=medium, account_id=account.pk, amount="5000.00", due_on=today)
    assert refused.value.field == "amount" and "$200.00" in refused.value.message
    assert not PromiseToPay.objects.exists()
    services.promise_create(acting_user=medium, account_id=account.pk, amount="200.00", due_on=today)
    assert PromiseToPay.objects.count() == 1


def test_no_promise_beside_a_running_payment_plan(medium, account, today):
    plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
    with pytest.raises(ApplicationError) as refused:
        services.promise_create(acting_user=medium, account_id=account.pk, amount="50.00", due_on=today)
    assert "payment plan" in refused.value.message
    assert not PromiseToPay.objects.exists()


def test_a_plan_started_supersedes_the_open_promise(medium, account, today):
    promise = services.promise_create(acting_user=medium, account_id=account.pk, amount="50.00", due_on=today)
    plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.CANCELLED
    assert promise.resolved_on == today


def test_a_plan_started_takes_the_account_out_of_past_due_work_at_once(medium, account, today):
    """No promise to supersede: the queue still follows the plan now, not at tonight's refresh."""
    item = WorkItem.objects.create(
        account=account, practice=account.practice, reason=WorkItem.Reason.PAST_DUE, opened_on=today
    )
    plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
    item.refresh_from_db()
    assert item.cleared_at is not None
    entry = QueueEntry.objects.filter(account=account).first()
    assert entry is None or WorkItem.Reason.PAST_DUE not in entry.reasons


# --- the payment form --------------------------------------------------------------------------------


def post_payment_form(client, account, **fields):
    data = {"payment-amount": "50.00", "payment-method": "cash", **{f"payment-{k}": v for k, v in fields.items()}}
    return client.post(reverse("contacts-payment", args=[account.pk]), data, HTTP_HX_REQUEST="true")


def form_token(client, account) -> str:
    html = client.get(reverse("contacts-panel", args=[account.pk]), HTTP_HX_REQUEST="true").content.decode()
    return re.search(r'name="payment-idempotency_key" value="([0-9a-f]{32})"', html).group(1)


def test_each_rendered_payment_form_carries_its_own_token(client, medium, account):
    client.force_login(medium)
    assert form_token(client, account) != form_token(client, account)


def test_the_same_form_sent_twice_posts_once_and_says_so(client, medium, account):
    client.force_login(medium)
    token = form_token(client, account)
    first = post_payment_form(client, account, idempotency_key=token)
    assert "Payment posted." in first.content.decode()
    second = post_payment_form(client, account, idempotency_key=token)
    assert "already posted" in second.content.decode()
    assert len(payments(account)) == 1 and balance(account) == Decimal("150.00")
    # The panel after a payment carries a new token: the next payment is a new one.
    assert token not in first.content.decode()


def test_an_overpayment_on_the_form_asks_for_confirmation_and_a_reason(client, medium, account):
    client.force_login(medium)
    token = form_token(client, account)
    refused = post_payment_form(client, account, amount="250.00", idempotency_key=token).content.decode()
    assert "more than the patient balance of $200.00" in refused
    assert 'data-testid="overpayment-confirmation"' in refused
    assert payments(account) == []
    posted = post_payment_form(
        client,
        account,
        amount="250.00",
        idempotency_key=token,
        confirm_overpayment="on",
        overpayment_reason="Prepaying next week's visit",
    )
    assert "Payment posted." in posted.content.decode()
    assert balance(account) == Decimal("-50.00")


# --- the API -------------------------------------------------------------------------------------------


def api_pay(client, account, body=None, **headers):
    url = reverse("api-account-payments", args=[account.pk])
    return client.post(url, body or {"amount": "50.00", "method": "cash"}, content_type="application/json", **headers)


def test_one_idempotency_key_posts_one_payment_however_often_it_is_sent(client, medium, account):
    client.force_login(medium)
    first = api_pay(client, account, HTTP_IDEMPOTENCY_KEY="3f0c6b1e-pay-1")
    again = api_pay(client, account, HTTP_IDEMPOTENCY_KEY="3f0c6b1e-pay-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert len(payments(account)) == 1


def test_the_api_explains_an_overpayment_and_takes_it_when_confirmed(client, medium, account):
    client.force_login(medium)
    refused = api_pay(client, account, {"amount": "250.00", "method": "cash"})
    assert refused.status_code == 400
    assert "more than the patient balance" in refused.json()["amount"][0]
    assert refused.json()["confirm_overpayment"] == ["Confirm the overpayment to post it."]
    body = {"amount": "250.00", "method": "cash", "confirm_overpayment": True, "overpayment_reason": "Prepaid visit"}
    assert api_pay(client, account, body).status_code == 201
    assert balance(account) == Decimal("-50.00")


def test_a_key_over_80_characters_is_a_400(client, medium, account):
    client.force_login(medium)
    response = api_pay(client, account, HTTP_IDEMPOTENCY_KEY="k" * 81)
    assert response.status_code == 400 and "idempotency_key" in response.json()
    assert payments(account) == []


def test_one_idempotency_key_makes_one_promise(client, medium, account, today):
    client.force_login(medium)
    url = reverse("api-account-promises", args=[account.pk])
    body = {"amount": "40.00", "due_on": today.isoformat()}
    first = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="promise-1")
    again = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="promise-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert PromiseToPay.objects.filter(account=account).count() == 1
    other = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="promise-2")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert PromiseToPay.objects.filter(account=account).count() == 2


def test_one_idempotency_key_logs_one_contact(client, medium, account):
    client.force_login(medium)
    url = reverse("api-account-contacts", args=[account.pk])
    body = {"channel": "inbound_call", "party": "patient", "outcome": "information_given"}
    first = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="contact-1")
    again = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="contact-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert account.contacts.count() == 1
