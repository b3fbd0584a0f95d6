"""Queue filters and sort (issue 9): practice, reason, aging bucket, patient balance range, sort.
The rep's queue page, a manager's view of one rep's queue and of the pool, and GET /api/queue/,
all through collections_app.queues.selectors.queue_filter. Each filter and sort changes the rows a
user sees; bad values are a form error (200, or 400 on the API), never a 500 and never data; another
practice's accounts never show; the tiers that were refused before still are."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AccountAgingState
from accounts.selectors import practice_today
from collections_app.models import QueueEntry, WorkItem
from core.models import Tier
from tests.factories import PracticeFactory, StaffUserFactory, queued_account

Reason = WorkItem.Reason


def queued(practice, score="50", *, reasons=(Reason.PAST_DUE,), balance="100.00", aged_days=None, **fields):
    """An account in the queue; `aged_days`: its oldest open patient balance is that many days old
    (the nightly aging state), None: no open patient balance."""
    follow_up_on = fields.pop("follow_up_on", None)
    oldest_item_on = fields.pop("oldest_item_on", None)
    account = queued_account(practice, score, reasons=reasons, patient_balance=balance, **fields)
    if oldest_item_on is not None:
        QueueEntry.objects.filter(account=account).update(oldest_item_on=oldest_item_on)
    if follow_up_on is not None:
        account.follow_up_on = follow_up_on
        account.save(update_fields=["follow_up_on"])
    if aged_days is not None:
        AccountAgingState.objects.create(
            account=account,
            practice=practice,
            patient_open=Decimal(balance),
            oldest_open_service_on=practice_today(practice) - timedelta(days=aged_days),
            is_past_due=aged_days > 30,
        )
    return account


def shown(response) -> list[str]:
    """Account numbers in the table, in order."""
    assert response.status_code == 200
    return re.findall(r'<td class="mono"><a href="/accounts/\d+/">([^<]+)</a>', response.content.decode())


def numbers(*accounts) -> list[str]:
    return [account.account_number for account in accounts]


@pytest.fixture
def rep(client, medium):
    client.force_login(medium)
    return client


@pytest.fixture
def third_practice(db):
    return PracticeFactory(code="east", name="Eastside Family Medicine")


# --- Each filter and sort changes the rows --------------------------------------------------------


def test_no_filters_lists_the_queue_best_first(rep, practice):
    low, high = queued(practice, "10"), queued(practice, "90")
    assert shown(rep.get("/queue/")) == numbers(high, low)


def test_practice_filter_shows_only_that_practice(client, practice, third_practice):
    user = StaffUserFactory(username="tworep", tier=Tier.MEDIUM, practices=[practice, third_practice])
    north, east = queued(practice, "90"), queued(third_practice, "10")
    client.force_login(user)
    assert shown(client.get("/queue/")) == numbers(north, east)
    response = client.get(f"/queue/?practice={third_practice.pk}")
    assert shown(response) == numbers(east)
    html = response.content.decode()
    assert "Eastside Family Medicine" in html  # the choice, by name
    assert f'<option value="{third_practice.pk}" selected>' in html


def test_a_rep_of_one_practice_sees_no_practice_choice(rep, practice):
    queued(practice)
    assert 'name="practice"' not in rep.get("/queue/").content.decode()


def test_reason_filter_matches_any_open_reason_not_only_the_top_one(rep, practice):
    past_due = queued(practice, "60", reasons=(Reason.PAST_DUE,))
    broken = queued(practice, "90", reasons=(Reason.PROMISE_BROKEN, Reason.PAST_DUE))
    claim = queued(practice, "30", reasons=(Reason.CLAIM_FOLLOW_UP,))
    assert shown(rep.get("/queue/?reason=promise_broken")) == numbers(broken)
    assert shown(rep.get("/queue/?reason=past_due")) == numbers(broken, past_due)
    assert shown(rep.get("/queue/?reason=claim_follow_up")) == numbers(claim)


def test_reason_choices_are_in_billing_office_words(rep, practice):
    queued(practice)
    html = rep.get("/queue/").content.decode()
    assert '<option value="promise_broken">Promise to pay broken</option>' in html
    assert '<option value="claim_follow_up">Insurance claim follow-up</option>' in html


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [("0-30", ["current"]), ("31-60", []), ("61-90", ["seventy"]), ("91-120", ["ninety_one"]), ("121+", ["old"])],
)
def test_aging_bucket_filter_by_oldest_open_balance(rep, practice, bucket, expected):
    accounts = {
        "current": queued(practice, "10", aged_days=12),
        "seventy": queued(practice, "20", aged_days=75),
        "ninety_one": queued(practice, "30", aged_days=91),
        "old": queued(practice, "40", aged_days=150),
        "no_patient_balance": queued(practice, "50", reasons=(Reason.CLAIM_FOLLOW_UP,), balance="0.00"),
    }
    response = rep.get("/queue/", {"bucket": bucket})
    assert shown(response) == [accounts[key].account_number for key in expected]
    if expected:
        assert f'data-aging="{bucket}"' in response.content.decode()


def test_aging_bucket_uses_each_practices_own_today(client, practice, other_practice):
    """Aged against the practice's local date (DESIGN.md), as the queue rules age: 30 days is
    still current, 31 is not."""
    director = StaffUserFactory(username="boss", tier=Tier.DIRECTOR)
    thirty, thirty_one = queued(practice, "50", aged_days=30), queued(other_practice, "40", aged_days=31)
    client.force_login(director)
    assert shown(client.get("/queue/?bucket=0-30")) == numbers(thirty)
    assert shown(client.get("/queue/?bucket=31-60")) == numbers(thirty_one)


def test_a_balance_no_visit_carries_is_current(rep, practice):
    account = queued(practice, "50", aged_days=5)
    AccountAgingState.objects.filter(account=account).update(oldest_open_service_on=None)
    assert shown(rep.get("/queue/?bucket=0-30")) == numbers(account)
    assert shown(rep.get("/queue/?bucket=121+")) == []


def test_balance_range_is_inclusive(rep, practice):
    small, middle, large = (
        queued(practice, score, balance=b) for score, b in (("30", "50.00"), ("20", "150.00"), ("10", "500.00"))
    )
    assert shown(rep.get("/queue/?balance_min=100&balance_max=200")) == numbers(middle)
    assert shown(rep.get("/queue/?balance_min=150")) == numbers(middle, large)
    assert shown(rep.get("/queue/?balance_max=150.00")) == numbers(small, middle)
    assert shown(rep.get("/queue/?balance_min=0.01&balance_max=49.99")) == []


def test_sort_by_balance_highest_first(rep, practice):
    a, b, c = (
        queued(practice, "90", balance="20.00"),
        queued(practice, "50", balance="900.00"),
        queued(practice, "10", balance="300.00"),
    )
    assert shown(rep.get("/queue/?sort=balance")) == numbers(b, c, a)


def test_sort_oldest_work_first(rep, practice):
    today = practice_today(practice)
    newest = queued(practice, "90", oldest_item_on=today)
    oldest = queued(practice, "10", oldest_item_on=today - timedelta(days=40))
    middle = queued(practice, "50", oldest_item_on=today - timedelta(days=8))
    assert shown(rep.get("/queue/?sort=oldest")) == numbers(oldest, middle, newest)


def test_sort_by_follow_up_date_soonest_first_and_none_last(rep, practice):
    today = practice_today(practice)
    none = queued(practice, "90")
    later = queued(practice, "50", follow_up_on=today + timedelta(days=3))
    overdue = queued(practice, "10", follow_up_on=today - timedelta(days=2))
    assert shown(rep.get("/queue/?sort=follow_up")) == numbers(overdue, later, none)


def test_filters_and_sort_combine(rep, practice):
    queued(practice, "99", balance="900.00", aged_days=10)
    cheap = queued(practice, "80", balance="120.00", aged_days=70)
    dear = queued(practice, "20", balance="700.00", aged_days=80)
    queued(practice, "50", balance="5.00", aged_days=65)
    response = rep.get("/queue/?bucket=61-90&balance_min=100&sort=balance")
    assert shown(response) == numbers(dear, cheap)
    assert "2 accounts" in response.content.decode()
    assert "match the filters" in response.content.decode()


# --- The bar: count, clear, pages ---------------------------------------------------------------


def test_the_count_and_clear_filters_show_when_filtering(rep, practice):
    queued(practice, balance="10.00")
    queued(practice, balance="300.00")
    unfiltered = rep.get("/queue/").content.decode()
    assert "2 accounts" in unfiltered
    assert "Clear filters" not in unfiltered
    filtered = rep.get("/queue/?balance_min=100").content.decode()
    assert "1 account " in filtered and "match the filters" in filtered
    assert '<a class="btn btn-quiet" href="/queue/">Clear filters</a>' in filtered


def test_no_match_says_so_and_offers_clear(rep, practice):
    queued(practice, balance="10.00")
    html = rep.get("/queue/?balance_min=5000").content.decode()
    assert "No accounts in your queue match these filters." in html
    assert "Clear filters" in html


def test_pages_keep_the_filters(rep, practice):
    for n in range(30):
        queued(practice, str(n), balance="200.00")
    queued(practice, "99", balance="5.00")  # the best, but outside the range
    first = rep.get("/queue/?balance_min=100&sort=balance")
    html = first.content.decode()
    assert 'href="?balance_min=100&amp;sort=balance&amp;page=2"' in html
    second = shown(rep.get("/queue/?balance_min=100&sort=balance&page=2"))
    assert len(shown(first)) == 25 and len(second) == 5
    assert not set(shown(first)) & set(second)


def test_the_filtered_list_is_a_fixed_number_of_queries(rep, practice):
    """No query per row, whatever the page holds (every filter and a non-default sort)."""

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert rep.get(url).status_code == 200
        return len(captured)

    url = "/queue/?reason=past_due&bucket=61-90&balance_min=1&balance_max=1000&sort=balance"
    for n in range(3):
        queued(practice, str(n), aged_days=70)
    rep.get(url)  # the session's first request writes it
    few = queries(url)
    for n in range(27):
        queued(practice, str(n), aged_days=75)
    assert queries(url) == few


def test_the_filtered_list_query_budget(rep, practice, django_assert_max_num_queries):
    for n in range(30):
        queued(practice, str(n), aged_days=70, reasons=(Reason.FINAL_NOTICE, Reason.PAST_DUE))
    rep.get("/queue/")
    with django_assert_max_num_queries(9):
        response = rep.get("/queue/?reason=past_due&bucket=61-90&balance_min=1&sort=oldest&page=2")
    assert len(shown(response)) == 5


# --- Bad input: a form error, a 200, no rows ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("balance_min=-5", "Enter an amount of $0.00 or more."),
        ("balance_max=abc", "Enter an amount in dollars and cents, like 250 or 99.50."),
        ("balance_min=NaN", "Enter an amount in dollars and cents, like 250 or 99.50."),
        ("balance_min=Infinity", "Enter an amount in dollars and cents, like 250 or 99.50."),
        ("balance_min=1.234", "Enter at most two decimal places (cents)."),
        ("balance_min=" + "9" * 40, "Enter an amount under $10,000,000,000."),
        ("balance_min=300&balance_max=100", "The highest balance is below the lowest: swap them or clear one."),
        ("bucket=200-300", "Choose an aging bucket from the list."),
        ("reason=everything", "Choose a reason from the list."),
        ("sort=patient__last_name", "Choose a sort order from the list."),
        ("practice=abc", "Choose one of your practices."),
    ],
)
def test_bad_filter_values_are_form_errors_not_data(rep, practice, query, message):
    account = queued(practice)
    response = rep.get(f"/queue/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'role="alert"' in html
    assert account.account_number not in html
    assert "Correct the filters above" in html


def test_a_bad_page_number_with_filters_is_page_one(rep, practice):
    account = queued(practice, balance="300.00")
    assert shown(rep.get("/queue/?balance_min=100&page=abc")) == numbers(account)


# --- Access: practice scope and tiers -----------------------------------------------------------


def test_filtering_on_another_practices_id_is_an_error_and_shows_nothing(rep, practice, other_practice):
    mine = queued(practice)
    theirs = queued(other_practice)
    response = rep.get(f"/queue/?practice={other_practice.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose one of your practices." in html
    assert mine.account_number not in html and theirs.account_number not in html
    assert "Southside" not in html


def test_another_practices_rep_sees_none_of_these_accounts_whatever_the_filters(
    client, outsider, practice, other_practice
):
    hidden = [queued(practice, "90", aged_days=70, balance="400.00"), queued(practice, "10", aged_days=150)]
    theirs = queued(other_practice, "20", aged_days=70, balance="400.00")
    client.force_login(outsider)
    for query in ("", "?bucket=61-90", "?balance_min=1", "?sort=balance", "?reason=past_due", "?sort=follow_up"):
        html = client.get(f"/queue/{query}").content.decode()
        for account in hidden:
            assert account.account_number not in html
    assert shown(client.get("/queue/?bucket=61-90&sort=balance")) == numbers(theirs)


def test_the_selector_ignores_a_practice_outside_the_scope_even_unchecked(medium, practice, other_practice):
    """Defence in depth: a caller that skipped the form still finds nothing of another practice."""
    from collections_app.queues.selectors import QueueFilters, my_queue

    queued(practice)
    queued(other_practice)
    assert list(my_queue(user=medium, filters=QueueFilters(practice=other_practice.pk))) == []


def test_low_tier_is_refused_with_or_without_filters(client, low, practice):
    queued(practice)
    client.force_login(low)
    assert client.get("/queue/").status_code == 403
    assert client.get("/queue/?sort=balance&bucket=61-90").status_code == 403


# --- Managers: one rep's queue and the pool -----------------------------------------------------


def test_manager_filters_a_reps_queue_and_the_pool(client, manager, medium, practice):
    mine_small = queued(practice, "90", assigned_rep=medium, balance="20.00")
    mine_large = queued(practice, "10", assigned_rep=medium, balance="800.00", reasons=(Reason.FINAL_NOTICE,))
    pool_old = queued(practice, "30", aged_days=150)
    pool_new = queued(practice, "70", aged_days=10)
    client.force_login(manager)
    assert shown(client.get(f"/queue/team/{medium.pk}/?sort=balance")) == numbers(mine_large, mine_small)
    assert shown(client.get(f"/queue/team/{medium.pk}/?reason=final_notice")) == numbers(mine_large)
    assert shown(client.get("/queue/team/pool/?bucket=121%2B")) == numbers(pool_old)
    assert shown(client.get("/queue/team/pool/")) == numbers(pool_new, pool_old)
    bad = client.get("/queue/team/pool/?balance_min=-1")
    assert bad.status_code == 200 and "Enter an amount of $0.00 or more." in bad.content.decode()


def test_team_pages_with_filters_refuse_a_rep(rep, medium, practice):
    assert rep.get("/queue/team/pool/?sort=balance").status_code == 403
    assert rep.get(f"/queue/team/{medium.pk}/?bucket=0-30").status_code == 403


def test_another_practices_manager_sees_nothing_of_this_pool_whatever_the_filters(client, practice, other_practice):
    other_manager = StaffUserFactory(username="othermanager", tier=Tier.MANAGEMENT, practices=[other_practice])
    account = queued(practice, aged_days=70)
    client.force_login(other_manager)
    for query in ("", "?bucket=61-90", f"?practice={practice.pk}"):
        assert account.account_number not in client.get(f"/queue/team/pool/{query}").content.decode()


# --- The API: the same selector ------------------------------------------------------------------


def api_rows(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["account"] for row in response.json()["results"]]


def test_api_filters_and_sorts_like_the_page(rep, practice):
    cheap = queued(practice, "90", balance="50.00", aged_days=70)
    dear = queued(practice, "10", balance="700.00", aged_days=80)
    queued(practice, "50", balance="900.00", aged_days=10)
    assert api_rows(rep.get("/api/queue/?bucket=61-90&sort=balance")) == [dear.pk, cheap.pk]
    assert api_rows(rep.get("/api/queue/?bucket=61-90")) == [cheap.pk, dear.pk]
    assert api_rows(rep.get("/api/queue/?balance_min=100&balance_max=800")) == [dear.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("balance_min=-1", "balance_min"),
        ("balance_max=abc", "balance_max"),
        ("balance_min=10&balance_max=5", "balance_max"),
        ("bucket=old", "bucket"),
        ("sort=score", "sort"),
        ("reason=x", "reason"),
        ("practice=abc", "practice"),
    ],
)
def test_api_bad_filters_are_400_with_the_field(rep, practice, query, field):
    queued(practice)
    response = rep.get(f"/api/queue/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_api_another_practice_is_400_and_shows_nothing(rep, practice, other_practice):
    queued(other_practice)
    response = rep.get(f"/api/queue/?practice={other_practice.pk}")
    assert response.status_code == 400
    assert response.json()["practice"] == ["Choose one of your practices."]


def test_api_refuses_low_tier_with_filters(client, low, practice):
    client.force_login(low)
    assert client.get("/api/queue/?sort=balance").status_code == 403


def test_api_filtered_list_is_a_fixed_number_of_queries(rep, practice, django_assert_max_num_queries):
    for n in range(30):
        queued(practice, str(n), aged_days=70)
    rep.get("/api/queue/")
    with django_assert_max_num_queries(9):
        assert len(api_rows(rep.get("/api/queue/?bucket=61-90&sort=balance&balance_min=1"))) == 30
