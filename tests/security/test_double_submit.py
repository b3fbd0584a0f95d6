"""Double submits of every money form: the same rendered form sent twice (a double click, a resend
after a timeout, Back and submit) takes the money, the promise or the plan once.

The payment and contact forms carry a token made when the form is rendered (`idempotency_key`,
a hidden field); the second submit of a token already used answers with the first result. A plan
needs no token: an account has at most one open plan (a database constraint), so the second set-up
is refused with a message, and starting a started plan changes nothing.
"""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Transaction
from accounts.selectors import practice_today
from collections_app.contacts.views import MESSAGE_CONTACT_REPLAYED, MESSAGE_PAYMENT_REPLAYED
from collections_app.models import Contact, PromiseToPay
from core.models import AuditEvent
from payment_plans import services as plans
from payment_plans.models import PaymentPlan, PlanStatusChange
from payment_plans.services import MESSAGE_OPEN_PLAN_EXISTS
from tests.security.forms_on_pages import forms_in

HTMX = {"HTTP_HX_REQUEST": "true"}


def rendered_form(client, panel_url: str, action: str):
    """The form as the panel renders it, with its token."""
    response = client.get(panel_url, **HTMX)
    assert response.status_code == 200
    return next(form for form in forms_in(response.content.decode(), panel_url) if form.action == action)


@pytest.fixture
def rep(client, medium):
    client.force_login(medium)
    return client


def payments(account):
    return Transaction.objects.filter(account=account, kind=Transaction.Kind.PATIENT_PAYMENT)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "browser"])
@pytest.mark.parametrize("amount", ["0.01", "33.33", "200.00"])
def test_a_payment_form_sent_twice_posts_once(rep, world, amount, htmx):
    account = world.account
    balance = account.patient_balance
    action = reverse("contacts-payment", args=[account.pk])
    form = rendered_form(rep, reverse("contacts-panel", args=[account.pk]), action)
    body = form.body(**{"payment-amount": amount, "payment-method": "check", "payment-reference": "1042"})
    assert body["payment-idempotency_key"]
    extra = HTMX if htmx else {}
    first = rep.post(action, body, **extra)
    second = rep.post(action, body, **extra, follow=not htmx)
    assert first.status_code in (200, 302) and second.status_code == 200
    assert payments(account).count() == 1
    account.refresh_from_db()
    assert account.patient_balance == balance - Decimal(amount)
    assert MESSAGE_PAYMENT_REPLAYED in second.content.decode()


def test_two_payment_forms_rendered_apart_post_two_payments(rep, world):
    """The token is per rendered form: a second payment the rep takes is a second payment."""
    account = world.account
    action = reverse("contacts-payment", args=[account.pk])
    panel = reverse("contacts-panel", args=[account.pk])
    for _ in range(2):
        form = rendered_form(rep, panel, action)
        rep.post(action, form.body(**{"payment-amount": "10.00", "payment-method": "cash"}), **HTMX)
    assert payments(account).count() == 2


def test_the_payment_api_with_one_idempotency_key_posts_once(rep, world):
    url = reverse("api-account-payments", args=[world.account.pk])
    body = json.dumps({"amount": "12.50", "method": "cash"})
    first = rep.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-1")
    second = rep.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    assert payments(world.account).count() == 1


def promise_body(form, world, amount="40.00"):
    due = (practice_today(world.practice) + timedelta(days=7)).isoformat()
    return form.body(
        **{
            "contact-channel": "inbound_call",
            "contact-party": "patient",
            "contact-outcome": "promise_to_pay",
            "contact-promise_amount": amount,
            "contact-promise_due_on": due,
        }
    )


@pytest.fixture
def no_plan(world):
    """A promise is refused while a plan runs: cancel the world's plan first."""
    plans.plan_cancel(acting_user=world.users["medium"], plan_id=world.plan.pk, note="")
    return world


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "browser"])
def test_a_promise_logged_twice_from_one_form_is_one_promise_and_one_call(rep, no_plan, htmx):
    world = no_plan
    account = world.account
    action = reverse("contacts-log", args=[account.pk])
    form = rendered_form(rep, reverse("contacts-panel", args=[account.pk]), action)
    body = promise_body(form, world)
    assert body["contact-idempotency_key"]
    extra = HTMX if htmx else {}
    first = rep.post(action, body, **extra)
    second = rep.post(action, body, **extra)
    assert first.status_code in (200, 302) and second.status_code in (200, 302)
    assert PromiseToPay.objects.filter(account=account).count() == 1
    # The second submit is not another contact either: it would count against the contact caps.
    assert Contact.objects.filter(account=account).count() == 1
    assert AuditEvent.objects.filter(object_type="collections_app.promisetopay").count() == 1
    if htmx:
        assert MESSAGE_CONTACT_REPLAYED in second.content.decode()


def test_two_contact_forms_rendered_apart_log_two_contacts(rep, no_plan):
    world = no_plan
    account = world.account
    action = reverse("contacts-log", args=[account.pk])
    panel = reverse("contacts-panel", args=[account.pk])
    for amount in ("20.00", "30.00"):
        rep.post(action, promise_body(rendered_form(rep, panel, action), world, amount), **HTMX)
    assert Contact.objects.filter(account=account).count() == 2
    promised = PromiseToPay.objects.filter(account=account).values_list("amount", flat=True)
    assert sorted(promised) == [Decimal("20.00"), Decimal("30.00")]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "browser"])
def test_a_plan_set_up_twice_from_one_form_is_one_plan(rep, world, htmx):
    account = world.spare_account
    panel = reverse("plans-panel", args=[account.pk])
    action = reverse("plan-create", args=[account.pk])
    form = rendered_form(rep, panel, action)
    body = form.body(installment_count="3", down_payment="30.00", activate="on")
    extra = HTMX if htmx else {}
    first = rep.post(action, body, **extra)
    second = rep.post(action, body, **extra, follow=not htmx)
    assert first.status_code in (200, 302) and second.status_code == 200
    [plan] = PaymentPlan.objects.filter(account=account)
    assert plan.status == PaymentPlan.Status.ACTIVE and plan.down_payment == Decimal("30.00")
    assert plan.installments.filter(number=0).count() == 1  # one down payment due, not two
    if not htmx:  # the page says why; the panel (htmx) shows the plan that was set up
        assert MESSAGE_OPEN_PLAN_EXISTS in second.content.decode()


def test_a_plan_started_twice_is_started_once(rep, world):
    account = world.spare_account
    plan = plans.plan_create(acting_user=world.users["medium"], account_id=account.pk, installment_count=3)
    action = reverse("plan-activate", args=[plan.pk])
    for _ in range(2):
        assert rep.post(action, {}, **HTMX).status_code == 200
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.ACTIVE
    assert PlanStatusChange.objects.filter(plan=plan, to_status=PaymentPlan.Status.ACTIVE).count() == 1


def test_a_plan_cancelled_twice_is_cancelled_once(rep, world):
    action = reverse("plan-cancel", args=[world.plan.pk])
    first = rep.post(action, {"note": "Patient asked."}, **HTMX)
    second = rep.post(action, {"note": "Patient asked."}, **HTMX)
    assert (first.status_code, second.status_code) == (200, 200)
    changes = PlanStatusChange.objects.filter(plan=world.plan, to_status=PaymentPlan.Status.CANCELLED)
    assert changes.count() == 1


def test_the_same_plan_change_sent_twice_makes_one_revision(rep, world):
    """The plan page's form carries the revision it showed: a resend finds the plan one revision on,
    by the same rep with the same reason, and changes nothing more."""
    plan = world.plan
    seen = plan.revision
    page = rep.get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert f'name="revision" value="{plan.revision}"' in page
    action = reverse("plan-modify", args=[plan.pk])
    body = {"installment_count": "5", "frequency": "monthly", "reason": "Smaller payments.", "revision": plan.revision}
    first = rep.post(action, body)
    second = rep.post(action, body, follow=True)
    assert first.status_code == 302
    assert "This change was already saved (the form was sent twice)" in second.content.decode()
    plan.refresh_from_db()
    assert plan.revision == seen + 1
    assert plan.revisions.filter(number__gt=seen).count() == 1
    assert plan.installments.filter(revision=plan.revision).count() == 5


def test_a_plan_change_made_on_terms_someone_else_changed_is_refused(rep, world, manager):
    plan = world.plan
    seen = plan.revision
    plans.plan_modify(acting_user=manager, plan_id=plan.pk, installment_count=4, reason="Manager's change.")
    response = rep.post(
        reverse("plan-modify", args=[plan.pk]),
        {"installment_count": "5", "frequency": "monthly", "reason": "Smaller payments.", "revision": seen},
    )
    assert response.status_code == 400
    assert "The plan was changed since this page was opened" in response.content.decode()
    plan.refresh_from_db()
    assert plan.revision == seen + 1 and plan.installment_count == 4


def test_a_token_from_another_account_is_not_a_replay(world, medium):
    """Tokens are per account: the same key on another account posts there."""
    client = Client()
    client.force_login(medium)
    body = {"payment-amount": "5.00", "payment-method": "cash", "payment-idempotency_key": "same-key"}
    for account in (world.account, world.spare_account):
        client.post(reverse("contacts-payment", args=[account.pk]), body, **HTMX)
    assert payments(world.account).count() == 1 and payments(world.spare_account).count() == 1
