"""The account page's "Statements and letters" panel: what it lists, "print a letter now", and the
statement's PDF download. Each answers a billing tier, refuses the front desk (403) and another
practice's rep (404), and writes its audit rows."""

import pytest
from django.urls import reverse

from collections_app.models import Contact
from collections_app.workspace import panels
from core.models import AuditEvent
from reports.models import Statement
from tests.pages import account_changed_by
from tests.reports.statements_support import make_statement, temporary_statement_storage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(tmp_path, monkeypatch):
    return temporary_statement_storage(tmp_path, monkeypatch)


HTMX = {"HTTP_HX_REQUEST": "true"}
Kind = Statement.Kind


def test_the_panel_is_on_the_account_page_for_billing_tiers(client, medium, low, account):
    assert "statements" in [panel.key for panel in panels.PANELS]
    client.force_login(medium)
    page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert reverse("statements-panel", args=[account.pk]) in page
    assert "Statements and letters" in page
    client.force_login(low)
    page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert reverse("statements-panel", args=[account.pk]) not in page


def test_panel_lists_statements_and_letters_with_their_pdf(client, medium, account, django_assert_max_num_queries):
    statement = make_statement(account, days_ago=40, amount="200.00")
    letter = make_statement(account, kind=Kind.DUNNING_60, level=2, amount="200.00", days_ago=5)
    client.force_login(medium)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("statements-panel", args=[account.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="panel-statements"' in html
    assert "Patient statement" in html and "Past-due letter (60 days)" in html
    assert "Dunning level: 60 days" in html and "$200.00" in html and "by mail" in html
    assert statement.mailed_on.strftime("%m/%d/%Y") in html
    assert reverse("statement-pdf", args=[statement.pk]) in html
    assert reverse("statement-pdf", args=[letter.pk]) in html
    # Newest first.
    assert html.index(f'id="statement-{letter.pk}"') < html.index(f'id="statement-{statement.pk}"')
    row = AuditEvent.objects.get(
        object_type="accounts.patientaccount", object_id=str(account.pk), detail__panel="statements"
    )
    assert row.user == medium and row.field_group == "billing"
    assert sorted(row.detail["statement_ids"]) == sorted([statement.pk, letter.pk])


def test_panel_query_count_does_not_grow_with_statements(client, medium, account, django_assert_max_num_queries):
    make_statement(account)
    client.force_login(medium)
    with django_assert_max_num_queries(12) as one:
        client.get(reverse("statements-panel", args=[account.pk]), **HTMX)
    for days in range(1, 30):
        make_statement(account, days_ago=days * 30)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("statements-panel", args=[account.pk]), **HTMX)
    assert response.content.decode().count('<tr id="statement-') == 25
    assert "The newest 25 are shown" in response.content.decode()


def test_a_guarantors_statement_shows_on_every_account_it_covers(client, medium, account, practice):
    from tests.factories import PatientAccountFactory

    sibling = PatientAccountFactory(practice=practice, patient=account.patient, guarantor=account.guarantor)
    statement = make_statement(sibling, filed_under=account)
    client.force_login(medium)
    html = client.get(reverse("statements-panel", args=[sibling.pk]), **HTMX).content.decode()
    assert f'id="statement-{statement.pk}"' in html and "covers this account" in html


def test_panel_refuses_front_desk_and_another_practice(client, low, outsider, account):
    url = reverse("statements-panel", args=[account.pk])
    client.force_login(low)
    assert client.get(url, **HTMX).status_code == 403
    client.force_login(outsider)
    assert client.get(url, **HTMX).status_code == 404


# --- The PDF -----------------------------------------------------------------------------------


def test_pdf_is_a_download_named_by_number_and_audited(client, medium, account):
    statement = make_statement(account)
    client.force_login(medium)
    response = client.get(reverse("statement-pdf", args=[statement.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="statement-{statement.pk}.pdf"'
    assert account.patient.last_name not in disposition and account.account_number not in disposition
    assert "no-store" in response["Cache-Control"]
    row = AuditEvent.objects.get(object_type="reports.statement", object_id=str(statement.pk))
    assert row.user == medium and row.action == AuditEvent.Action.VIEW
    assert row.field_group == "billing,demographics" and row.detail["account_id"] == account.pk


@pytest.mark.parametrize("persona, status", [("low", 403), ("outsider", 404)])
def test_pdf_refuses_front_desk_and_another_practice(client, personas, account, persona, status):
    statement = make_statement(account)
    client.force_login(personas[persona])
    assert client.get(reverse("statement-pdf", args=[statement.pk])).status_code == status
    assert not AuditEvent.objects.filter(object_type="reports.statement").exists()


def test_pdf_missing_from_storage_is_rendered_and_kept(client, medium, account, storage):
    from reports.statements.documents import statement_content

    statement = make_statement(account, document=False)
    statement.content = statement_content(statement)
    statement.save(update_fields=["content"])
    client.force_login(medium)
    response = client.get(reverse("statement-pdf", args=[statement.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    statement.refresh_from_db()
    assert statement.document and statement.page_count >= 1
    assert storage.exists(statement.document.name)


# --- Print a letter now ------------------------------------------------------------------------


def test_rep_prints_a_letter_now(client, medium, account):
    client.force_login(medium)
    response = client.post(
        reverse("letter-print", args=[account.pk]),
        {"kind": Kind.ADDRESS_REQUEST, "note": "Please call us with your new address."},
        **HTMX,
    )
    assert response.status_code == 200
    assert account_changed_by(response) == "statements"
    letter = Statement.objects.get(account=account, kind=Kind.ADDRESS_REQUEST)
    assert letter.document and letter.mailed_on is not None and letter.created_by == medium
    assert letter.content["note"] == "Please call us with your new address."
    html = response.content.decode()
    assert "Request for a correct address printed" in html
    assert f'id="statement-{letter.pk}"' in html
    assert Contact.objects.filter(account=account, channel=Contact.Channel.LETTER).exists()
    assert AuditEvent.objects.filter(object_type="reports.statement", object_id=str(letter.pk), user=medium).exists()


def test_a_letter_refused_for_the_account_says_why_and_prints_nothing(client, medium, account):
    from collections_app.contacts import services as contacts

    contacts.flags_set(acting_user=medium, account_id=account.pk, cease_communication=True)
    client.force_login(medium)
    response = client.post(reverse("letter-print", args=[account.pk]), {"kind": Kind.DUNNING_30}, **HTMX)
    assert response.status_code == 200
    assert account_changed_by(response) is None
    assert 'role="alert"' in response.content.decode()
    assert not Statement.objects.filter(account=account).exists()


def test_print_form_refuses_a_kind_a_rep_may_not_print(client, medium, account):
    client.force_login(medium)
    response = client.post(reverse("letter-print", args=[account.pk]), {"kind": Kind.NOTICE_501R}, **HTMX)
    assert account_changed_by(response) is None
    assert "Select a valid choice" in response.content.decode()
    assert not Statement.objects.exists()


@pytest.mark.parametrize("persona, status", [("low", 403), ("outsider", 404)])
def test_print_refuses_front_desk_and_another_practice(client, personas, account, persona, status):
    client.force_login(personas[persona])
    response = client.post(reverse("letter-print", args=[account.pk]), {"kind": Kind.ADDRESS_REQUEST}, **HTMX)
    assert response.status_code == status
    assert not Statement.objects.exists()
