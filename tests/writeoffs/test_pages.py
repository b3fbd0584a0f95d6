"""The write-off pages: the workspace panel a rep proposes from, the manager's approvals page (bulk
preview then confirm, denial, reversal, the night's small-balance runs) and a request's page.
Each for an allowed tier, a refused tier and another practice's user; list pages in a fixed number
of queries; PHI reads audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Transaction
from accounts.selectors import practice_today
from core.models import AuditEvent, Tier
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory, StaffUserFactory
from tests.pages import account_changed_by
from tests.security.forms_on_pages import forms_in
from writeoffs import services
from writeoffs.models import SmallBalanceRun, WriteOffRequest

HTMX = {"HTTP_HX_REQUEST": "true"}
APPROVALS = "/writeoffs/approvals/"


def login(client, user):
    client.force_login(user)
    return client


def propose(user, account, amount="200.00", reason="bad_debt", note="No response to final notice."):
    return services.writeoff_propose(
        acting_user=user, account_id=account.pk, amount=Decimal(amount), reason=reason, note=note
    )


def owing(practice, number, amount="150.00"):
    account = PatientAccountFactory(practice=practice, account_number=number)
    post_visit(account, days_ago=150, charge=amount, to_patient=amount)
    account.refresh_from_db()
    return account


@pytest.fixture
def south_manager(other_practice):
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


# --- the workspace panel ---------------------------------------------------------------------------


def panel_form(client, account):
    url = reverse("writeoffs-panel", args=[account.pk])
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    action = reverse("writeoff-propose", args=[account.pk])
    return response, next(form for form in forms_in(response.content.decode(), url) if form.action == action)


def test_the_account_page_offers_the_writeoff_panel_to_a_rep(client, medium, account):
    response = login(client, medium).get(reverse("account-detail", args=[account.pk]))
    assert response.status_code == 200
    assert reverse("writeoffs-panel", args=[account.pk]) in response.content.decode()


def test_the_panel_defaults_to_the_patient_balance_and_lists_the_open_visits(client, medium, account):
    response, form = panel_form(login(client, medium), account)
    body = form.body()
    assert body["writeoff-amount"] == "200.00"
    assert body["writeoff-idempotency_key"]
    html = response.content.decode()
    assert "Propose a write-off" in html and "Bad debt" in html and "Charity / financial assistance" in html
    assert "$120.00 open" in html and "$80.00 open" in html  # the two visits with their open balances
    audit = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=str(account.pk))
    assert audit.detail == {"panel": "writeoffs"}


def test_a_rep_proposes_a_bad_debt_writeoff_and_the_account_shows_it_waiting(client, medium, account):
    client = login(client, medium)
    _, form = panel_form(client, account)
    body = form.body(**{"writeoff-reason": "bad_debt", "writeoff-note": "Skip-traced, no address."})
    response = client.post(form.action, body, **HTMX)
    assert response.status_code == 200
    assert account_changed_by(response) == "writeoffs"
    html = response.content.decode()
    assert "Waiting for approval" in html and "$200.00" in html
    request = WriteOffRequest.objects.get(account=account)
    assert (request.status, request.reason, request.amount, request.requested_by) == (
        "proposed",
        "bad_debt",
        Decimal("200.00"),
        medium,
    )
    account.refresh_from_db()
    assert account.patient_balance == Decimal("200.00")  # nothing posts before approval


def test_a_proposal_for_one_visit_names_that_visit(client, medium, account):
    client = login(client, medium)
    _, form = panel_form(client, account)
    visit = account.encounters.order_by("date_of_service").first()  # the older one, $120 open
    body = form.body(**{"writeoff-reason": "charity", "writeoff-amount": "120.00", "writeoff-encounters": [visit.pk]})
    assert client.post(form.action, body, **HTMX).status_code == 200
    request = WriteOffRequest.objects.get(account=account)
    assert list(request.encounters.all()) == [visit]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "browser"])
def test_the_proposal_form_sent_twice_proposes_once(client, medium, account, htmx):
    client = login(client, medium)
    _, form = panel_form(client, account)
    body = form.body(**{"writeoff-reason": "bad_debt"})
    extra = HTMX if htmx else {}
    client.post(form.action, body, **extra)
    second = client.post(form.action, body, **extra, follow=not htmx)
    assert second.status_code == 200
    assert "already proposed (the form was sent twice)" in second.content.decode()
    assert WriteOffRequest.objects.filter(account=account).count() == 1


def test_a_refused_proposal_shows_why_beside_the_form(client, medium, account):
    client = login(client, medium)
    _, form = panel_form(client, account)
    response = client.post(
        form.action, form.body(**{"writeoff-reason": "bad_debt", "writeoff-amount": "900.00"}), **HTMX
    )
    assert response.status_code == 200
    assert account_changed_by(response) is None
    assert not WriteOffRequest.objects.exists()
    assert 'role="alert"' in response.content.decode() or "field-error" in response.content.decode()


def test_without_htmx_the_proposal_returns_to_the_account(client, medium, account):
    client = login(client, medium)
    _, form = panel_form(client, account)
    response = client.post(form.action, form.body(**{"writeoff-reason": "bad_debt"}), follow=True)
    assert response.redirect_chain[-1][0] == reverse("account-detail", args=[account.pk])
    assert "waiting for approval" in response.content.decode()


def test_the_panel_is_refused_to_the_front_desk_and_another_practice(client, low, outsider, account):
    for user, status in ((low, 403), (outsider, 404)):
        client = login(client, user)
        assert client.get(reverse("writeoffs-panel", args=[account.pk]), **HTMX).status_code == status
        post = client.post(reverse("writeoff-propose", args=[account.pk]), {"writeoff-reason": "bad_debt"}, **HTMX)
        assert post.status_code == status
    assert not WriteOffRequest.objects.exists()


def test_the_timeline_shows_the_proposal(client, medium, account):
    propose(medium, account)
    response = login(client, medium).get(reverse("account-timeline", args=[account.pk]), **HTMX)
    assert "Write-off proposed" in response.content.decode()


# --- the approvals page ----------------------------------------------------------------------------


def test_a_manager_sees_what_waits_oldest_first_with_who_and_when(client, manager, medium, account, practice):
    first = propose(medium, account, amount="50.00")
    other = owing(practice, "N0002222")
    propose(medium, other, amount="150.00", reason="charity")
    response = login(client, manager).get(APPROVALS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 write-offs waiting for approval" in html
    assert html.index("N0001234") < html.index("N0002222")  # oldest first
    patient = account.patient
    assert f"{patient.last_name}, {patient.first_name}" in html.replace("&#x27;", "'")
    assert "Bad debt" in html and "Charity / financial assistance" in html
    assert "$50.00" in html and "$150.00" in html
    assert medium.get_full_name() or medium.username in html
    assert " EST" in html or " EDT" in html  # times carry their zone
    shown = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_type="accounts.patient")
    assert {int(event.object_id) for event in shown} == {account.patient_id, other.patient_id}
    assert first.pk


def test_the_approvals_page_filters_by_reason(client, manager, medium, account, practice):
    propose(medium, account, amount="50.00")
    propose(medium, owing(practice, "N0002222"), amount="150.00", reason="charity")
    html = login(client, manager).get(APPROVALS, {"reason": "charity"}).content.decode()
    assert "N0002222" in html and "N0001234" not in html
    assert "1 write-off waiting for approval" in html


@pytest.mark.parametrize("persona", ["low", "medium"])
def test_approvals_are_refused_below_management(client, personas, persona):
    assert login(client, personas[persona]).get(APPROVALS).status_code == 403


def test_another_practices_manager_sees_none_of_them(client, south_manager, medium, account):
    propose(medium, account)
    response = login(client, south_manager).get(APPROVALS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "N0001234" not in html and "0 write-offs waiting" in html


def test_the_approvals_page_is_a_fixed_number_of_queries(
    client, manager, medium, practice, django_assert_max_num_queries
):
    for n in range(12):
        propose(medium, owing(practice, f"N00030{n:02d}"), amount="20.00")
    client = login(client, manager)
    with django_assert_max_num_queries(12):
        response = client.get(APPROVALS)
    assert response.status_code == 200
    assert "12 write-offs waiting for approval" in response.content.decode()


def test_the_nav_links_approvals_for_managers_only(client, manager, medium):
    assert 'href="/writeoffs/approvals/"' in login(client, manager).get("/").content.decode()
    assert 'href="/writeoffs/approvals/"' not in login(client, medium).get("/").content.decode()


# --- bulk approval: preview, then confirm ---------------------------------------------------------


def confirm_body(html) -> dict:
    """What pressing "Post N write-offs" sends: every request id of the preview and its fingerprint
    (a browser sends each hidden `requests` field; Form.body() would keep only one)."""
    confirm = next(form for form in forms_in(html, "/") if form.action == reverse("writeoff-approvals-confirm"))
    return {
        "requests": [item.value for item in confirm.fields if item.name == "requests"],
        "fingerprint": confirm.body()["fingerprint"],
    }


def test_bulk_preview_then_confirm_posts_them_and_the_balances_follow(
    client, manager, medium, account, practice, django_assert_max_num_queries
):
    other = owing(practice, "N0002222")
    one = propose(medium, account, amount="200.00")
    two = propose(medium, other, amount="150.00", reason="charity")
    client = login(client, manager)
    with django_assert_max_num_queries(20):
        preview = client.post(reverse("writeoff-approvals-preview"), {"requests": [one.pk, two.pk]})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Post 2 write-offs totalling $350.00" in html
    assert not Transaction.objects.filter(kind=Transaction.Kind.WRITE_OFF).exists()  # nothing posted yet
    response = client.post(reverse("writeoff-approvals-confirm"), confirm_body(html), follow=True)
    assert "Posted 2 write-offs totalling $350.00" in response.content.decode()
    assert set(WriteOffRequest.objects.values_list("status", flat=True)) == {"posted"}
    account.refresh_from_db()
    other.refresh_from_db()
    assert (account.patient_balance, other.patient_balance) == (Decimal("0.00"), Decimal("0.00"))
    written = Transaction.objects.filter(account=account, kind=Transaction.Kind.WRITE_OFF)
    assert sum(row.patient_amount for row in written) == Decimal("-200.00")
    assert set(written.values_list("write_off_reason", flat=True)) == {"bad_debt"}


def test_the_preview_leaves_out_the_managers_own_proposal_and_says_why(
    client, manager, manager2, medium, account, practice
):
    theirs = propose(medium, account, amount="200.00")
    own = propose(manager, owing(practice, "N0002222"), amount="90.00")
    response = login(client, manager).post(reverse("writeoff-approvals-preview"), {"requests": [theirs.pk, own.pk]})
    html = response.content.decode()
    assert "Post 1 write-off totalling $200.00" in html
    assert "Left out: you may not approve these" in html and "N0002222" in html
    assert "You proposed this write-off" in html


def test_above_the_managers_limit_waits_for_a_director(client, manager, director, medium, practice):
    big = owing(practice, "N0009000", amount="800.00")
    request = propose(medium, big, amount="800.00")
    html = login(client, manager).get(APPROVALS).content.decode()
    assert "Director approves" in html
    preview = client.post(reverse("writeoff-approvals-preview"), {"requests": [request.pk]}).content.decode()
    assert "Post 1 write-off" not in preview and "Director" in preview
    preview = login(client, director).post(reverse("writeoff-approvals-preview"), {"requests": [request.pk]})
    assert "Post 1 write-off totalling $800.00" in preview.content.decode()


def test_a_confirm_after_the_selection_changed_posts_nothing(client, manager, manager2, medium, account, practice):
    one = propose(medium, account, amount="200.00")
    two = propose(medium, owing(practice, "N0002222"), amount="150.00")
    client = login(client, manager)
    html = client.post(reverse("writeoff-approvals-preview"), {"requests": [one.pk, two.pk]}).content.decode()
    body = confirm_body(html)
    services.writeoff_deny(acting_user=manager2, request_id=two.pk, reason="Patient paid in the meantime.")
    response = client.post(reverse("writeoff-approvals-confirm"), body, follow=True)
    assert "The write-offs changed since you previewed them" in response.content.decode()
    assert not Transaction.objects.filter(kind=Transaction.Kind.WRITE_OFF).exists()


def test_approving_nothing_ticked_says_so(client, manager):
    response = login(client, manager).post(reverse("writeoff-approvals-preview"), {}, follow=True)
    assert "Tick at least one write-off" in response.content.decode()


@pytest.mark.parametrize("persona", ["low", "medium"])
def test_bulk_approval_is_refused_below_management(client, personas, account, persona):
    request = propose(personas["medium"], account)
    client = login(client, personas[persona])
    assert client.post(reverse("writeoff-approvals-preview"), {"requests": [request.pk]}).status_code == 403
    assert (
        client.post(reverse("writeoff-approvals-confirm"), {"requests": [request.pk], "fingerprint": "x"}).status_code
        == 403
    )
    request.refresh_from_db()
    assert request.status == "proposed"


def test_another_practices_manager_cannot_approve_them_in_bulk(client, south_manager, medium, account):
    request = propose(medium, account)
    response = login(client, south_manager).post(reverse("writeoff-approvals-preview"), {"requests": [request.pk]})
    assert "Post 1 write-off" not in response.content.decode()
    assert "N0001234" not in response.content.decode()
    request.refresh_from_db()
    assert request.status == "proposed"


# --- deny, approve one, reverse ------------------------------------------------------------------


def test_a_denial_needs_a_reason(client, manager, medium, account):
    request = propose(medium, account)
    client = login(client, manager)
    response = client.post(reverse("writeoff-deny", args=[request.pk]), {"reason": "", "next": APPROVALS}, follow=True)
    assert "Say why the write-off is denied" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "proposed"
    client.post(
        reverse("writeoff-deny", args=[request.pk]), {"reason": "Patient is on a payment plan.", "next": APPROVALS}
    )
    request.refresh_from_db()
    assert (request.status, request.denial_reason, request.decided_by) == (
        "denied",
        "Patient is on a payment plan.",
        manager,
    )


def test_a_posted_writeoff_is_reversed_with_a_reason_and_the_balance_comes_back(client, manager, medium, account):
    request = propose(medium, account)
    services.writeoff_approve(acting_user=manager, request_id=request.pk)
    client = login(client, manager)
    html = client.get(APPROVALS).content.decode()
    assert "Recently posted" in html and reverse("writeoff-reverse", args=[request.pk]) in html
    refused = client.post(reverse("writeoff-reverse", args=[request.pk]), {"reason": ""}, follow=True)
    assert "Say why the write-off is reversed" in refused.content.decode()
    client.post(
        reverse("writeoff-reverse", args=[request.pk]), {"reason": "Patient's estate found.", "next": APPROVALS}
    )
    request.refresh_from_db()
    account.refresh_from_db()
    assert request.status == "reversed"
    assert account.patient_balance == Decimal("200.00")


@pytest.mark.parametrize("name", ["writeoff-approve", "writeoff-deny", "writeoff-reverse"])
def test_request_actions_are_refused_to_a_rep_and_to_another_practice(client, medium, south_manager, account, name):
    request = propose(medium, account)
    assert login(client, medium).post(reverse(name, args=[request.pk]), {"reason": "x"}).status_code == 403
    assert login(client, south_manager).post(reverse(name, args=[request.pk]), {"reason": "x"}).status_code == 404
    request.refresh_from_db()
    assert request.status == "proposed"


# --- a request's page ---------------------------------------------------------------------------


def test_the_request_page_shows_history_entries_and_the_managers_actions(client, manager, medium, account):
    request = propose(medium, account)
    client = login(client, manager)
    html = client.get(reverse("writeoff-detail", args=[request.pk])).content.decode()
    assert "Approve and post $200.00" in html and "Deny write-off" in html
    assert "Waiting for approval" in html and "No response to final notice." in html
    client.post(reverse("writeoff-approve", args=[request.pk]))
    html = client.get(reverse("writeoff-detail", args=[request.pk])).content.decode()
    assert "Posted" in html and "Write-off" in html and "-200.00" in html
    assert "Reverse write-off" in html and "Approve and post" not in html
    audit = AuditEvent.objects.filter(object_type="writeoffs.writeoffrequest", action=AuditEvent.Action.VIEW)
    assert audit.count() == 2


def test_the_requester_sees_the_page_without_actions(client, medium, account):
    request = propose(medium, account)
    html = login(client, medium).get(reverse("writeoff-detail", args=[request.pk])).content.decode()
    assert "Waiting for approval" in html
    assert "Approve and post" not in html and "Deny write-off" not in html


def test_a_manager_is_not_offered_to_approve_their_own_proposal(client, manager, account):
    request = propose(manager, account)
    html = login(client, manager).get(reverse("writeoff-detail", args=[request.pk])).content.decode()
    assert "Approve and post" not in html and "another manager or a director approves it" in html


def test_the_request_page_is_refused_to_the_front_desk_and_another_practice(client, low, outsider, medium, account):
    request = propose(medium, account)
    assert login(client, low).get(reverse("writeoff-detail", args=[request.pk])).status_code == 403
    assert login(client, outsider).get(reverse("writeoff-detail", args=[request.pk])).status_code == 404


def test_a_second_proposal_defaults_to_what_is_not_already_waiting(client, medium, account):
    propose(medium, account, amount="150.00")
    _, form = panel_form(login(client, medium), account)
    assert form.body()["writeoff-amount"] == "50.00"
    propose(medium, account, amount="50.00")
    response = client.get(reverse("writeoffs-panel", args=[account.pk]), **HTMX)
    html = response.content.decode()
    assert "The whole patient balance is waiting for approval" in html
    assert reverse("writeoff-propose", args=[account.pk]) not in html


# --- the night's small-balance runs ----------------------------------------------------------------


def small_balance_run(account, amount="5.00"):
    """A night's preview as the nightly job leaves it: one run, its proposed request, no requester."""
    run = SmallBalanceRun.objects.create(
        practice=account.practice, run_on=practice_today(account.practice), account_count=1, total=Decimal(amount)
    )
    WriteOffRequest.objects.create(
        practice=account.practice,
        account=account,
        amount=Decimal(amount),
        reason="small_balance",
        source=WriteOffRequest.Source.SMALL_BALANCE_RUN,
        small_balance_run=run,
    )
    return run


def test_the_nights_run_waits_with_its_count_and_total_and_posts_when_approved(client, manager, account):
    run = small_balance_run(account)
    client = login(client, manager)
    html = client.get(APPROVALS).content.decode()
    assert "Small-balance runs waiting" in html and "Post 1 write-off totalling $5.00" in html
    assert "0 write-offs waiting for approval" in html  # its request is approved with the run, not alone
    response = client.post(reverse("small-balance-run-approve", args=[run.pk]), follow=True)
    assert "posted: 1 write-off totalling $5.00" in response.content.decode()
    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == "posted" and account.patient_balance == Decimal("195.00")


def test_discarding_the_nights_run_needs_a_reason_and_posts_nothing(client, manager, account):
    run = small_balance_run(account)
    client = login(client, manager)
    response = client.post(reverse("small-balance-run-discard", args=[run.pk]), {"reason": ""}, follow=True)
    assert "Say why the small-balance run is discarded" in response.content.decode()
    run.refresh_from_db()
    assert run.status == "preview"
    client.post(reverse("small-balance-run-discard", args=[run.pk]), {"reason": "Statements went out with errors."})
    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == "discarded" and account.patient_balance == Decimal("200.00")
    assert WriteOffRequest.objects.get(small_balance_run=run).status == "denied"


def test_the_nights_run_is_refused_to_a_rep_and_to_another_practice(client, medium, south_manager, account):
    run = small_balance_run(account)
    for name in ("small-balance-run-approve", "small-balance-run-discard"):
        assert login(client, medium).post(reverse(name, args=[run.pk]), {"reason": "x"}).status_code == 403
        assert login(client, south_manager).post(reverse(name, args=[run.pk]), {"reason": "x"}).status_code == 404
    assert "Small-balance runs waiting" not in client.get(APPROVALS).content.decode()
    run.refresh_from_db()
    assert run.status == "preview"


@pytest.mark.parametrize("value", ["99999999999999999999999", "-1", "abc", "1 OR 1=1"])
def test_odd_ids_sent_to_bulk_approval_are_refused_with_a_message(client, manager, value):
    client = login(client, manager)
    for name in ("writeoff-approvals-preview", "writeoff-approvals-confirm"):
        response = client.post(reverse(name), {"requests": [value], "fingerprint": "x"}, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == APPROVALS
    assert not Transaction.objects.filter(kind=Transaction.Kind.WRITE_OFF).exists()


def test_a_denial_returns_only_to_a_page_of_this_site(client, manager, medium, account):
    request = propose(medium, account)
    response = login(client, manager).post(
        reverse("writeoff-deny", args=[request.pk]), {"reason": "Paid.", "next": "https://elsewhere.example/"}
    )
    assert response["Location"] == reverse("writeoff-detail", args=[request.pk])
