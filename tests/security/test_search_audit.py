"""A search's audit rows carry the practices of the accounts it listed (issue 10, item 8), so the
audit trail filtered by practice finds every search that showed that practice's patients."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from tests.factories import PatientAccountFactory

SEARCH = reverse("search")


def searches():
    return AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).order_by("id")


def audit_trail(client, director, **filters) -> list[AuditEvent]:
    client.force_login(director)
    response = client.get(reverse("audit-log"), {"action": "search", **filters})
    assert response.status_code == 200
    return response.context["events"]


@pytest.fixture
def two_practices_alike(account, other_account):
    """A patient of each practice with the same last name."""
    for listed in (account, other_account):
        listed.patient.last_name = "Okonkwo"
        listed.patient.save(update_fields=["last_name"])
    return account, other_account


def test_a_web_search_row_carries_the_practice_of_the_accounts_listed(client, medium, director, account, practice):
    client.force_login(medium)
    client.post(SEARCH, {"q": account.patient.last_name})
    [row] = searches()
    assert (row.practice_id, row.detail["account_ids"]) == (practice.pk, [account.pk])
    assert audit_trail(client, director, practice=practice.pk) == [row]


def test_a_web_search_listing_two_practices_is_found_under_each(
    client, director, practice, other_practice, two_practices_alike
):
    north, south = two_practices_alike
    client.force_login(director)
    response = client.post(SEARCH, {"q": "Okonkwo"})
    assert {account.pk for account in response.context["page"].object_list} == {north.pk, south.pk}
    rows = {row.practice_id: row for row in searches()}
    assert set(rows) == {practice.pk, other_practice.pk}
    assert rows[practice.pk].detail["account_ids"] == [north.pk]
    assert rows[other_practice.pk].detail["account_ids"] == [south.pk]
    assert all(row.detail["result_count"] == 2 for row in rows.values())
    assert audit_trail(client, director, practice=practice.pk) == [rows[practice.pk]]
    assert audit_trail(client, director, practice=other_practice.pk) == [rows[other_practice.pk]]


def test_a_search_that_lists_nothing_names_the_practice_searched_in_or_none(client, medium, practice, account):
    client.force_login(medium)
    client.post(SEARCH, {"q": "Nobody-Of-That-Name"})
    client.post(SEARCH, {"q": "Nobody-Of-That-Name", "practice": practice.pk})
    assert [(row.practice_id, row.detail["account_ids"]) for row in searches()] == [(None, []), (practice.pk, [])]


@pytest.mark.parametrize(
    ("url_name", "object_type"),
    [("api-account-search", "accounts.patientaccount"), ("api-patient-search", "accounts.patient")],
)
def test_an_api_search_row_carries_the_practice_of_each_row_listed(
    client, director, practice, other_practice, two_practices_alike, url_name, object_type
):
    client.force_login(director)
    response = client.post(reverse(url_name), {"q": "Okonkwo"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["count"] == 2
    rows = list(searches())
    assert {(row.object_type, row.practice_id) for row in rows} == {
        (object_type, practice.pk),
        (object_type, other_practice.pk),
    }
    found = audit_trail(client, director, practice=other_practice.pk)
    assert [row.pk for row in found] == [row.pk for row in rows if row.practice_id == other_practice.pk]


def test_the_search_page_shown_again_is_audited_with_its_practice_too(client, medium, practice, account):
    client.force_login(medium)
    client.post(SEARCH, {"q": account.patient.last_name})
    client.get(SEARCH)  # Back to the search page: the remembered search, listed and audited again
    assert [row.practice_id for row in searches()] == [practice.pk, practice.pk]


def test_another_practice_never_appears_in_a_reps_search_rows(client, medium, practice, two_practices_alike):
    client.force_login(medium)
    client.post(SEARCH, {"q": "Okonkwo"})
    assert [row.practice_id for row in searches()] == [practice.pk]
    PatientAccountFactory(practice=practice, patient__last_name="Okonkwo")
    client.post(SEARCH, {"q": "Okonkwo"})
    last = searches().last()
    assert last.practice_id == practice.pk and len(last.detail["account_ids"]) == 2
