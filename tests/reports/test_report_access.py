"""Every report, every way out of it (page, CSV, PDF, JSON API and its CSV and PDF): who is let in,
a practice outside the user's scope refused, every run audited, the same numbers everywhere, and
the page in a bounded number of queries."""

import csv
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEvent
from reports.framework import REGISTRY, get_report

pytestmark = pytest.mark.django_db

get_report("aging")  # registers the catalog
SLUGS = sorted(REGISTRY)
MY_SLUGS = ["aging", "days-in-ar", "returned-mail"]
WAYS = [("page", ""), ("page", "csv"), ("page", "pdf"), ("api", ""), ("api", "csv"), ("api", "pdf")]


def url(way: str, slug: str, fmt: str) -> str:
    base = reverse("report" if way == "page" else "api-report", args=[slug])
    return f"{base}?format={fmt}" if fmt else base


def client_for(way, user):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(("way", "fmt"), WAYS)
def test_low_and_medium_tiers_are_refused(personas, slug, way, fmt):
    for persona in ("low", "medium", "outsider"):
        response = client_for(way, personas[persona]).get(url(way, slug, fmt))
        assert response.status_code == 403, (persona, response.status_code)


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(("way", "fmt"), WAYS)
def test_signed_out_visitors_are_sent_to_sign_in(db, slug, way, fmt):
    response = client_for(way, None).get(url(way, slug, fmt))
    assert response.status_code == (302 if way == "page" else 401)


@pytest.mark.parametrize("slug", MY_SLUGS)
@pytest.mark.parametrize(("way", "fmt"), WAYS)
def test_a_manager_runs_each_report_every_way(manager, account, slug, way, fmt):
    response = client_for(way, manager).get(url(way, slug, fmt))
    assert response.status_code == 200
    if fmt == "pdf":
        assert response.content.startswith(b"%PDF")
        assert "attachment" in response["Content-Disposition"]
    elif fmt == "csv":
        assert response["Content-Type"].startswith("text/csv")
        assert response.content.decode().splitlines()[0] == get_report(slug).title


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(("way", "fmt"), WAYS)
def test_another_practice_is_refused_with_a_field_error(manager, other_practice, slug, way, fmt):
    response = client_for(way, manager).get(url(way, slug, fmt), {"practice": other_practice.pk})
    assert response.status_code == 400
    if way == "api":
        assert "practice" in response.json()
    else:
        assert "You have no access to practice" in response.content.decode()
    assert not AuditEvent.objects.filter(object_type="report").exists()


def test_bad_parameters_are_field_errors(manager):
    api = client_for("api", manager)
    answer = api.get(reverse("api-report", args=["aging"]), {"as_of": "not-a-date", "basis": "astrology"})
    assert answer.status_code == 400
    assert set(answer.json()) == {"as_of", "basis"}
    page = client_for("page", manager).get(reverse("report", args=["aging"]), {"as_of": "13/45/2026"})
    assert page.status_code == 400 and "Enter a valid date." in page.content.decode()
    assert api.get(reverse("api-report", args=["aging"]), {"format": "xlsx"}).status_code == 400
    assert api.get(reverse("api-report", args=["no-such-report"])).status_code == 404


def test_a_director_sees_every_practice(director, account, other_account, practice, other_practice):
    answer = client_for("api", director).get(reverse("api-report", args=["aging"]))
    assert [p["code"] for p in answer.json()["parameters"]["practices"]] == sorted(
        [practice.code, other_practice.code],
        key=lambda code: {practice.code: practice.name, other_practice.code: other_practice.name}[code],
    )


def test_every_run_is_audited_with_its_parameters_and_no_phi(manager, account, practice):
    client_for("api", manager).get(reverse("api-report", args=["aging"]), {"as_of": "2026-06-30", "group_by": "payer"})
    client_for("page", manager).get(reverse("report", args=["aging"]), {"format": "pdf"})
    events = list(AuditEvent.objects.filter(object_type="report").order_by("id"))
    assert [(e.action, e.object_id, e.user_id, e.practice_id) for e in events] == [
        ("view", "aging", manager.pk, practice.pk),
        ("export", "aging", manager.pk, practice.pk),
    ]
    detail = events[0].detail
    assert detail["practices"] == [practice.pk]
    assert detail["parameters"]["as_of"] == "2026-06-30" and detail["parameters"]["group_by"] == "payer"
    assert account.patient.last_name not in str(detail)


def pdf_text(content: bytes) -> str:
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
        return done.stdout.decode()
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_page_json_csv_and_pdf_give_the_same_numbers(manager, account):
    # `account`: $120 (91-120 days) and $80 (31-60 days) owed by the patient.
    page_client, api = client_for("page", manager), client_for("api", manager)
    data = api.get(reverse("api-report", args=["aging"])).json()
    patient = next(t for t in data["tables"] if t["key"] == "patient")
    assert patient["totals"]["91-120"] == "120.00" and patient["totals"]["31-60"] == "80.00"
    assert patient["totals"]["balance"] == "200.00"
    rows = list(
        csv.reader(io.StringIO(api.get(reverse("api-report", args=["aging"]), {"format": "csv"}).content.decode()))
    )
    start = rows.index(["Patient AR by practice"])
    header, total = rows[start + 1], rows[start + 3]
    assert dict(zip(header, total, strict=True))["Balance"] == "200.00"
    assert dict(zip(header, total, strict=True))["91-120 days"] == "120.00"
    html = page_client.get(reverse("report", args=["aging"])).content.decode()
    pdf = pdf_text(page_client.get(reverse("report", args=["aging"]), {"format": "pdf"}).content)
    for text in ("$120.00", "$80.00", "$200.00"):
        assert text in html and text in pdf
    assert "<svg" in html and 'class="bar"' in html
    assert "Formula" in pdf and "As of" in pdf and ("EST" in pdf or "EDT" in pdf)  # times carry their zone
    assert Decimal(data["summary"][0]["value"]) == Decimal("200.00")


def test_csv_cells_cannot_start_a_formula(manager, account, practice):
    practice.name = "=HYPERLINK(1)"
    practice.save(update_fields=["name"])
    text = client_for("page", manager).get(reverse("report", args=["days-in-ar"]), {"format": "csv"}).content.decode()
    assert "'=HYPERLINK(1)" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


@pytest.mark.parametrize("slug", MY_SLUGS)
def test_the_page_runs_in_a_bounded_number_of_queries(manager, account, slug, django_assert_max_num_queries):
    client = client_for("page", manager)
    client.get(reverse("report", args=[slug]))  # warm the session and content type caches
    with django_assert_max_num_queries(14):
        assert client.get(reverse("report", args=[slug])).status_code == 200


def test_the_index_lists_the_reports_for_managers(manager, client):
    client.force_login(manager)
    page = client.get(reverse("reports")).content.decode()
    for slug in MY_SLUGS:
        assert reverse("report", args=[slug]) in page
