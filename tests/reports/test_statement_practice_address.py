"""The practice's remit-to address and billing phone (Practice.remit_*, billing_phone): printed in
the statement's header and remit stub, edited by a Director in the practice's admin (audited by
field name), and filled in for the demo practices."""

import pytest

from accounts import demo
from accounts.models import Practice
from core.models import AuditEvent
from reports.models import Statement
from reports.statements import documents
from tests.reports.statement_world import HAS_PDFTOTEXT, crafted_account, make_statement, pdf_text, squash

OFFICE = {
    "remit_address_line1": "PO Box 4411",
    "remit_address_line2": "Attn: Patient Billing",
    "remit_city": "Albany",
    "remit_state": "NY",
    "remit_postal_code": "12207-4411",
    "billing_phone": "(518) 555-0142",
}


def with_office(practice, **fields):
    Practice.objects.filter(pk=practice.pk).update(**{**OFFICE, **fields})
    practice.refresh_from_db()
    return practice


def test_the_remit_address_reads_as_printed(practice):
    practice = with_office(practice)
    assert practice.remit_address_lines == ["PO Box 4411", "Attn: Patient Billing", "Albany, NY 12207-4411"]
    practice.remit_address_line2 = ""
    assert practice.remit_address_lines == ["PO Box 4411", "Albany, NY 12207-4411"]
    assert Practice(name="New").remit_address_lines == []


def test_the_frozen_statement_content_carries_the_practices_billing_office(practice):
    with_office(practice)
    statement = make_statement(crafted_account(practice))
    assert statement.content["practice"] == {
        "name": practice.name,
        "address_lines": ["PO Box 4411", "Attn: Patient Billing", "Albany, NY 12207-4411"],
        "phone": "(518) 555-0142",
    }


@pytest.mark.skipif(not HAS_PDFTOTEXT, reason="pdftotext (poppler-utils) is not installed")
def test_the_statement_pdf_shows_the_remit_to_address_and_phone(practice):
    with_office(practice)
    statement = make_statement(crafted_account(practice))
    text = pdf_text(documents.render_statement_pdf(statement))
    flat = squash(text)
    header = squash(text.split("Statement date")[0])
    assert "PO Box 4411" in header and "Albany, NY 12207-4411" in header
    assert "Questions about your bill: (518) 555-0142" in header
    assert (
        f"Remit to: {practice.name}, Billing office, PO Box 4411, Attn: Patient Billing, Albany, NY 12207-4411." in flat
    )
    assert "Call the billing office at (518) 555-0142." in flat


@pytest.mark.skipif(not HAS_PDFTOTEXT, reason="pdftotext (poppler-utils) is not installed")
def test_a_past_due_letters_payment_coupon_says_where_to_send_payment(practice):
    with_office(practice)
    letter = make_statement(crafted_account(practice), Statement.Kind.DUNNING_30, level=1)
    flat = squash(pdf_text(documents.render_statement_pdf(letter)))
    assert (
        f"Remit to: {practice.name}, Billing office, PO Box 4411, Attn: Patient Billing, Albany, NY 12207-4411." in flat
    )
    assert "(518) 555-0142" in flat


@pytest.mark.skipif(not HAS_PDFTOTEXT, reason="pdftotext (poppler-utils) is not installed")
def test_a_practice_without_a_billing_office_prints_its_name_alone(practice):
    statement = make_statement(crafted_account(practice))
    flat = squash(pdf_text(documents.render_statement_pdf(statement)))
    assert f"Remit to: {practice.name}, Billing office." in flat
    assert "Questions about your bill:" not in flat


def _change_data(client, url):
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    return {key: value for key, value in data.items() if value is not False}


def test_a_director_edits_the_billing_office_in_the_practice_admin_and_it_is_audited(client, director, practice):
    client.force_login(director)
    url = f"/admin/accounts/practice/{practice.pk}/change/"
    page = client.get(url).content.decode()
    assert "Billing office (printed on statements and letters)" in page and "Remit-to ZIP code" in page
    response = client.post(url, {**_change_data(client, url), **OFFICE, "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    practice.refresh_from_db()
    assert practice.remit_address_lines[-1] == "Albany, NY 12207-4411"
    assert practice.billing_phone == "(518) 555-0142"
    event = AuditEvent.objects.get(object_type="accounts.practice", action=AuditEvent.Action.UPDATE)
    assert event.detail == {"fields": sorted(OFFICE)}


@pytest.mark.parametrize(("field", "value"), [("remit_postal_code", "1220"), ("remit_state", "New York")])
def test_the_admin_refuses_a_malformed_zip_or_state(client, director, practice, field, value):
    client.force_login(director)
    url = f"/admin/accounts/practice/{practice.pk}/change/"
    response = client.post(url, {**_change_data(client, url), **OFFICE, field: value, "_save": "Save"})
    assert response.status_code == 200  # the form again, with the error
    practice.refresh_from_db()
    assert practice.remit_postal_code == "" and practice.remit_state == ""


@pytest.mark.parametrize("persona", ["low", "medium", "manager", "outsider"])
def test_below_director_cannot_edit_the_practice(client, personas, practice, persona):
    client.force_login(personas[persona])
    assert client.get(f"/admin/accounts/practice/{practice.pk}/change/").status_code == 403


def test_the_demo_practices_get_a_billing_office(db):
    refs = demo._ensure_practices(3)
    practices = list(Practice.objects.filter(pk__in=[ref.id for ref in refs]).order_by("pk"))
    assert len(practices) == 3
    for practice in practices:
        practice.full_clean()  # the ZIP and state pass the admin's validation
        assert practice.remit_address_line1.startswith("PO Box ")
        assert len(practice.remit_address_lines) == 3 and practice.billing_phone.count("555-01") == 1
    assert len({practice.remit_address_line1 for practice in practices}) == 3


def test_a_demo_practice_seeded_before_billing_offices_is_filled_in_once(db):
    demo._ensure_practices(1)
    practice = Practice.objects.get()
    Practice.objects.filter(pk=practice.pk).update(
        **{field: "" for field in OFFICE if field != "billing_phone"}, billing_phone=""
    )
    demo._ensure_practices(1)
    practice.refresh_from_db()
    assert practice.remit_address_line1 and practice.billing_phone
    Practice.objects.filter(pk=practice.pk).update(billing_phone="(212) 555-0199")
    demo._ensure_practices(1)
    practice.refresh_from_db()
    assert practice.billing_phone == "(212) 555-0199"  # a practice's own number is kept
