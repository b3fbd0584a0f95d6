"""The search box: medical record numbers, email addresses and account numbers typed without the
practice's prefix; and the last search, kept in the session, shown again on the search page's GET."""

import pytest
from django.urls import reverse

from accounts.models import Guarantor
from accounts.selectors import bare_number_candidates
from accounts.views import LAST_SEARCH_KEY
from core.models import AuditEvent, Tier
from tests.factories import GuarantorFactory, PatientAccountFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
# What Chromium sends with a form it submits itself (Fetch Metadata); htmx's requests say "cors".
BROWSER_FORM = {"HTTP_SEC_FETCH_MODE": "navigate", "HTTP_SEC_FETCH_DEST": "document"}
SEARCH = reverse("search")


def search(client, user, **params):
    client.force_login(user)
    return client.post(SEARCH, params)


def listed(response) -> list:
    page = response.context["page"]
    return [] if page is None else list(page.object_list)


def searches_audited() -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).count()


def parent(practice, email):
    """A guarantor who is not the patient (a parent), with an email address of their own."""
    return GuarantorFactory(
        practice=practice,
        patient=None,
        relationship=Guarantor.Relationship.PARENT,
        first_name="Pat",
        last_name="Parent",
        phone="",
        email=email,
    )


def with_identifiers(account, *, mrn, email, guarantor_email):
    """The account's patient gets `mrn` and `email`; a parent guarantees it, with `guarantor_email`."""
    patient = account.patient
    patient.medical_record_number, patient.email = mrn, email
    patient.save()
    account.guarantor = parent(account.practice, guarantor_email)
    account.save()
    return account


@pytest.fixture
def twins(account, other_account):
    """Two practices' accounts with the same MRN, emails and number without the prefix (N/S0001234):
    a practice's identifiers are its own, so only the user's practice may answer."""
    other_account.account_number = "S0001234"
    other_account.save()
    for each in (account, other_account):
        with_identifiers(each, mrn="MRN0000025", email="Maria.Garcia@Example.com", guarantor_email="pat@example.org")
    return account, other_account


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("MRN0000025", id="mrn"),
        pytest.param("mrn0000025", id="mrn-lower-case"),
        pytest.param("maria.garcia@example.com", id="patient-email"),
        pytest.param("MARIA.GARCIA@EXAMPLE.COM", id="patient-email-upper-case"),
        pytest.param("Pat@Example.org", id="guarantor-email"),
        pytest.param("N0001234", id="account-number"),
        pytest.param("n0001234", id="account-number-lower-case"),
        pytest.param("0001234", id="account-number-without-prefix"),
        pytest.param("1234", id="account-number-without-prefix-or-zeros"),
    ],
)
def test_each_identifier_finds_the_account_of_the_users_practice_only(client, twins, medium, outsider, query):
    mine, theirs = twins
    assert listed(search(client, medium, q=query)) == [mine]
    if query.upper() != "N0001234":  # the outsider's own is S0001234
        assert listed(search(client, outsider, q=query)) == [theirs]


def test_another_practices_identifiers_find_nothing(client, account, other_account, medium):
    with_identifiers(other_account, mrn="MRN0000777", email="s@example.net", guarantor_email="g@example.net")
    for query in ("MRN0000777", "mrn0000777", "s@example.net", "G@EXAMPLE.NET", "S0009999", "s0009999", "0009999"):
        response = search(client, medium, q=query)
        assert response.status_code == 200
        assert listed(response) == [], query
        assert f'href="/accounts/{other_account.pk}/"' not in response.content.decode()


def test_a_guarantors_email_lists_every_account_they_guarantee(client, practice, medium):
    guarantor = parent(practice, "parent@example.org")
    children = [PatientAccountFactory(practice=practice, guarantor=guarantor) for _ in range(3)]
    PatientAccountFactory(practice=practice)  # someone else's
    assert set(listed(search(client, medium, q="PARENT@example.org"))) == set(children)


def test_an_email_with_digits_is_not_read_as_a_number(client, account, medium):
    with_identifiers(account, mrn="1234567", email="maria1970@example.com", guarantor_email="")
    assert listed(search(client, medium, q="maria1970@example.com")) == [account]
    assert listed(search(client, medium, q="1234567@example.com")) == []


def test_a_number_typed_with_spaces_or_hyphens(client, account, medium):
    with_identifiers(account, mrn="MRN0000025", email="", guarantor_email="")
    assert listed(search(client, medium, q="n-000 1234")) == [account]
    assert listed(search(client, medium, q="mrn 0000025")) == [account]


def test_the_practice_filter_narrows_a_number_without_prefix(client, twins, director):
    mine, theirs = twins
    assert set(listed(search(client, director, q="0001234"))) == {mine, theirs}
    assert listed(search(client, director, q="0001234", practice=theirs.practice_id)) == [theirs]


def test_the_existing_kinds_still_answer(client, account, medium):
    patient = account.patient
    for query in (patient.last_name, f"{patient.last_name}, {patient.first_name}", "05/17/1970", patient.phone):
        assert listed(search(client, medium, q=query)) == [account], query


@pytest.mark.parametrize(
    ("digits", "bounds", "expected"),
    [
        ("1234", [("N0000001", "N0099999")], {"N0001234"}),
        ("0001234", [("N0000001", "N0099999")], {"N0001234"}),
        ("1234", [("N0001200", "N0001299")], {"N0001234"}),  # the common start is longer than the prefix
        ("0001234", [("HV20000001", "HV20999999")], {"HV20001234"}),  # a second site's prefix ends in a digit
        ("1234", [("HV20000001", "HV29999999")], {"HV20001234"}),
        ("1234", [("A00000001", "N0001234")], {"A00001234", "N0001234"}),  # two widths: each bound alone
        ("12345678", [("N0000001", "N0099999")], set()),  # a whole number's length: looked up as typed
        ("1234", [("HV0000003", "HV0999995"), ("BC0000002", "BC0999999")], {"HV0001234", "BC0001234"}),
    ],
)
def test_bare_number_candidates(digits, bounds, expected):
    assert bare_number_candidates(digits, bounds) == expected


def test_the_account_search_api_finds_identifiers_too(client, twins, medium):
    mine, _ = twins
    client.force_login(medium)
    for query in ("mrn0000025", "pat@example.org", "0001234"):
        body = client.post(reverse("api-account-search"), {"q": query}, content_type="application/json").json()
        assert [row["id"] for row in body["results"]] == [mine.pk], query


# --- query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["mrn0000025", "family@example.org", "0001234", "N0001234", "5185550101"])
def test_identifier_search_queries_are_bounded(client, practice, medium, query, django_assert_max_num_queries):
    family = parent(practice, "family@example.org")
    for n in range(12):
        PatientAccountFactory(
            practice=practice,
            guarantor=family,
            account_number=f"N000123{n}" if n < 10 else f"N00{n}999",
            patient__medical_record_number="MRN0000025" if n == 0 else f"MRN1{n:06d}",
            patient__phone="5185550101",
        )
    client.force_login(medium)
    client.get(SEARCH)
    # session, user, scope, practices, [each practice's lowest and highest account number], count,
    # page, audit, and the new search kept in the session (a savepoint, the update, its release)
    with django_assert_max_num_queries(11):
        response = client.post(SEARCH, {"q": query})
    assert len(listed(response)) >= 1
    with django_assert_max_num_queries(8):  # shown again by GET: the session is not rewritten
        assert len(listed(client.get(SEARCH))) == len(listed(response))


# --- the last search, kept for Back --------------------------------------------------------------


def test_the_search_page_shows_the_last_search_again(client, account, medium):
    last_name = account.patient.last_name
    search(client, medium, q=last_name)
    before = searches_audited()
    response = client.get(SEARCH)
    assert listed(response) == [account]
    assert f'value="{last_name}"' in response.content.decode().replace("&#x27;", "'")
    assert searches_audited() == before + 1  # shown again: audited again, with what was listed
    event = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).latest("id")
    assert event.detail["account_ids"] == [account.pk]
    assert b"Clear search" in response.content


def test_the_session_keeps_the_criteria_never_the_results(client, account, medium):
    search(client, medium, q="  Garcia  ", practice=account.practice_id, status="active")
    assert client.session[LAST_SEARCH_KEY] == {
        "q": "Garcia",
        "practice": str(account.practice_id),
        "status": "active",
        "page": 1,
    }
    stored = str(dict(client.session))
    assert str(account.account_number) not in stored and account.patient.first_name not in stored


def test_the_shown_again_search_is_looked_up_again(client, account, medium):
    search(client, medium, q=account.patient.last_name)
    account.status = "closed"
    account.save()
    later = PatientAccountFactory(practice=account.practice, patient__last_name=account.patient.last_name)
    assert set(listed(client.get(SEARCH))) == {account, later}
    search(client, medium, q=account.patient.last_name, status="active")
    assert listed(client.get(SEARCH)) == [later]


def test_clear_forgets_the_search(client, account, medium):
    search(client, medium, q=account.account_number)
    response = client.post(SEARCH, {"clear": "1"})
    assert response.status_code == 302 and response["Location"] == SEARCH
    assert LAST_SEARCH_KEY not in client.session
    before = searches_audited()
    page = client.get(SEARCH)
    assert page.context["page"] is None
    assert b"Type a last name" in page.content
    assert searches_audited() == before


def test_an_emptied_search_box_forgets_the_search(client, account, medium):
    search(client, medium, q=account.account_number)
    client.post(SEARCH, {"q": ""}, **HTMX)
    assert LAST_SEARCH_KEY not in client.session
    assert client.get(SEARCH).context["page"] is None


def test_a_form_the_browser_sends_is_answered_by_the_search_page_by_get(client, account, medium):
    """Back to a POST answer that was not stored is "Confirm Form Resubmission": post, redirect, get."""
    client.force_login(medium)
    before = searches_audited()
    response = client.post(SEARCH, {"q": account.account_number}, **BROWSER_FORM)
    assert response.status_code == 302 and response["Location"] == SEARCH
    assert searches_audited() == before  # nothing listed yet
    assert listed(client.get(SEARCH)) == [account]
    assert searches_audited() == before + 1


def test_htmx_searches_are_answered_in_place_and_remembered(client, account, medium):
    client.force_login(medium)
    response = client.post(SEARCH, {"q": account.account_number}, **HTMX, HTTP_SEC_FETCH_MODE="cors")
    assert response.status_code == 200 and b"<html" not in response.content
    assert listed(client.get(SEARCH)) == [account]


def test_the_page_shown_again_is_the_page_left(client, practice, medium):
    for _ in range(55):
        PatientAccountFactory(practice=practice, patient__last_name="Zeller")
    search(client, medium, q="Zeller", page=2)
    assert client.get(SEARCH).context["page"].number == 2


def test_a_remembered_page_past_the_end_shows_the_last_page(client, practice, medium):
    accounts = [PatientAccountFactory(practice=practice, patient__last_name="Zeller") for _ in range(55)]
    search(client, medium, q="Zeller", page=2)
    for account in accounts[:10]:
        account.patient.last_name = "Other"
        account.patient.save()
    response = client.get(SEARCH)
    assert response.status_code == 200
    assert response.context["page"].number == 1 and len(listed(response)) == 45


def test_a_remembered_practice_taken_away_opens_the_page_empty(client, account, other_account, director):
    search(client, director, q=other_account.patient.last_name, practice=other_account.practice_id)
    director.tier = Tier.MEDIUM  # no practice granted: what a Director saw is out of reach now
    director.save()
    response = client.get(SEARCH)
    assert response.status_code == 200 and response.context["page"] is None
    assert not response.context["form"].errors
    assert LAST_SEARCH_KEY not in client.session


def test_a_query_string_is_never_searched_even_with_a_remembered_search(client, account, other_account, director):
    search(client, director, q=account.account_number)
    response = client.get(SEARCH, {"q": other_account.patient.last_name})
    assert listed(response) == [account]


def test_logging_out_forgets_the_search(client, account, medium):
    search(client, medium, q=account.account_number)
    client.post(reverse("logout"))
    client.force_login(medium)
    assert client.get(SEARCH).context["page"] is None


def test_the_remembered_search_is_the_users_own(client, account, medium, manager):
    search(client, medium, q=account.account_number)
    client.force_login(manager)
    assert client.get(SEARCH).context["page"] is None


def test_the_account_pages_search_link_opens_the_remembered_search(client, account, medium):
    search(client, medium, q=account.account_number)
    html = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert f'href="{SEARCH}"' in html
    assert listed(client.get(SEARCH)) == [account]
