"""Which accounts may go to an agency: every rule's negative case, the 501(r) clock, the nightly count."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.selectors import practice_today
from collections_app.agencies import rules, selectors
from collections_app.agencies.jobs import agency_candidates
from collections_app.holds import services as holds
from collections_app.models import AgencyCandidateCount, Contact
from core.nightly import JobContext
from payment_plans import services as plans
from tests.collections_app.agencies_support import letter, ready_account
from tests.factories import PatientAccountFactory

Outcome = Contact.Outcome


def candidate_ids(user, **filters):
    return set(selectors.candidate_list(user=user, **filters).values_list("pk", flat=True))


def test_an_account_meeting_every_rule_is_a_candidate(practice, manager):
    account = ready_account(practice)
    assert candidate_ids(manager) == {account.pk}
    row = selectors.candidate_list(user=manager).get()
    assert row.patient_balance == Decimal("600.00")


def test_balance_under_the_practice_minimum_is_not_a_candidate(practice, manager):
    practice.agency_min_balance = Decimal("600.01")
    practice.save()
    account = ready_account(practice, balance="600.00")
    assert candidate_ids(manager) == set()
    assert any(
        "under the practice's agency minimum" in why
        for why in rules.placement_refusals(account, practice_today(practice))
    )
    practice.agency_min_balance = Decimal("600.00")
    practice.save()
    assert candidate_ids(manager) == {account.pk}


def test_no_final_notice_is_not_a_candidate(practice, manager):
    account = ready_account(practice, final_notice_days_ago=None)
    letter(account, Outcome.LETTER_SENT, 90)  # a dunning letter is not the final notice
    assert candidate_ids(manager) == set()
    assert rules.REASON_NO_FINAL_NOTICE in rules.placement_refusals(account, practice_today(practice))


def test_final_notice_under_30_days_ago_is_not_a_candidate(practice, manager):
    account = ready_account(practice, final_notice_days_ago=29)
    assert candidate_ids(manager) == set()
    assert "less than 30 days ago" in " ".join(rules.placement_refusals(account, practice_today(practice)))
    letter(account, Outcome.FINAL_NOTICE_SENT, 31)
    assert candidate_ids(manager) == {account.pk}


@pytest.mark.parametrize("kind", ["lop", "probate", "bankruptcy", "dispute"])
def test_an_account_on_hold_is_not_a_candidate(practice, manager, medium, kind):
    account = ready_account(practice)
    details = {
        "lop": {"attorney_name": "Sam Counsel"},
        "probate": {"died_on": timezone.localdate() - timedelta(days=10)},
        "bankruptcy": {"bankruptcy_chapter": 7, "filed_on": timezone.localdate(), "case_number": "26-10001"},
        "dispute": {"dispute_kind": "balance"},
    }[kind]
    holds.hold_place(acting_user=medium, account_id=account.pk, kind=kind, **details)
    assert candidate_ids(manager) == set()
    account.refresh_from_db()
    reasons = " ".join(rules.placement_refusals(account, practice_today(practice)))
    assert "hold" in reasons


def test_an_account_on_a_payment_plan_is_not_a_candidate(practice, manager, medium):
    account = ready_account(practice)
    plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=6, activate=True)
    assert candidate_ids(manager) == set()
    account.refresh_from_db()
    assert rules.REASON_PLAN in rules.placement_refusals(account, practice_today(practice))


@pytest.mark.parametrize("status", ["closed", "agency"])
def test_an_account_closed_or_already_at_an_agency_is_not_a_candidate(practice, manager, status):
    account = ready_account(practice)
    type(account).objects.filter(pk=account.pk).update(status=status)
    assert candidate_ids(manager) == set()


def test_candidates_are_scoped_to_the_users_practices(practice, other_practice, manager, outsider):
    ready_account(practice)
    theirs = ready_account(other_practice)
    assert candidate_ids(outsider) == {theirs.pk}
    assert theirs.pk not in candidate_ids(manager)


# --- 501(r) -------------------------------------------------------------------------------------------


@pytest.fixture
def nonprofit(practice):
    practice.follows_501r = True
    practice.save()
    return practice


def test_501r_without_any_notice_on_record_is_refused(nonprofit, manager):
    account = ready_account(nonprofit)
    assert candidate_ids(manager) == set()
    clock = rules.clock_501r(account, practice_today(nonprofit))
    assert not clock.allowed
    assert clock.first_statement_on is None and clock.notice_on is None
    assert set(clock.reasons) == {rules.REASON_NO_STATEMENT_DATE, rules.REASON_NO_NOTICE}


def test_501r_with_only_the_statement_on_record_is_refused(nonprofit, manager):
    account = ready_account(nonprofit)
    letter(account, Outcome.STATEMENT_SENT, 200)
    assert candidate_ids(manager) == set()
    assert rules.clock_501r(account, practice_today(nonprofit)).reasons == (rules.REASON_NO_NOTICE,)


@pytest.mark.parametrize(
    ("statement_days", "notice_days", "allowed"),
    [(120, 30, True), (119, 30, False), (120, 29, False), (300, 31, True), (100, 60, False)],
)
def test_501r_clock_counts_120_days_from_the_first_statement_and_30_from_the_notice(
    nonprofit, manager, statement_days, notice_days, allowed
):
    account = ready_account(nonprofit)
    letter(account, Outcome.STATEMENT_SENT, statement_days)
    letter(account, Outcome.STATEMENT_SENT, 10)  # later statements do not restart the clock
    letter(account, Outcome.NOTICE_501R_SENT, notice_days)
    today = practice_today(nonprofit)
    clock = rules.clock_501r(account, today)
    assert clock.allowed is allowed
    assert clock.first_statement_on == today - timedelta(days=statement_days)
    assert (account.pk in candidate_ids(manager)) is allowed


def test_a_practice_not_following_501r_needs_no_statement_record(practice, manager):
    account = ready_account(practice)
    assert not practice.follows_501r
    assert candidate_ids(manager) == {account.pk}


# --- credit reporting -------------------------------------------------------------------------------


TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("balance", "delinquent_days", "expected"),
    [
        ("500.00", 365, True),
        ("499.99", 900, False),  # under $500
        ("5000.00", 364, False),  # delinquent under a year
        ("0.00", 900, False),  # paid
        ("-10.00", 900, False),  # credit balance
    ],
)
def test_credit_reporting_never_under_500_nor_under_a_year_nor_once_paid(balance, delinquent_days, expected):
    delinquent_on = TODAY - timedelta(days=delinquent_days)
    assert (
        rules.may_report_to_credit_bureaus(balance=Decimal(balance), delinquent_on=delinquent_on, as_of=TODAY)
        is expected
    )


def test_credit_reporting_needs_a_known_delinquency_date():
    assert not rules.may_report_to_credit_bureaus(balance=Decimal("900.00"), delinquent_on=None, as_of=TODAY)


# --- the nightly job --------------------------------------------------------------------------------


def test_nightly_count_is_idempotent_per_date(practice, other_practice):
    ready_account(practice, balance="700.00")
    ready_account(practice, balance="300.00")
    PatientAccountFactory(practice=practice)  # owes nothing
    today = practice_today(practice)
    context = JobContext(as_of=today, practice_dates={practice.pk: today, other_practice.pk: today})
    first = agency_candidates(context)
    second = agency_candidates(context)
    assert first == second == {"practices": 2, "candidates": 2}
    row = AgencyCandidateCount.objects.get(practice=practice, as_of=today)
    assert (row.account_count, row.total, row.reportable_count) == (2, Decimal("1000.00"), 1)
    assert AgencyCandidateCount.objects.count() == 2


def test_run_nightly_agency_candidates_twice_for_a_date_counts_once(practice):
    from io import StringIO

    from django.core.management import call_command

    ready_account(practice, balance="650.00")
    today = practice_today(practice).isoformat()
    outputs = []
    for _ in range(2):
        out = StringIO()
        call_command("run_nightly", "--date", today, "--job", "agency_candidates", stdout=out)
        outputs.append(out.getvalue())
    assert outputs[0].startswith(f"agency_candidates: ran for {today}") and "candidates=1" in outputs[0]
    assert outputs[1].startswith("agency_candidates: skipped")
    assert AgencyCandidateCount.objects.get(practice=practice).account_count == 1


@pytest.mark.parametrize(("statement_days", "allowed"), [(120, True), (119, False)])
def test_501r_counts_from_the_accounts_first_statement_date(nonprofit, manager, statement_days, allowed):
    """The statement cycle keeps the first statement after service on the account: 501(r) counts from it."""
    account = ready_account(nonprofit)
    today = practice_today(nonprofit)
    type(account).objects.filter(pk=account.pk).update(first_statement_on=today - timedelta(days=statement_days))
    letter(account, Outcome.NOTICE_501R_SENT, 45)
    account.refresh_from_db()
    clock = rules.clock_501r(account, today)
    assert clock.first_statement_on == today - timedelta(days=statement_days)
    assert clock.allowed is allowed
    assert (account.pk in candidate_ids(manager)) is allowed
    assert (rules.placement_refusals(account, today) == []) is allowed


def test_the_credit_reporting_flag_in_the_candidates_list_follows_the_rule(practice, manager):
    from accounts.jobs import refresh_aging

    ready_account(practice, balance="499.99", visit_days_ago=800)
    ready_account(practice, balance="900.00", visit_days_ago=200)
    old = ready_account(practice, balance="900.00", visit_days_ago=800)
    refresh_aging({practice.pk: practice_today(practice)})
    flags = {}
    for account in selectors.candidate_list(user=manager):
        since = rules.delinquent_since(practice, account.oldest_open_service_on)
        flags[account.pk] = rules.may_report_to_credit_bureaus(
            balance=account.patient_balance, delinquent_on=since, as_of=practice_today(practice)
        )
    assert [pk for pk, flag in flags.items() if flag] == [old.pk]
