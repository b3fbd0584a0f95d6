"""Dashboards by role: the rep's own day, the manager's practices and team, the front desk without
money; figures scoped to the user's practices, in each practice's time zone, and a query count that
does not grow with reps, practices or accounts."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from accounts import services as ledger
from accounts.models import AccountAgingState, Transaction
from accounts.selectors import practice_today
from collections_app import dashboard
from collections_app.models import AccountNote, Contact, PromiseToPay, WorkItem
from collections_app.views import home
from core.models import AuditEvent, StaffUser, Tier
from tests.factories import PatientAccountFactory, PracticeFactory, StaffUserFactory, queued_account

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind
NEW_YORK = ZoneInfo("America/New_York")
# A fixed afternoon in the middle of a month: "today" is March 17, "this month" from March 1.
NOW = datetime(2026, 3, 17, 15, 0, tzinfo=NEW_YORK)


def page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("home"), params)


def team_section(client, user):
    client.force_login(user)
    return client.get(reverse("home"), {"section": "team"}, HTTP_HX_REQUEST="true")


def pay(account, user, amount, at=None, *, kind=Kind.PATIENT_PAYMENT):
    """A payment row as the ledger stores it (negative patient amount), posted at `at`."""
    at = at or timezone.now()
    return Transaction.objects.create(
        account=account,
        kind=kind,
        patient_amount=-Decimal(amount),
        effective_on=at.astimezone(ZoneInfo(account.practice.time_zone)).date(),
        posted_at=at,
        posted_by=user,
        payment_method=Transaction.PaymentMethod.CASH if kind == Kind.PATIENT_PAYMENT else "",
    )


def reverse_row(original, user, at=None):
    at = at or timezone.now()
    return Transaction.objects.create(
        account=original.account,
        kind=Kind.REVERSAL,
        patient_amount=-original.patient_amount,
        insurance_amount=-original.insurance_amount,
        effective_on=at.astimezone(ZoneInfo(original.account.practice.time_zone)).date(),
        posted_at=at,
        posted_by=user,
        reverses=original,
        memo="Check returned",
    )


def promise(account, user, *, due_on, amount="40.00", status=PromiseToPay.Status.OPEN, created_at=None):
    return PromiseToPay.objects.create(
        account=account,
        practice=account.practice,
        amount=Decimal(amount),
        promised_on=due_on - timedelta(days=3),
        due_on=due_on,
        status=status,
        created_by=user,
        created_at=created_at or timezone.now(),
    )


def contact(account, user, at=None):
    return Contact.objects.create(
        account=account,
        practice=account.practice,
        channel=Contact.Channel.OUTBOUND_CALL,
        party=Contact.Party.PATIENT,
        outcome=Contact.Outcome.LEFT_MESSAGE,
        occurred_at=at or timezone.now(),
        logged_by=user,
    )


# --- the rep's figures ---------------------------------------------------------------------------


def test_rep_figures_count_their_queue_follow_ups_promises_and_collections(practice, other_practice, medium):
    other_rep = StaffUserFactory(username="other-rep", tier=Tier.MEDIUM, practices=[practice])
    mine = queued_account(practice, assigned_rep=medium)
    queued_account(practice)  # the unassigned pool: in my queue
    queued_account(practice, reasons=(WorkItem.Reason.FOLLOW_UP_DUE, WorkItem.Reason.PAST_DUE))  # pool, follow-up
    queued_account(practice, reasons=(WorkItem.Reason.FOLLOW_UP_DUE,), assigned_rep=other_rep)  # someone else's
    queued_account(other_practice)  # not my practice

    today = NOW.date()
    account = PatientAccountFactory(practice=practice)
    promise(account, medium, due_on=today, amount="40.00")
    promise(mine, medium, due_on=today, amount="15.50")
    promise(account, medium, due_on=today + timedelta(days=1))  # tomorrow
    promise(account, medium, due_on=today, status=PromiseToPay.Status.KEPT)  # already kept
    promise(account, other_rep, due_on=today)  # another rep's

    pay(account, medium, "50.00", NOW - timedelta(hours=5))
    bounced = pay(account, medium, "25.03", NOW - timedelta(hours=4))
    reverse_row(bounced, other_rep, NOW - timedelta(hours=1))  # comes off the rep who collected it
    pay(account, medium, "10.00", NOW - timedelta(hours=3), kind=Kind.AGENCY_PAYMENT)
    pay(account, medium, "100.00", datetime(2026, 3, 3, 10, 0, tzinfo=NEW_YORK))  # this month
    pay(account, medium, "7.00", datetime(2026, 3, 16, 23, 30, tzinfo=NEW_YORK))  # yesterday, New York time
    pay(account, medium, "999.00", datetime(2026, 2, 28, 12, 0, tzinfo=NEW_YORK))  # last month
    pay(account, other_rep, "40.00", NOW - timedelta(hours=2))  # another rep's
    Transaction.objects.create(
        account=account,
        kind=Kind.INSURANCE_PAYMENT,
        insurance_amount=Decimal("-500.00"),
        effective_on=today,
        posted_at=NOW - timedelta(hours=2),
        posted_by=medium,
    )  # the payer's money, not the rep's collection

    day = dashboard.rep_dashboard(user=medium, practices=[practice], now=NOW)

    totals = day.totals
    assert (totals.queue, totals.follow_ups_due) == (3, 1)
    assert (totals.promises_due, totals.promised_due_amount) == (2, Decimal("55.50"))
    assert totals.collected_today == Decimal("60.00")
    assert totals.collected_month == Decimal("167.00")
    assert isinstance(totals.collected_today, Decimal)
    assert day.zones == ["America/New_York"]


def test_a_reversal_today_of_an_earlier_payment_lowers_today(practice, medium):
    account = PatientAccountFactory(practice=practice)
    earlier = pay(account, medium, "60.00", datetime(2026, 3, 5, 10, 0, tzinfo=NEW_YORK))
    reverse_row(earlier, medium, NOW - timedelta(hours=1))

    totals = dashboard.rep_dashboard(user=medium, practices=[practice], now=NOW).totals

    assert totals.collected_today == Decimal("-60.00")
    assert totals.collected_month == Decimal("0.00")


def test_today_is_each_practices_own_day(practice, other_practice, medium):
    """Los Angeles is three hours behind: 01:00 in New York on March 17 is still March 16 there."""
    from core.access import grant_practice

    grant_practice(medium, other_practice)
    now = datetime(2026, 3, 17, 1, 0, tzinfo=NEW_YORK)
    east, west = PatientAccountFactory(practice=practice), PatientAccountFactory(practice=other_practice)
    pay(east, medium, "20.00", datetime(2026, 3, 16, 23, 0, tzinfo=NEW_YORK))  # yesterday in New York
    pay(west, medium, "30.00", datetime(2026, 3, 16, 23, 0, tzinfo=NEW_YORK))  # 20:00 today in Los Angeles

    day = dashboard.rep_dashboard(user=medium, practices=[practice, other_practice], now=now)

    assert day.by_practice[practice.pk].collected_today == Decimal("0.00")
    assert day.by_practice[other_practice.pk].collected_today == Decimal("30.00")
    assert day.zones == ["America/Los_Angeles", "America/New_York"]


def test_rep_dashboard_page_shows_collected_today_net_of_a_reversal(client, practice, medium, manager):
    account = PatientAccountFactory(practice=practice, patient_balance=Decimal("0.00"))
    ledger.transaction_post(
        acting_user=manager,
        account_id=account.pk,
        kind=Kind.REFUND,
        patient_amount="300.00",
        memo="Opening balance for the test",
    )
    kept = ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-120.00",
        payment_method=Transaction.PaymentMethod.CHECK,
        reference="CHK-1001",
    )
    bounced = ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-30.00",
        payment_method=Transaction.PaymentMethod.CHECK,
        reference="CHK-1002",
    )
    ledger.transaction_reverse(acting_user=manager, transaction_id=bounced.pk, reason="Check returned unpaid")
    assert kept.posted_by == medium

    response = page(client, medium)

    html = response.content.decode()
    assert response.context["mine"].totals.collected_today == Decimal("120.00")
    assert 'data-figure="collected-today"' in html and "$120.00" in html
    assert "Eastern (New York) time" in html
    assert f'href="{reverse("queue")}"' in html
    assert f'href="{reverse("queue")}?reason=follow_up_due"' in html  # the queue narrowed to due follow-ups
    assert "team-today" not in html  # the manager's section is not the rep's


def test_promises_due_today_are_listed_with_links_and_their_reading_is_audited(client, practice, medium):
    account = PatientAccountFactory(practice=practice, account_number="N0042424")
    promise(account, medium, due_on=practice_today(practice), amount="45.00")

    html = page(client, medium).content.decode()

    assert reverse("account-detail", args=[account.pk]) in html
    assert "N0042424" in html and "$45.00" in html
    assert AuditEvent.objects.filter(
        user=medium, action=AuditEvent.Action.VIEW, object_type="accounts.patientaccount", object_id=str(account.pk)
    ).exists()


# --- who sees what -------------------------------------------------------------------------------


def test_front_desk_sees_no_billing_figures(client, practice, low, medium):
    account = PatientAccountFactory(practice=practice, patient_balance=Decimal("80.00"))
    pay(account, medium, "55.55")
    promise(account, medium, due_on=practice_today(practice))

    response = page(client, low)
    html = response.content.decode()

    assert "$" not in html and "55.55" not in html
    for words in ("Collected", "My queue", "Promises due", "Patient AR", "past due", "team"):
        assert words not in html
    assert {"mine", "team"}.isdisjoint(response.context.keys())
    assert "patient_ar" not in response.context["totals"]
    # Asking for the team's work is no way around it.
    assert "Accounts worked" not in team_section(client, low).content.decode()


def test_another_practices_user_sees_none_of_this_practices_numbers(client, practice, other_practice, medium, outsider):
    account = PatientAccountFactory(practice=practice, patient_balance=Decimal("321.09"))
    AccountAgingState.objects.create(
        account=account, practice=practice, patient_open=account.patient_balance, is_past_due=True
    )
    pay(account, medium, "77.70")
    contact(account, medium)
    outside_manager = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])

    rep_html = page(client, outsider).content.decode()
    manager_response = page(client, outside_manager)
    team_html = team_section(client, outside_manager).content.decode()

    for html in (rep_html, manager_response.content.decode(), team_html):
        assert "Northside Pediatrics" not in html
        assert "321.09" not in html and "77.70" not in html
    assert manager_response.context["totals"]["accounts_past_due"] == 0
    assert 'data-rep="medium"' not in team_html


def test_a_rep_asking_for_the_team_section_gets_their_own_dashboard(client, practice, medium):
    response = team_section(client, medium)
    assert response.status_code == 200
    assert "mine" in response.context and "team" not in response.context


# --- the manager's figures -----------------------------------------------------------------------


def test_manager_sees_each_practices_ar_and_accounts_past_due(client, practice, manager):
    late = PatientAccountFactory(practice=practice, patient_balance=Decimal("120.00"))
    AccountAgingState.objects.create(
        account=late, practice=practice, patient_open=late.patient_balance, is_past_due=True
    )
    current = PatientAccountFactory(practice=practice, patient_balance=Decimal("80.25"))
    AccountAgingState.objects.create(account=current, practice=practice, patient_open=current.patient_balance)
    paid_since = PatientAccountFactory(practice=practice, patient_balance=Decimal("0.00"))
    # Past due last night, paid off since: no longer owes, no longer past due.
    AccountAgingState.objects.create(
        account=paid_since, practice=practice, patient_open=Decimal("10.00"), is_past_due=True
    )

    response = page(client, manager)

    row = response.context["rows"][0]
    assert (row["accounts_owing"], row["patient_ar"]) == (2, Decimal("200.25"))
    assert (row["accounts_past_due"], row["past_due_ar"]) == (1, Decimal("120.00"))
    html = response.content.decode()
    assert "$200.25" in html and "$120.00" in html
    assert "mine" not in response.context
    assert f'hx-get="{reverse("home")}?section=team"' in html


def test_team_work_today_counts_each_reps_accounts_contacts_payments_and_promises(
    client, practice, other_practice, manager, outsider
):
    alice = StaffUserFactory(username="alice", first_name="Alice", last_name="Ames", practices=[practice])
    bob = StaffUserFactory(username="bob", first_name="Bob", last_name="Brown", practices=[practice])
    idle = StaffUserFactory(username="idle", first_name="Ida", last_name="Idle", practices=[practice])
    first, second, third = (PatientAccountFactory(practice=practice) for _ in range(3))
    today = practice_today(practice)
    yesterday = datetime.combine(today, datetime.min.time(), tzinfo=NEW_YORK) - timedelta(minutes=1)

    contact(first, alice)
    contact(first, alice)  # the same account twice: worked once
    promise(first, alice, due_on=today + timedelta(days=7), amount="90.00")
    pay(second, alice, "80.00")
    AccountNote.objects.create(account=third, practice=practice, body="Called the payer", created_by=alice)
    contact(third, alice, yesterday)  # yesterday's work does not count
    contact(first, bob)
    bounced = pay(second, bob, "35.00")
    reverse_row(bounced, manager)  # counted against bob, not the manager who reversed it
    contact(PatientAccountFactory(practice=other_practice), outsider)  # another practice

    response = team_section(client, manager)

    rows = {row.rep.username: row for row in response.context["team"].rows}
    assert set(rows) == {"alice", "bob", "idle", "manager"}
    assert (rows["alice"].accounts_worked, rows["alice"].contacts) == (3, 2)
    assert (rows["alice"].payments, rows["alice"].collected) == (1, Decimal("80.00"))
    assert (rows["alice"].promises, rows["alice"].promised_amount) == (1, Decimal("90.00"))
    assert (rows["bob"].accounts_worked, rows["bob"].contacts, rows["bob"].payments) == (2, 1, 1)
    assert rows["bob"].collected == Decimal("0.00")
    assert (rows["manager"].accounts_worked, rows["manager"].collected) == (0, Decimal("0.00"))
    assert not rows[idle.username].has_work
    assert response.context["team"].totals.collected == Decimal("80.00")
    html = response.content.decode()
    assert "<html" not in html  # the htmx fragment only
    assert 'data-rep="alice"' in html and "$80.00" in html and "Today in Eastern (New York) time." in html
    assert [row.rep.username for row in response.context["team"].rows][:2] == ["alice", "bob"]


def test_team_work_without_htmx_is_part_of_the_page(client, practice, manager):
    alice = StaffUserFactory(username="alice", practices=[practice])
    contact(PatientAccountFactory(practice=practice), alice)
    client.force_login(manager)
    html = client.get(reverse("home"), {"section": "team"}).content.decode()
    assert "<html" in html and 'data-rep="alice"' in html and 'hx-trigger="load"' not in html


def test_a_rep_or_manager_without_practices_sees_empty_figures(client, db):
    new_rep = StaffUserFactory(username="new-rep", tier=Tier.MEDIUM)
    assert page(client, new_rep).context["mine"].totals.collected_today == Decimal("0.00")
    nowhere = StaffUserFactory(username="new-manager", tier=Tier.MANAGEMENT)
    assert "You have not been given access to any practice yet" in page(client, nowhere).content.decode()
    response = team_section(client, nowhere)
    assert response.status_code == 200
    assert "No reps work your practices yet." in response.content.decode()


def test_director_sees_every_practice_and_its_team(client, practice, other_practice, director, outsider):
    contact(PatientAccountFactory(practice=other_practice), outsider)
    assert {row["practice"].code for row in page(client, director).context["rows"]} == {"north", "south"}
    rows = {row.rep.username: row for row in team_section(client, director).context["team"].rows}
    assert rows["outsider"].contacts == 1


# --- set-based: the same number of queries whatever the size -------------------------------------


def build_office(reps: int, practices: int = 2) -> dict:
    """`practices` practices, a manager of them all and `reps` reps each with a day of work in each."""
    offices = [
        PracticeFactory(code=f"p{n}", time_zone=("America/New_York", "America/Chicago")[n % 2])
        for n in range(practices)
    ]
    manager = StaffUserFactory(username="boss", tier=Tier.MANAGEMENT, practices=offices)
    people = [StaffUserFactory(username=f"rep{n}", practices=offices) for n in range(reps)]
    for office in offices:
        today = practice_today(office)
        for rep in people:
            account = queued_account(office, assigned_rep=rep, reasons=(WorkItem.Reason.FOLLOW_UP_DUE,))
            queued_account(office)
            AccountAgingState.objects.create(
                account=account, practice=office, patient_open=Decimal("100.00"), is_past_due=True
            )
            contact(account, rep)
            promise(account, rep, due_on=today, amount="12.34")
            reverse_row(pay(account, rep, "5.00"), manager)
            pay(account, rep, "20.00")
            AccountNote.objects.create(account=account, practice=office, body="Left a message", created_by=rep)
    low = StaffUserFactory(username="desk", tier=Tier.LOW, practices=offices)
    director = StaffUserFactory(username="chief", tier=Tier.DIRECTOR)
    return {"low": low, "rep": people[0], "manager": manager, "director": director}


# The dashboard's own queries (the view called directly: sign-in and session middleware are not the
# dashboard's, and change with the site's settings). Below Director the user's practice ids come
# first; then the practices, appointments and balances (billing tiers). The rep adds their buckets,
# the queue, promises due, collections and one insert auditing the promises listed. The team
# section: the practices, (Director) every practice's id, then accounts worked, contacts, payments,
# promises and the people, each one grouped query.
QUERIES = {
    ("low", "page"): 3,
    ("rep", "page"): 10,  # collected: payments and their reversals, each by its own index
    ("manager", "page"): 4,
    ("manager", "team"): 7,
    ("director", "page"): 3,
    ("director", "team"): 7,
}


@pytest.mark.parametrize("reps", [2, 5])
@pytest.mark.parametrize(("persona", "view"), list(QUERIES))
def test_dashboard_queries_do_not_grow_with_reps_practices_or_accounts(django_assert_num_queries, reps, persona, view):
    office = build_office(reps, practices=2 if reps == 2 else 4)
    user = StaffUser.objects.get(pk=office[persona].pk)  # nothing cached on it yet
    if view == "team":
        request = RequestFactory().get(reverse("home"), {"section": "team"}, HTTP_HX_REQUEST="true")
    else:
        request = RequestFactory().get(reverse("home"))
    request.user = user
    request.htmx = HtmxDetails(request)
    with django_assert_num_queries(QUERIES[(persona, view)]):
        response = home(request)
    assert response.status_code == 200
    html = response.content.decode()
    if persona == "rep":
        assert html.count('data-practice="p') == (2 if reps == 2 else 4)
    if view == "team":
        assert html.count('data-rep="rep') == reps
