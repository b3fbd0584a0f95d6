"""Work queue pages: my queue, Next account, the claim bar, team queues, reassign, rep assignments.
Each: the allowed tier, refused lower tiers (403), another practice (404 or nothing shown)."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone
from django.utils.html import escape

from accounts.models import PatientAccount
from collections_app.models import QueueEntry, RepAssignment, WorkItem
from collections_app.queues.services import queue_claim_next
from collections_app.queues.views import claim_bar_context
from core.context_processors import access
from core.models import AuditEvent, Tier
from tests.factories import StaffUserFactory, queued_account

HTMX = {"HTTP_HX_REQUEST": "true"}
Reason = WorkItem.Reason


def queued(practice, score="50", *, assigned_rep=None, reasons=(Reason.PAST_DUE,)):
    return queued_account(practice, score, reasons=reasons, assigned_rep=assigned_rep, patient_balance="120.00")


@pytest.fixture
def other_manager(other_practice):
    return StaffUserFactory(username="othermanager", tier=Tier.MANAGEMENT, practices=[other_practice])


def as_user(client, user):
    client.force_login(user)
    return client


# --- My queue ----------------------------------------------------------------------------------


def test_my_queue_lists_my_accounts_best_first_with_reasons_and_balances(client, medium, practice):
    low_score = queued(practice, "10")
    high_score = queued(practice, "90", reasons=(Reason.PROMISE_BROKEN, Reason.PAST_DUE))
    response = as_user(client, medium).get("/queue/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(high_score.account_number) < html.index(low_score.account_number)
    assert "Promise to pay broken" in html
    assert "$120.00" in html
    assert "data-hotkey-next" in html
    assert escape(high_score.patient.last_name) in html
    shown = AuditEvent.objects.filter(user=medium, object_type="accounts.patientaccount")
    assert {int(e.object_id) for e in shown} == {low_score.pk, high_score.pk}


def test_my_queue_is_a_fixed_number_of_queries(client, medium, practice, django_assert_max_num_queries):
    for n in range(30):
        queued(practice, str(n))
    client = as_user(client, medium)
    with django_assert_max_num_queries(10):
        response = client.get("/queue/")
    assert response.status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get("/queue/?page=2").status_code == 200


def test_my_queue_shows_nothing_of_other_practices(client, outsider, practice):
    account = queued(practice)
    response = as_user(client, outsider).get("/queue/")
    assert response.status_code == 200
    assert account.account_number not in response.content.decode()


def test_my_queue_refuses_low_tier(client, low):
    assert as_user(client, low).get("/queue/").status_code == 403


def test_my_queue_page_past_the_end_is_404(client, medium, practice):
    queued(practice)
    assert as_user(client, medium).get("/queue/?page=9").status_code == 404


# --- Next account and release ------------------------------------------------------------------


def test_next_account_claims_and_opens_the_account(client, medium, practice):
    account = queued(practice, "90")
    response = as_user(client, medium).post("/queue/next/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{account.pk}/"
    assert QueueEntry.objects.get(account=account).claimed_by == medium


def test_next_account_with_an_empty_queue_says_so(client, medium, practice):
    response = as_user(client, medium).post("/queue/next/", follow=True)
    assert response.redirect_chain[-1][0] == "/queue/"
    assert "Nothing left in your queue" in response.content.decode()


def test_next_account_refuses_low_tier_and_get(client, low, medium):
    assert as_user(client, low).post("/queue/next/").status_code == 403
    assert as_user(client, medium).get("/queue/next/").status_code == 405


def test_next_account_never_hands_out_another_practices_account(client, outsider, practice):
    queued(practice)
    response = as_user(client, outsider).post("/queue/next/")
    assert response["Location"] == "/queue/"
    assert QueueEntry.objects.filter(claimed_by__isnull=False).count() == 0


def test_release_ends_my_lease(client, medium, practice):
    account = queued(practice)
    queue_claim_next(acting_user=medium)
    response = as_user(client, medium).post(f"/queue/{account.pk}/release/")
    assert response.status_code == 302
    assert QueueEntry.objects.get(account=account).claim_expires_at <= timezone.now()


def test_release_with_htmx_rerenders_the_claim_bar(client, medium, practice):
    account = queued(practice)
    queue_claim_next(acting_user=medium)
    response = as_user(client, medium).post(f"/queue/{account.pk}/release/", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="claim-bar"' in html
    assert "not claimed" in html


def test_release_refuses_low_tier_and_other_practices(client, low, outsider, practice):
    account = queued(practice)
    assert as_user(client, low).post(f"/queue/{account.pk}/release/").status_code == 403
    assert as_user(client, outsider).post(f"/queue/{account.pk}/release/").status_code == 404


def test_releasing_another_reps_claim_is_refused(client, medium, practice):
    account = queued(practice)
    holder = StaffUserFactory(username="holder", practices=[practice])
    queue_claim_next(acting_user=holder)
    response = as_user(client, medium).post(f"/queue/{account.pk}/release/", **HTMX)
    assert response.status_code == 400
    assert QueueEntry.objects.get(account=account).claim_expires_at > timezone.now()


def render_claim_bar(user, account):
    request = RequestFactory().get(f"/accounts/{account.pk}/")
    request.user = user
    context = {"account": account, "request": request, "user": user, **access(request)}
    return render_to_string(
        "collections_app/queues/_claim_bar.html", {**context, **claim_bar_context(request, account)}
    )


def test_claim_bar_shows_my_claim_until_when_with_reasons(medium, practice):
    account = queued(practice, reasons=(Reason.INQUIRY_DUE, Reason.PAST_DUE))
    queue_claim_next(acting_user=medium)
    account = PatientAccount.objects.select_related("practice").get(pk=account.pk)
    html = render_claim_bar(medium, account)
    assert "Claimed by you until" in html
    assert "Inquiry awaiting a response" in html
    assert "Release" in html
    assert "Next account" in html


def test_claim_bar_names_the_rep_holding_the_account(medium, practice):
    account = queued(practice)
    holder = StaffUserFactory(username="holder", first_name="Dana", last_name="Lee", practices=[practice])
    queue_claim_next(acting_user=holder)
    html = render_claim_bar(medium, PatientAccount.objects.select_related("practice").get(pk=account.pk))
    assert "Being worked by Dana Lee" in html
    assert "Release" not in html


def test_claim_bar_for_an_account_outside_the_queue(medium, account):
    html = render_claim_bar(medium, account)
    assert "Not in the work queue" in html


# --- Managers: team queues, reassign, assignments ------------------------------------------------


def test_team_page_counts_each_reps_queue_by_reason(client, manager, medium, practice, django_assert_max_num_queries):
    for _ in range(3):
        queued(practice, assigned_rep=medium)
    queued(practice, reasons=(Reason.RETURNED_MAIL,))
    client = as_user(client, manager)
    with django_assert_max_num_queries(10):
        response = client.get("/queue/team/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/queue/team/{medium.pk}/" in html
    assert "Unassigned pool" in html
    assert "Returned mail to research" in html


@pytest.mark.parametrize("persona", ["low", "medium"])
def test_team_pages_refuse_lower_tiers(client, personas, persona, medium):
    client = as_user(client, personas[persona])
    assert client.get("/queue/team/").status_code == 403
    assert client.get(f"/queue/team/{medium.pk}/").status_code == 403
    assert client.get("/queue/assignments/").status_code == 403


def test_team_rep_page_lists_the_reps_accounts_with_reassign_forms(
    client, manager, medium, practice, django_assert_max_num_queries
):
    accounts = [queued(practice, assigned_rep=medium) for _ in range(5)]
    client = as_user(client, manager)
    with django_assert_max_num_queries(12):
        response = client.get(f"/queue/team/{medium.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert all(a.account_number in html for a in accounts)
    assert f"/queue/{accounts[0].pk}/reassign/" in html


def test_team_pages_of_another_practice_are_hidden(client, other_manager, medium, practice):
    queued(practice, assigned_rep=medium)
    client = as_user(client, other_manager)
    assert client.get(f"/queue/team/{medium.pk}/").status_code == 404
    assert f"/queue/team/{medium.pk}/" not in client.get("/queue/team/").content.decode()


def test_manager_reassigns_from_the_team_page_with_htmx(client, manager, medium, practice):
    account = queued(practice, assigned_rep=medium)
    rep2 = StaffUserFactory(username="rep2", practices=[practice])
    prefix = f"a{account.pk}"
    response = as_user(client, manager).post(
        f"/queue/{account.pk}/reassign/", {"prefix": prefix, f"{prefix}-rep": rep2.pk}, **HTMX
    )
    assert response.status_code == 200
    assert "Reassigned." in response.content.decode()
    assert PatientAccount.objects.get(pk=account.pk).assigned_rep == rep2
    assert QueueEntry.objects.get(account=account).assigned_rep == rep2


def test_reassign_without_htmx_redirects_back(client, manager, medium, practice):
    account = queued(practice)
    response = as_user(client, manager).post(
        f"/queue/{account.pk}/reassign/", {"rep": medium.pk, "next": f"/queue/team/{medium.pk}/"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/queue/team/{medium.pk}/"
    assert PatientAccount.objects.get(pk=account.pk).assigned_rep == medium


def test_reassign_to_a_rep_of_another_practice_is_refused(client, manager, outsider, practice):
    account = queued(practice)
    response = as_user(client, manager).post(f"/queue/{account.pk}/reassign/", {"rep": outsider.pk}, **HTMX)
    assert response.status_code == 400
    assert PatientAccount.objects.get(pk=account.pk).assigned_rep is None


def test_reassign_refuses_lower_tiers_and_other_practices(client, low, medium, other_manager, practice):
    account = queued(practice)
    for user in (low, medium):
        assert as_user(client, user).post(f"/queue/{account.pk}/reassign/", {"rep": medium.pk}).status_code == 403
    assert as_user(client, other_manager).post(f"/queue/{account.pk}/reassign/", {"rep": ""}).status_code == 404


def test_assignments_page_assigns_a_rep_to_a_practice_bucket(client, manager, medium, practice):
    client = as_user(client, manager)
    assert client.get("/queue/assignments/").status_code == 200
    response = client.post(
        "/queue/assignments/",
        {"rep": medium.pk, "practice": practice.pk, "bucket": RepAssignment.Bucket.CORRESPONDENCE},
    )
    assert response.status_code == 302
    assignment = RepAssignment.objects.get()
    assert (assignment.rep, assignment.practice, assignment.assigned_by) == (medium, practice, manager)
    page = client.get("/queue/assignments/").content.decode()
    assert "Returned mail and inquiries" in page
    assert client.post(f"/queue/assignments/{assignment.pk}/delete/").status_code == 302
    assert not RepAssignment.objects.exists()


def test_assignments_refuse_other_practices(client, other_manager, manager, medium, practice, other_practice):
    assignment = RepAssignment.objects.create(rep=medium, practice=practice, bucket=RepAssignment.Bucket.ALL)
    client = as_user(client, other_manager)
    assert client.post(f"/queue/assignments/{assignment.pk}/delete/").status_code == 404
    response = client.post("/queue/assignments/", {"rep": medium.pk, "practice": practice.pk, "bucket": "all"})
    assert response.status_code == 400
    assert medium.username not in client.get("/queue/assignments/").content.decode()
    assert RepAssignment.objects.count() == 1


def test_assignment_delete_refuses_medium(client, medium, practice):
    assignment = RepAssignment.objects.create(rep=medium, practice=practice, bucket=RepAssignment.Bucket.ALL)
    assert as_user(client, medium).post(f"/queue/assignments/{assignment.pk}/delete/").status_code == 403


def test_nav_shows_the_work_queue_to_billing_tiers(client, medium, low):
    assert 'href="/queue/"' in as_user(client, medium).get("/").content.decode()
    assert 'href="/queue/"' not in as_user(client, low).get("/").content.decode()


def test_lease_shown_as_taken_in_my_queue(client, medium, practice):
    account = queued(practice)
    QueueEntry.objects.filter(account=account).update(
        claimed_by=StaffUserFactory(username="holder", practices=[practice]),
        claim_expires_at=timezone.now() + timedelta(minutes=5),
    )
    html = as_user(client, medium).get("/queue/").content.decode()
    assert "holder" in html


# --- Steering the team from the screens ------------------------------------------------------------


def test_the_unassigned_pool_opens_with_reassign_forms(client, manager, medium, practice):
    pooled = [queued(practice) for _ in range(3)]
    assigned = queued(practice, assigned_rep=medium)
    client = as_user(client, manager)
    assert 'href="/queue/team/pool/"' in client.get("/queue/team/").content.decode()
    html = client.get("/queue/team/pool/").content.decode()
    assert "Unassigned pool" in html
    assert all(account.account_number in html for account in pooled)
    assert assigned.account_number not in html
    prefix = f"a{pooled[0].pk}"
    response = client.post(f"/queue/{pooled[0].pk}/reassign/", {"prefix": prefix, f"{prefix}-rep": medium.pk}, **HTMX)
    assert response.status_code == 200
    assert QueueEntry.objects.get(account=pooled[0]).assigned_rep == medium


def test_the_pool_is_for_managers_of_the_practice(client, medium, other_manager, practice):
    pooled = queued(practice)
    assert as_user(client, medium).get("/queue/team/pool/").status_code == 403
    assert pooled.account_number not in as_user(client, other_manager).get("/queue/team/pool/").content.decode()


def test_an_account_being_worked_counts_under_the_rep_working_it(client, manager, medium, practice):
    queued(practice)  # in the pool
    queue_claim_next(acting_user=medium)
    rows = as_user(client, manager).get("/queue/team/").context["rows"]
    by_rep = {row.rep.pk if row.rep else None: row for row in rows}
    assert by_rep[medium.pk].leased == 1
    assert by_rep[None].leased == 0 and by_rep[None].total == 1


def test_the_team_table_has_one_reasons_cell_not_a_column_per_reason(client, manager, medium, practice):
    for reason in (Reason.PAST_DUE, Reason.RETURNED_MAIL, Reason.INQUIRY_DUE, Reason.PROMISE_BROKEN):
        queued(practice, assigned_rep=medium, reasons=(reason,))
    html = as_user(client, manager).get("/queue/team/").content.decode()
    header = html[html.index("<thead>") : html.index("</thead>")]
    assert header.count("</th>") == 4
    assert "Returned mail to research <strong>1</strong>" in html


def test_the_claim_column_says_free_or_who_until_when(client, medium, practice):
    queued(practice, "90")
    queued(practice, "10")
    queue_claim_next(acting_user=medium)
    html = as_user(client, medium).get("/queue/").content.decode()
    assert 'You <span class="muted">until' in html and "Free" in html


def test_working_the_account_extends_my_claim(client, medium, practice):
    account = queued(practice)
    queue_claim_next(acting_user=medium)
    QueueEntry.objects.filter(account=account).update(claim_expires_at=timezone.now() + timedelta(minutes=2))
    response = as_user(client, medium).post(f"/queue/{account.pk}/extend/", **HTMX)
    assert response.status_code == 200 and "Claimed by you until" in response.content.decode()
    expires = QueueEntry.objects.get(account=account).claim_expires_at
    assert expires > timezone.now() + timedelta(minutes=25)


def test_extending_never_takes_another_reps_claim(client, medium, practice, outsider):
    account = queued(practice)
    holder = StaffUserFactory(username="holder", practices=[practice])
    queue_claim_next(acting_user=holder)
    before = QueueEntry.objects.get(account=account).claim_expires_at
    assert as_user(client, medium).post(f"/queue/{account.pk}/extend/", **HTMX).status_code == 200
    entry = QueueEntry.objects.get(account=account)
    assert (entry.claimed_by, entry.claim_expires_at) == (holder, before)
    assert as_user(client, outsider).post(f"/queue/{account.pk}/extend/", **HTMX).status_code == 404


def test_the_claim_bar_follows_the_account_after_an_action_without_a_claim(client, medium, practice):
    """Unclaimed, the bar still listens for account-changed and comes back with the reasons as
    they are now (a hold placed from a panel clears the dunning reasons)."""
    account = queued(practice, reasons=(Reason.PAST_DUE, Reason.FINAL_NOTICE))
    page = as_user(client, medium).get(f"/accounts/{account.pk}/").content.decode()
    bar = page[page.index('id="claim-bar"') : page.index(">", page.index('id="claim-bar"'))]
    assert f'hx-post="/queue/{account.pk}/extend/"' in bar and 'hx-trigger="account-changed from:body"' in bar
    entry = QueueEntry.objects.get(account=account)
    entry.reasons = [Reason.FINAL_NOTICE]
    entry.save(update_fields=["reasons"])
    html = as_user(client, medium).post(f"/queue/{account.pk}/extend/", **HTMX).content.decode()
    assert "not claimed" in html
    assert "Final notice due" in html and "Patient balance past due" not in html


def test_a_capped_queue_does_not_claim_to_know_its_last_page(medium, practice):
    from django.template import Context, Template

    from core.pagination import CappedPaginator

    for _ in range(12):
        queued(practice)
    position = Template("{% load pages %}{{ page|page_position }}")
    page = CappedPaginator(QueueEntry.objects.order_by("pk"), 5, cap=10).page(1)
    assert position.render(Context({"page": page})) == "Page 1"
    page = CappedPaginator(QueueEntry.objects.order_by("pk"), 5, cap=100).page(2)
    assert position.render(Context({"page": page})) == "Page 2 of 3"
