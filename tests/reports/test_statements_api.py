"""The statements API: an account's statements and letters (paged) and a statement's PDF. Medium
and up read them; the front desk gets a 403, another practice's rep a 404; every read is audited."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEvent
from reports.models import Statement
from tests.reports.statements_support import make_statement, temporary_statement_storage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(tmp_path, monkeypatch):
    return temporary_statement_storage(tmp_path, monkeypatch)


Kind = Statement.Kind


@pytest.fixture
def api_client():
    return APIClient()


def test_list_answers_the_accounts_statements_newest_first(api_client, medium, account, django_assert_max_num_queries):
    old = make_statement(account, days_ago=40, amount="200.00")
    letter = make_statement(account, kind=Kind.FINAL_NOTICE, level=4, days_ago=3, amount="180.50")
    api_client.force_authenticate(medium)
    with django_assert_max_num_queries(10):
        response = api_client.get(reverse("api-account-statements", args=[account.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [letter.pk, old.pk]
    first = body["results"][0]
    assert first["kind"] == "final_notice" and first["dunning_level"] == 4
    assert first["amount_due"] == "180.50" and first["channel"] == "mail"
    assert first["mailed_on"] == letter.mailed_on.isoformat() and first["has_document"] is True
    assert "content" not in first and "document" not in first
    audited = AuditEvent.objects.filter(object_type="reports.statement", user=medium)
    assert sorted(int(pk) for pk in audited.values_list("object_id", flat=True)) == sorted([old.pk, letter.pk])


def test_list_query_count_does_not_grow_with_statements(api_client, medium, account, django_assert_max_num_queries):
    for days in range(60):
        make_statement(account, days_ago=days * 30, document=False)
    api_client.force_authenticate(medium)
    with django_assert_max_num_queries(10):
        response = api_client.get(reverse("api-account-statements", args=[account.pk]), {"page": 2})
    body = response.json()
    assert response.status_code == 200 and body["count"] == 60 and len(body["results"]) == 10
    assert body["previous"] is not None and body["next"] is None


def test_list_refuses_a_bad_page_number(api_client, medium, account):
    api_client.force_authenticate(medium)
    response = api_client.get(reverse("api-account-statements", args=[account.pk]), {"page": "0"})
    assert response.status_code == 400 and "page" in response.json()


@pytest.mark.parametrize("persona, status", [("low", 403), ("outsider", 404)])
def test_list_refuses_front_desk_and_another_practice(api_client, personas, account, persona, status):
    make_statement(account)
    api_client.force_authenticate(personas[persona])
    assert api_client.get(reverse("api-account-statements", args=[account.pk])).status_code == status
    assert not AuditEvent.objects.filter(object_type="reports.statement").exists()


def test_list_without_credentials_is_refused(api_client, account):
    assert api_client.get(reverse("api-account-statements", args=[account.pk])).status_code in (401, 403)


def test_pdf_answers_the_stored_document_and_audits_it(api_client, medium, account):
    statement = make_statement(account)
    api_client.force_authenticate(medium)
    response = api_client.get(reverse("api-statement-pdf", args=[statement.pk]), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="statement-{statement.pk}.pdf"'
    row = AuditEvent.objects.get(object_type="reports.statement", object_id=str(statement.pk))
    assert row.user == medium and row.action == AuditEvent.Action.VIEW and row.detail["document"] == "statement_pdf"


@pytest.mark.parametrize("persona, status", [("low", 403), ("outsider", 404)])
def test_pdf_refuses_front_desk_and_another_practice(api_client, personas, account, persona, status):
    statement = make_statement(account)
    api_client.force_authenticate(personas[persona])
    response = api_client.get(reverse("api-statement-pdf", args=[statement.pk]))
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert not AuditEvent.objects.filter(object_type="reports.statement").exists()


def test_schema_documents_both_endpoints(api_client, medium):
    api_client.force_authenticate(medium)
    schema = api_client.get(reverse("api-schema"), {"format": "json"}).json()
    listing = schema["paths"]["/api/accounts/{id}/statements/"]["get"]
    pdf = schema["paths"]["/api/statements/{id}/pdf/"]["get"]
    assert listing["summary"] and pdf["summary"]
    assert {"200", "403", "404"} <= set(listing["responses"]) and {"200", "403", "404"} <= set(pdf["responses"])
    assert "application/pdf" in pdf["responses"]["200"]["content"]
