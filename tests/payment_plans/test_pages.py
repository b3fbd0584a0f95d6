"""The plan panel, the plan page and the agreement PDF: tiers, scope, audit, htmx."""

from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from core.models import AuditEvent
from payment_plans import selectors, services
from payment_plans.models import PaymentPlan
from payment_plans.views import panel_context
from tests.pages import account_changed_by
from tests.payment_plans.conftest import pay_and_apply

HTMX = {"HTTP_HX_REQUEST": "true"}


def _login(client, user):
    client.force_login(user)
    return client


def _plan_urls(plan):
    return [reverse("plan-detail", args=[plan.pk]), reverse("plan-agreement", args=[plan.pk])]


# --- Plan page and agreement ----------------------------------------------------------------------


def test_plan_page_shows_schedule_payments_and_history_and_is_audited(client, medium, account, active_plan):
    pay_and_apply(account, "30.00")
    response = _login(client, medium).get(reverse("plan-detail", args=[active_plan.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Partly paid" in body and "$30.00" in body and "Patient agreed; plan started" in body
    audit = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(active_plan.pk)).get()
    assert (audit.user, audit.object_type, audit.field_group) == (medium, "payment_plans.paymentplan", "billing")


def test_agreement_pdf_renders_and_is_audited_as_an_export(client, medium, active_plan):
    response = _login(client, medium).get(reverse("plan-agreement", args=[active_plan.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    audit = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert audit.object_id == str(active_plan.pk) and audit.detail["document"] == "plan_agreement"


def test_agreement_holds_only_what_it_needs(active_plan):
    plan = active_plan
    html = render_to_string(
        "payment_plans/agreement_pdf.html",
        {
            "plan": plan,
            "practice": plan.practice,
            "account_number": plan.account.account_number,
            "guarantor": plan.account.guarantor,
            "schedule": selectors.plan_schedule(plan),
            "printed_on": plan.created_on,
        },
    )
    patient = plan.account.patient
    assert plan.account.account_number in html
    assert patient.ssn not in html and patient.medical_record_number not in html
    assert "1970" not in html  # no date of birth


@pytest.mark.parametrize("persona", ["low"])
def test_plan_pages_refuse_low_tier(client, personas, active_plan, persona):
    client = _login(client, personas[persona])
    for url in _plan_urls(active_plan):
        assert client.get(url).status_code == 403, url


def test_plan_pages_are_404_for_another_practice(client, outsider, active_plan):
    client = _login(client, outsider)
    for url in _plan_urls(active_plan):
        assert client.get(url).status_code == 404, url
    assert not AuditEvent.objects.filter(action__in=["view", "export"], user=outsider).exists()


def test_director_and_manager_see_plan_pages(client, manager, director, active_plan):
    for user in (manager, director):
        client = _login(client, user)
        for url in _plan_urls(active_plan):
            assert client.get(url).status_code == 200, url


# --- Panel -------------------------------------------------------------------------------------------


def test_panel_sets_up_a_plan_with_htmx_and_signals_the_timeline(client, medium, account):
    response = _login(client, medium).post(
        reverse("plan-create", args=[account.pk]),
        {"installment_count": "4", "frequency": "monthly", "activate": "on"},
        **HTMX,
    )
    assert response.status_code == 200
    assert account_changed_by(response) == "plans"
    body = response.content.decode()
    assert '<section id="panel-plans" class="panel"' in body
    assert "Active" in body and "4 installments of $50.00" in body
    plan = PaymentPlan.objects.get()
    assert plan.status == "active" and plan.created_by == medium


def test_panel_shows_policy_errors_inline_and_changes_nothing(client, medium, account):
    response = _login(client, medium).post(
        reverse("plan-create", args=[account.pk]), {"installment_count": "10", "frequency": "monthly"}, **HTMX
    )
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "Each installment must be at least $25.00" in response.content.decode()
    assert not PaymentPlan.objects.exists()


def test_panel_post_without_htmx_redirects_to_the_account(client, medium, account):
    response = _login(client, medium).post(reverse("plan-create", args=[account.pk]), {"installment_count": "2"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account-detail", args=[account.pk])
    assert PaymentPlan.objects.get().status == "proposed"


def test_panel_actions_refuse_low_tier_and_other_practices(client, low, outsider, account, active_plan):
    urls = [
        reverse("plan-create", args=[account.pk]),
        reverse("plan-activate", args=[active_plan.pk]),
        reverse("plan-cancel", args=[active_plan.pk]),
        reverse("plan-modify", args=[active_plan.pk]),
    ]
    for user, expected in ((low, 403), (outsider, 404)):
        client = _login(client, user)
        for url in urls:
            assert client.post(url, {"installment_count": "2"}, **HTMX).status_code == expected, url
    active_plan.refresh_from_db()
    assert active_plan.status == "active" and PaymentPlan.objects.count() == 1


def test_activate_and_cancel_from_the_panel(client, medium, account):
    plan = services.plan_create(acting_user=medium, account_id=account.pk, installment_count=2)
    client = _login(client, medium)
    response = client.post(reverse("plan-activate", args=[plan.pk]), **HTMX)
    assert account_changed_by(response) == "plans"
    plan.refresh_from_db()
    assert plan.status == "active"
    client.post(reverse("plan-cancel", args=[plan.pk]), {"note": "Changed mind"}, **HTMX)
    plan.refresh_from_db()
    assert plan.status == "cancelled"
    response = client.post(reverse("plan-activate", args=[plan.pk]), **HTMX)
    assert "A cancelled plan cannot become active." in response.content.decode()
    assert "HX-Trigger" not in response


def test_modify_from_the_plan_page(client, medium, active_plan):
    client = _login(client, medium)
    response = client.post(reverse("plan-modify", args=[active_plan.pk]), {"installment_count": "2", "reason": "x"})
    assert response.status_code == 302
    active_plan.refresh_from_db()
    assert (active_plan.revision, active_plan.installment_amount) == (2, Decimal("100.00"))
    response = client.post(reverse("plan-modify", args=[active_plan.pk]), {"installment_count": "50"})
    assert response.status_code == 400
    assert "maximum of 24 months" in response.content.decode()


def test_panel_query_count(medium, account, active_plan, django_assert_max_num_queries):
    request = RequestFactory().get("/")
    request.user = medium
    account = type(account).objects.select_related("practice").get(pk=account.pk)
    with django_assert_max_num_queries(2):
        context = panel_context(request, account)
        html = render_to_string(
            "payment_plans/_panel.html", {**context, "account": account, "can": {"billing": True}}, request=request
        )
    assert 'id="panel-plans"' in html and "Agreement (PDF)" in html


def test_panel_offers_the_set_up_form_without_an_open_plan(medium, account):
    request = RequestFactory().get("/")
    request.user = medium
    context = panel_context(request, account)
    assert context["plan"] is None
    assert context["plan_form"].initial["total"] == Decimal("200.00")


def test_timeline_lists_plan_events(medium, account, active_plan, practice):
    from collections_app.correspondence.jobs import plan_reminders
    from payment_plans.jobs import plan_lapse_default
    from tests.payment_plans.conftest import context_for

    services.plan_modify(acting_user=medium, plan_id=active_plan.pk, installment_count=2)
    second = active_plan.installments.filter(superseded_at__isnull=True).order_by("due_on")[1]
    from datetime import timedelta

    plan_reminders(context_for(practice, second.due_on - timedelta(days=practice.plan_reminder_days_before)))
    first = active_plan.installments.filter(superseded_at__isnull=True).order_by("due_on")[0]
    plan_lapse_default(context_for(practice, first.due_on + timedelta(days=practice.plan_grace_days + 1)))
    pay_and_apply(account, "200.00")
    titles = [event.title for event in selectors.timeline_events(account)]
    for expected in (
        "Payment plan set up",
        "Payment plan activated",
        "Payment plan modified",
        "Plan reminder sent (letter)",
        "Payment plan lapsed",
        "Payment plan completed",
    ):
        assert expected in titles, titles
    assert all(event.kind == "plan" for event in selectors.timeline_events(account))


def test_account_page_shows_the_plan_panel_to_billing_tiers_only(client, medium, low, account, active_plan):
    page = _login(client, medium).get(reverse("account-detail", args=[account.pk])).content.decode()
    panel_url = reverse("plans-panel", args=[account.pk])
    assert 'id="panel-plans"' in page and f'hx-get="{panel_url}"' in page  # loads when opened
    panel = client.get(panel_url, HTTP_HX_REQUEST="true").content.decode()
    assert reverse("plan-detail", args=[active_plan.pk]) in panel
    page = _login(client, low).get(reverse("account-detail", args=[account.pk])).content.decode()
    assert 'id="panel-plans"' not in page


def test_plan_actions_without_htmx_redirect_to_the_account_or_the_plan_page(client, medium, account):
    plan = services.plan_create(acting_user=medium, account_id=account.pk, installment_count=2)
    client = _login(client, medium)
    response = client.post(reverse("plan-activate", args=[plan.pk]))
    assert response["Location"] == reverse("account-detail", args=[account.pk])
    response = client.post(reverse("plan-cancel", args=[plan.pk]), {"return_to": "plan"})
    assert response["Location"] == reverse("plan-detail", args=[plan.pk])
    plan.refresh_from_db()
    assert plan.status == "cancelled"


def test_plan_page_queries_do_not_grow_with_the_schedule(client, medium, account, django_assert_max_num_queries):
    account.practice.plan_min_installment = Decimal("1.00")
    account.practice.save()
    plan = services.plan_create(acting_user=medium, account_id=account.pk, installment_count=24, activate=True)
    for amount in ("5.00", "6.00", "7.00"):
        pay_and_apply(account, amount)
    services.plan_modify(acting_user=medium, plan_id=plan.pk, installment_count=12)
    client = _login(client, medium)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("plan-detail", args=[plan.pk]))
    assert response.status_code == 200


def test_panel_prefers_the_open_plan_over_an_older_or_newer_ended_one(medium, account):
    ended = services.plan_create(acting_user=medium, account_id=account.pk, installment_count=2)
    services.plan_cancel(acting_user=medium, plan_id=ended.pk)
    current = services.plan_create(acting_user=medium, account_id=account.pk, installment_count=4)
    assert selectors.current_plan(account) == current
    services.plan_cancel(acting_user=medium, plan_id=current.pk)
    assert selectors.current_plan(account) == current


def test_a_too_long_cancel_note_refuses_the_cancellation_and_keeps_the_plan(client, medium, active_plan):
    client.force_login(medium)
    response = client.post(reverse("plan-cancel", args=[active_plan.pk]), {"note": "x" * 301}, **HTMX)
    assert response.status_code == 200
    assert "300 characters" in response.content.decode()
    active_plan.refresh_from_db()
    assert active_plan.status == PaymentPlan.Status.ACTIVE
    assert not active_plan.status_changes.filter(to_status=PaymentPlan.Status.CANCELLED).exists()


def test_the_service_refuses_a_too_long_cancel_note_too(medium, active_plan):
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError, match="300 characters"):
        services.plan_cancel(acting_user=medium, plan_id=active_plan.pk, note="x" * 301)
    active_plan.refresh_from_db()
    assert active_plan.status == PaymentPlan.Status.ACTIVE


# --- The panel on its own ---------------------------------------------------------------------------


def test_plans_panel_loads_alone_for_billing_tiers_only(client, medium, low, outsider, account, active_plan):
    url = reverse("plans-panel", args=[account.pk])
    response = _login(client, medium).get(url, **HTMX)
    assert response.status_code == 200
    assert 'id="panel-plans"' in response.content.decode() and "$50.00" in response.content.decode()
    assert AuditEvent.objects.filter(user=medium, detail__panel="plans").exists()
    assert _login(client, low).get(url, **HTMX).status_code == 403
    assert _login(client, outsider).get(url, **HTMX).status_code == 404


# --- Set-up: the schedule first, then the patient's yes ------------------------------------------------


def test_show_the_schedule_saves_nothing_and_lists_every_installment(client, medium, account):
    client = _login(client, medium)
    response = client.post(reverse("plan-preview", args=[account.pk]), {"installment_amount": "50.00"}, **HTMX)
    assert response.status_code == 200 and account_changed_by(response) is None
    html = response.content.decode()
    assert 'data-testid="plan-offer"' in html
    assert "$200.00 in 4 installments (monthly)" in html  # exactly $50 a time, as typed
    assert html.count("$50.00</td>") == 4
    assert "Set up this plan" in html
    assert not PaymentPlan.objects.exists()


def test_the_rest_goes_on_the_last_installment(client, medium, account):
    client = _login(client, medium)
    html = client.post(
        reverse("plan-preview", args=[account.pk]), {"installment_amount": "75.00"}, **HTMX
    ).content.decode()
    assert "in 3 installments" in html and html.count("$75.00</td>") == 2 and "$50.00</td>" in html


def test_the_plan_starts_only_when_the_rep_confirms_the_patient_agreed(client, medium, account):
    client = _login(client, medium)
    panel = client.get(reverse("plans-panel", args=[account.pk]), **HTMX).content.decode()
    assert 'name="activate"' not in panel  # no "start now" before the schedule was shown
    preview = client.post(reverse("plan-preview", args=[account.pk]), {"installment_count": "4"}, **HTMX)
    assert 'name="activate"' in preview.content.decode() and "checked" not in _activate_input(preview)
    client.post(reverse("plan-create", args=[account.pk]), {"installment_count": "4"}, **HTMX)
    assert PaymentPlan.objects.get().status == PaymentPlan.Status.PROPOSED


def test_a_preview_refused_by_policy_says_why_beside_the_field(client, medium, account):
    client = _login(client, medium)
    html = client.post(
        reverse("plan-preview", args=[account.pk]), {"installment_amount": "5.00"}, **HTMX
    ).content.decode()
    assert "at least $25.00" in html and 'data-testid="plan-offer"' not in html
    assert not PaymentPlan.objects.exists()


def test_preview_is_for_the_billing_tiers_of_the_practice(client, low, outsider, account):
    url = reverse("plan-preview", args=[account.pk])
    assert _login(client, low).post(url, {"installment_count": "4"}, **HTMX).status_code == 403
    assert _login(client, outsider).post(url, {"installment_count": "4"}, **HTMX).status_code == 404


def _activate_input(response) -> str:
    html = response.content.decode()
    start = html.index('name="activate"')
    return html[html.rindex("<input", 0, start) : html.index(">", start)]
