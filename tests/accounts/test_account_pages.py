"""Account pages: search, the account page, its ledger and demographics editing, by tier."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts import services as ledger
from accounts.models import AddressHistory, Encounter, Patient, PatientAccount, Transaction
from core.models import AuditEvent
from tests.conftest import post_visit
from tests.factories import AppointmentFactory, PatientAccountFactory

Kind = Transaction.Kind
BALANCE_DIGITS = ("200.00", "120.00", "80.00")  # the fixture account's patient balance and its two visits
HTMX = {"HTTP_HX_REQUEST": "true"}


def page(client, user, url, **kwargs):
    client.force_login(user)
    return client.get(url, **kwargs)


def detail_url(account):
    return reverse("account-detail", args=[account.pk])


def ledger_url(account):
    return reverse("account-ledger", args=[account.pk])


def open_encounters_url(account):
    return reverse("account-open-encounters", args=[account.pk])


def edit_url(patient):
    return reverse("patient-edit", args=[patient.pk])


def search(client, user, **params):
    client.force_login(user)
    return client.post(reverse("search"), params)


def last_audit(action, **filters):
    return AuditEvent.objects.filter(action=action, **filters).order_by("-id").first()


# --- who may open what -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["low", "medium", "manager", "director"])
def test_every_tier_opens_an_account_of_its_practice(client, account, persona, request):
    assert page(client, request.getfixturevalue(persona), detail_url(account)).status_code == 200


@pytest.mark.parametrize("persona", ["low", "medium", "manager", "director"])
def test_every_tier_opens_the_demographics_editor(client, account, persona, request):
    assert page(client, request.getfixturevalue(persona), edit_url(account.patient)).status_code == 200


@pytest.mark.parametrize("persona", ["low", "medium", "manager", "director"])
def test_every_tier_searches(client, account, persona, request):
    assert search(client, request.getfixturevalue(persona), q=account.account_number).status_code == 200


@pytest.mark.parametrize("persona", ["medium", "manager", "director"])
@pytest.mark.parametrize("url_for", [ledger_url, open_encounters_url])
def test_billing_tiers_page_through_the_ledger_and_open_encounters(client, account, persona, url_for, request):
    assert page(client, request.getfixturevalue(persona), url_for(account)).status_code == 200


@pytest.mark.parametrize("url_for", [ledger_url, open_encounters_url])
def test_low_tier_is_refused_the_ledger_and_open_encounters(client, account, low, url_for):
    response = page(client, low, url_for(account))
    assert response.status_code == 403
    assert b"200.00" not in response.content


@pytest.mark.parametrize(
    "url_for", [detail_url, ledger_url, open_encounters_url, lambda account: edit_url(account.patient)]
)
def test_another_practices_user_gets_not_found(client, account, outsider, url_for):
    response = page(client, outsider, url_for(account))
    assert response.status_code == 404
    assert escape(account.patient.last_name) not in response.content.decode()


def test_another_practices_user_cannot_post_demographics(client, account, outsider):
    client.force_login(outsider)
    response = client.post(edit_url(account.patient), {"first_name": "Mallory"})
    assert response.status_code == 404
    account.patient.refresh_from_db()
    assert account.patient.first_name != "Mallory"


def test_another_practices_accounts_never_appear_in_search(client, account, outsider):
    for query in (account.account_number, account.patient.last_name, account.patient.phone):
        response = search(client, outsider, q=query)
        assert response.status_code == 200
        assert not _listed(response, account)
        assert reverse("account-detail", args=[account.pk]).encode() not in response.content


@pytest.mark.parametrize(
    "url_for",
    [
        detail_url,
        ledger_url,
        open_encounters_url,
        lambda account: edit_url(account.patient),
        lambda account: reverse("search") + "?q=a",
    ],
)
def test_anonymous_visitor_is_sent_to_login(client, account, url_for):
    response = client.get(url_for(account))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_missing_account_is_not_found(client, medium, account):
    assert page(client, medium, reverse("account-detail", args=[account.pk + 1000])).status_code == 404


# --- what each tier sees on the account page -------------------------------------------------------


def test_low_tier_sees_demographics_and_past_due_flag_but_no_amount(client, account, low):
    patient = account.patient
    AppointmentFactory(patient=patient, practice=account.practice, reason="Well-child visit")
    response = page(client, low, detail_url(account))
    html = response.content.decode()
    assert escape(patient.last_name) in html
    assert escape(patient.first_name) in html
    assert patient.date_of_birth.strftime("%m/%d/%Y") in html
    assert f"({patient.phone[:3]}) {patient.phone[3:6]}-{patient.phone[6:]}" in html
    assert patient.address_line1 in html
    assert "Address history" in html
    assert "Well-child visit" in html
    assert "See billing office" in html
    assert "$" not in html
    for digits in BALANCE_DIGITS:
        assert digits not in html
    assert "Ledger" not in html
    assert "balances" not in response.context and "ledger" not in response.context


def test_low_tier_sees_no_flag_when_nothing_is_past_due(client, practice, low):
    account = PatientAccountFactory(practice=practice)
    post_visit(account, days_ago=5, charge="90.00", to_patient="90.00")  # within the grace period
    html = page(client, low, detail_url(account)).content.decode()
    assert "See billing office" not in html
    assert "90.00" not in html


@pytest.mark.parametrize("persona", ["medium", "manager", "director"])
def test_billing_tiers_see_balances_aging_and_ledger(client, account, persona, request):
    html = page(client, request.getfixturevalue(persona), detail_url(account)).content.decode()
    assert "$200.00" in html  # patient balance
    assert "$120.00" in html  # the 100-day-old visit, still open
    assert "$80.00" in html  # the 45-day-old visit
    assert 'data-bucket="91-120"' in html
    assert 'data-bucket="31-60"' in html
    assert "Open balance by encounter" in html
    assert "Ledger" in html
    assert "Transfer to patient responsibility" in html
    assert "Insurance payment" in html


def test_ledger_rows_carry_the_running_patient_balance(client, account, medium):
    response = page(client, medium, detail_url(account))
    rows = response.context["ledger"].rows
    assert rows[0].patient_balance_after == Decimal("200.00")  # newest row: the balance now
    assert rows[-1].patient_balance_after == rows[-1].patient_amount  # oldest row: starts from zero


def test_reversed_posting_is_marked_on_the_ledger(client, account, medium):
    payment = ledger.transaction_post(
        acting_user=medium,
        account_id=account.pk,
        kind=Kind.PATIENT_PAYMENT,
        patient_amount="-15.00",
        payment_method="check",
        reference="CHK-77",
    )
    ledger.transaction_reverse(acting_user=medium, transaction_id=payment.pk, reason="Check returned")
    html = page(client, medium, detail_url(account)).content.decode()
    assert f"of the patient payment of {payment.effective_on:%m/%d/%Y}</span>" in html
    assert "Reversed</span>" in html
    assert "#" + str(payment.pk) not in html  # no database ids in the ledger
    assert "CHK-77" in html


@pytest.mark.parametrize("persona", ["low", "medium", "manager"])
def test_only_the_director_sees_the_full_ssn(client, account, persona, request):
    html = page(client, request.getfixturevalue(persona), detail_url(account)).content.decode()
    assert account.patient.ssn not in html
    assert "SSN" not in html


def test_director_sees_the_full_ssn(client, account, director):
    html = page(client, director, detail_url(account)).content.decode()
    assert account.patient.ssn in html


# --- audit -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "groups"),
    [
        ("low", "demographics,past_due_flag"),
        ("medium", "billing,demographics,past_due_flag"),
        ("director", "billing,demographics,director,past_due_flag"),
    ],
)
def test_opening_an_account_records_what_the_tier_was_shown(client, account, persona, groups, request):
    user = request.getfixturevalue(persona)
    page(client, user, detail_url(account))
    event = last_audit(AuditEvent.Action.VIEW, object_type="accounts.patientaccount", object_id=str(account.pk))
    assert event.user == user
    assert event.field_group == groups
    assert event.practice_id == account.practice_id
    assert event.request_id


def test_search_records_the_accounts_listed_but_not_what_was_typed(client, account, medium):
    last_name = account.patient.last_name
    search(client, medium, q=last_name)
    event = last_audit(AuditEvent.Action.SEARCH)
    assert event.user == medium
    assert account.pk in event.detail["account_ids"]
    assert event.detail["result_count"] >= 1
    assert last_name.lower() not in str(event.detail).lower()


def test_opening_the_demographics_editor_is_audited(client, account, low):
    page(client, low, edit_url(account.patient))
    event = last_audit(AuditEvent.Action.VIEW, object_type="accounts.patient")
    assert event.object_id == str(account.patient_id)
    assert event.field_group == "demographics"


# --- query counts ----------------------------------------------------------------------------------


def test_account_page_queries_are_bounded(client, account, medium, django_assert_max_num_queries, monkeypatch):
    # The page itself: each action panel's own queries are counted by its area's tests.
    monkeypatch.setattr("collections_app.workspace.panels.PANELS", ())
    client.force_login(medium)
    client.get(detail_url(account))  # session stamp written once
    with django_assert_max_num_queries(13):
        assert client.get(detail_url(account)).status_code == 200


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_account_page_queries_do_not_grow_with_encounters_or_ledger_rows(client, practice, medium):
    small, large = PatientAccountFactory(practice=practice), PatientAccountFactory(practice=practice)
    post_visit(small, days_ago=40)
    for days_ago in range(20, 260, 20):
        post_visit(large, days_ago=days_ago, charge="150.00", insurance_paid="90.00", to_patient="40.00")
    AppointmentFactory.create_batch(3, patient=large.patient, practice=practice)
    client.force_login(medium)
    client.get(detail_url(small))
    assert _queries_for(client, detail_url(large)) == _queries_for(client, detail_url(small))


def test_search_queries_are_bounded(client, practice, medium, django_assert_max_num_queries):
    for _ in range(12):
        PatientAccountFactory(practice=practice, patient__last_name="Quayle")
    client.force_login(medium)
    client.get(reverse("search"))
    # session, user, scope, practices, count, page, audit, and the new search kept in the session
    # (a savepoint, the update, its release); PostgreSQL adds the "any surname like this?" probe
    with django_assert_max_num_queries(11):
        response = client.post(reverse("search"), {"q": "Quayle"})
    assert len(response.context["page"].object_list) == 12
    with django_assert_max_num_queries(8):  # the same search again: the session is not rewritten
        client.post(reverse("search"), {"q": "Quayle"})


def _account_with_open_encounters(practice, count):
    """Many visits, each leaving $10 to the patient (bulk inserted: the ledger only refuses changes)."""
    account = PatientAccountFactory(practice=practice)
    today = timezone.localdate()
    encounters = Encounter.objects.bulk_create(
        Encounter(
            practice=practice,
            account=account,
            date_of_service=today - timedelta(days=10 + n),
            rendering_provider="Dr. Okafor",
        )
        for n in range(count)
    )
    Transaction.objects.bulk_create(
        Transaction(
            account=account,
            encounter=encounter,
            kind=Kind.TRANSFER_TO_PATIENT,
            patient_amount=Decimal("10.00"),
            insurance_amount=Decimal("-10.00"),
            effective_on=encounter.date_of_service,
        )
        for encounter in encounters
    )
    PatientAccount.objects.filter(pk=account.pk).update(
        patient_balance=Decimal("10.00") * count, insurance_balance=Decimal("-10.00") * count
    )
    return account


def test_account_page_lists_the_oldest_open_encounters_and_offers_the_rest(client, practice, medium):
    account = _account_with_open_encounters(practice, 60)
    client.force_login(medium)
    response = client.get(detail_url(account))
    shown = response.context["open_encounters"]
    assert len(shown) == 50 and response.context["open_encounter_count"] == 60
    assert shown[0].date_of_service == timezone.localdate() - timedelta(days=69)  # oldest first
    assert b"Show all 60 open encounters" in response.content
    rest = client.get(open_encounters_url(account), **HTMX)
    assert rest.content.count(b"<tr>") == 60
    assert b"Dr. Okafor" in rest.content


# --- ledger pages ----------------------------------------------------------------------------------


def test_ledger_pages_continue_the_running_balance(client, account, medium):
    for n in range(100):
        ledger.transaction_post(
            acting_user=medium,
            account_id=account.pk,
            kind=Kind.PATIENT_PAYMENT,
            patient_amount="-1.00",
            payment_method="cash",
            reference=f"R{n}",
        )
    client.force_login(medium)
    first = client.get(detail_url(account)).context["ledger"]
    assert first.paginator.count == 108 and len(first.rows) == 50
    assert first.rows[0].patient_balance_after == Decimal("100.00")
    second = client.get(ledger_url(account), {"page": 2}, **HTMX)
    assert b"<html" not in second.content  # an htmx fragment
    rows = second.context["ledger"].rows
    assert len(rows) == 50
    assert rows[0].patient_balance_after == first.rows[-1].patient_balance_after - first.rows[-1].patient_amount
    last = client.get(ledger_url(account), {"page": 3}).context["ledger"].rows
    assert len(last) == 8
    assert last[-1].patient_balance_after == last[-1].patient_amount  # the first charge ever posted


@pytest.mark.parametrize(("raw", "status"), [("abc", 200), ("-3", 200), ("0", 200), ("9" * 40, 404), ("2", 404)])
def test_odd_ledger_page_numbers_never_fail(client, account, medium, raw, status):
    assert page(client, medium, ledger_url(account) + f"?page={raw}").status_code == status


# --- search ----------------------------------------------------------------------------------------


def _listed(response, account) -> bool:
    result = response.context["page"]
    return result is not None and account in result.object_list


def test_search_by_last_name_and_by_last_comma_first(client, account, low):
    patient = account.patient
    assert _listed(search(client, low, q=patient.last_name), account)
    assert _listed(search(client, low, q=f"{patient.last_name}, {patient.first_name}"), account)
    assert _listed(search(client, low, q=patient.last_name[:3].lower()), account)


def test_search_by_date_of_birth(client, account, low):
    assert _listed(search(client, low, q="05/17/1970"), account)
    assert _listed(search(client, low, q="1970-05-17"), account)


def test_search_by_account_number(client, account, low):
    assert _listed(search(client, low, q=account.account_number), account)
    assert _listed(search(client, low, q=account.account_number.lower()), account)


def test_search_by_phone_in_any_punctuation(client, account, low):
    digits = account.patient.phone
    assert _listed(search(client, low, q=f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"), account)
    assert _listed(search(client, low, q=digits), account)


def test_search_narrows_by_practice_and_status(client, account, director, other_account):
    other_name = other_account.patient.last_name
    response = search(client, director, q=other_name, practice=account.practice_id)
    assert not _listed(response, other_account)
    assert not _listed(search(client, director, q=account.account_number, status="closed"), account)
    assert _listed(search(client, director, q=account.account_number, status="active"), account)


def test_search_results_show_balances_only_to_billing_tiers(client, account, low, medium):
    assert "$200.00" in search(client, medium, q=account.account_number).content.decode()
    html = search(client, low, q=account.account_number).content.decode()
    assert account.account_number in html
    assert "$" not in html and "200.00" not in html


def test_live_search_answers_htmx_with_the_results_fragment(client, account, low):
    client.force_login(low)
    response = client.post(reverse("search"), {"q": account.account_number}, **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert account.account_number.encode() in response.content


def test_search_results_are_paginated_fifty_a_page(client, practice, low):
    for _ in range(51):
        PatientAccountFactory(practice=practice, patient__last_name="Zeller")
    first = search(client, low, q="Zeller")
    assert len(first.context["page"].object_list) == 50
    assert b"Next" in first.content
    second = search(client, low, q="Zeller", page=2)
    assert len(second.context["page"].object_list) == 1
    assert search(client, low, q="Zeller", page=3).status_code == 404
    assert len(search(client, low, q="Zeller", page="-1").context["page"].object_list) == 50


@pytest.mark.parametrize(
    "query",
    [
        "'",
        '"; DROP TABLE accounts_patientaccount; --',
        "' OR 1=1 --",
        "%",
        "_",
        "\\",
        "Ünïcødé 🙂",
        "李小龙",
        "x" * 10_000,
        "9" * 10_000,
        "13/45/2024",
        "0000-00-00",
        "-1",
        "<script>alert(1)</script>",
        "\u202e\u200b",
    ],
)
def test_odd_search_input_answers_with_no_results_not_an_error(client, account, low, query):
    response = search(client, low, q=query)
    assert response.status_code == 200
    assert not _listed(response, account)
    assert b"<script>alert(1)" not in response.content


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a\x00b"},
        {"q": "Smith", "practice": "abc"},
        {"q": "Smith", "practice": "99999999999999999999999"},
        {"q": "Smith", "status": "bogus"},
        {"q": "Smith", "page": "1e9"},
        {"q": "Smith", "page": "99999999999999999999999999"},
    ],
)
def test_odd_search_parameters_never_fail(client, account, low, params):
    assert search(client, low, **params).status_code in (200, 404)


def test_empty_search_shows_the_hint_and_writes_no_audit_row(client, low):
    before = AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).count()
    response = search(client, low, q="   ")
    assert response.status_code == 200
    assert b"Type a last name" in response.content
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).count() == before


# --- demographics editing --------------------------------------------------------------------------


def form_data(patient, **changes):
    data = {
        "first_name": patient.first_name,
        "middle_name": patient.middle_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "phone": patient.phone,
        "email": patient.email,
        "address_line1": patient.address_line1,
        "address_line2": patient.address_line2,
        "city": patient.city,
        "state": patient.state,
        "postal_code": patient.postal_code,
        "updated_at": patient.updated_at.isoformat(),
    }
    data.update(changes)
    return data


def test_front_desk_corrects_a_phone_number_and_it_is_stored_as_digits(client, account, low):
    patient = account.patient
    client.force_login(low)
    response = client.post(edit_url(patient), form_data(patient, phone="(518) 555-0199"))
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "5185550199"
    event = last_audit(AuditEvent.Action.UPDATE, object_type="accounts.patient")
    assert event.user == low
    assert event.detail == {"fields": ["phone"]}  # field names, never values
    assert "Demographics saved." in client.get(response["Location"]).content.decode()


def test_address_correction_keeps_the_old_address_in_history(client, account, medium):
    patient = account.patient
    old_street = patient.address_line1
    client.force_login(medium)
    client.post(edit_url(patient), form_data(patient, address_line1="400 Broadway", city="Troy", postal_code="12180"))
    patient.refresh_from_db()
    assert patient.address_line1 == "400 Broadway"
    assert AddressHistory.objects.filter(patient=patient).count() == 2
    html = client.get(edit_url(patient)).content.decode()
    assert old_street in html and "400 Broadway" in html
    event = last_audit(AuditEvent.Action.UPDATE, object_type="accounts.patient")
    assert event.detail == {"fields": ["address_line1", "city", "postal_code"]}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12345"}, "ten-digit phone"),
        ({"date_of_birth": (timezone.localdate() + timedelta(days=3)).isoformat()}, "cannot be in the future"),
        ({"date_of_birth": "not a date"}, "Enter a valid date"),
        ({"email": "not-an-email"}, "valid email"),
        ({"state": "New York"}, "two-letter state"),
        ({"postal_code": "ABCDE"}, "ZIP"),
        ({"last_name": ""}, "required"),
        ({"sex": "Q"}, "Select a valid choice"),
        ({"updated_at": "yesterday"}, "Reload the page"),
    ],
)
def test_invalid_demographics_are_shown_as_form_errors(client, account, low, changes, message):
    patient = account.patient
    client.force_login(low)
    response = client.post(edit_url(patient), form_data(patient, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).updated_at == patient.updated_at
    assert last_audit(AuditEvent.Action.UPDATE, object_type="accounts.patient") is None


def test_a_concurrent_edit_is_refused_not_overwritten(client, account, low, medium):
    patient = account.patient
    stale = form_data(patient, first_name="Marta")
    ledger.patient_update_demographics(acting_user=medium, patient_id=patient.pk, email="new@example.org")
    client.force_login(low)
    response = client.post(edit_url(patient), stale)
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    patient.refresh_from_db()
    assert patient.first_name != "Marta" and patient.email == "new@example.org"


def test_htmx_save_returns_the_form_fragment_with_a_confirmation(client, account, low):
    patient = account.patient
    client.force_login(low)
    response = client.post(edit_url(patient), form_data(patient, email="maria@example.org"), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Demographics saved." in html
    patient.refresh_from_db()
    assert patient.email == "maria@example.org"
    # The fragment carries the new version, so a second save from it is accepted.
    assert patient.updated_at.isoformat() in html


def test_saving_unchanged_demographics_writes_no_audit_row(client, account, low):
    client.force_login(low)
    client.post(edit_url(account.patient), form_data(account.patient))
    assert last_audit(AuditEvent.Action.UPDATE, object_type="accounts.patient") is None


def test_search_terms_never_travel_in_the_url(client, account, low):
    """Names are PHI: the search form posts them; a term put in the query string is not searched."""
    client.force_login(low)
    page = client.get(reverse("search")).content.decode()
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page
    response = client.get(reverse("search"), {"q": account.patient.last_name})
    assert f'href="/accounts/{account.pk}/"' not in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="near spellings use pg_trgm (PostgreSQL)")
def test_a_near_spelling_finds_the_patient_when_no_surname_starts_so(client, practice, low):
    account = PatientAccountFactory(practice=practice, patient__last_name="Garcia", patient__first_name="Maria")
    assert _listed(search(client, low, q="Garsia"), account)
    assert _listed(search(client, low, q="Maria Garsia"), account)


def test_a_surname_shared_by_more_than_a_thousand_says_so(client, practice, low, monkeypatch):
    from accounts import views

    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 3)
    for _ in range(5):
        PatientAccountFactory(practice=practice, patient__last_name="Quimby")
    html = search(client, low, q="Quimby").content.decode()
    assert "More than 3 accounts" in html
