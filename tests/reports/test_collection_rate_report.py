"""The collection-rate report as a manager reads it: the page, the JSON API with the contract's
parameters (practice, from, to), CSV and PDF with the same numbers, refusals by tier and practice."""

import pytest
from django.urls import reverse

from core.models import Tier
from tests.factories import StaffUserFactory
from tests.reports.test_collection_rate_metrics import ledger  # noqa: F401  (the hand-worked ledger)

pytestmark = pytest.mark.django_db

QUERY = {"from": "2026-01-01", "to": "2026-03-31"}


def api(client, user, **params):
    client.force_login(user)
    return client.get(reverse("api-report", args=["collection-rate"]), {**QUERY, **params})


def page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("report", args=["collection-rate"]), {**QUERY, **params})


def test_api_gives_each_month_net_and_patient_rate_beside_target(client, ledger, manager):  # noqa: F811
    response = api(client, manager, practice=ledger.pk)
    assert response.status_code == 200
    net, patient = response.json()["tables"]
    assert (net["key"], patient["key"]) == ("net", "patient")
    months = {row["month"]: row for row in net["rows"]}
    patient_months = {row["month"]: row for row in patient["rows"]}
    assert list(months) == ["01/2026", "02/2026", "03/2026"]
    jan = months["01/2026"]
    assert (jan["net_rate"], jan["target"], jan["net_gap"]) == ("71.43", "95.00", "-23.57")
    patient_jan = patient_months["01/2026"]
    assert (patient_jan["patient_responsibility"], patient_jan["patient_paid"], patient_jan["patient_rate"]) == (
        "190.00", "100.00", "52.63",
    )  # fmt: skip
    assert patient_jan["target"] == "95.00" and patient_jan["patient_final"] == "final"
    assert months["02/2026"]["net_rate"] == "120.00"
    assert patient_months["03/2026"]["patient_gap"] == "5.00"
    # All three months: payments 350 + 70 + 60 = 480, refunds 10; charges 700, adjustments 100.
    assert net["totals"]["net_rate"] == "78.33"
    assert patient["totals"]["patient_rate"] == "60.00"  # 180 of 300


def test_csv_and_pdf_carry_the_same_run(client, ledger, manager):  # noqa: F811
    csv = api(client, manager, practice=ledger.pk, format="csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode()
    assert "Net collection rate = (payments - refunds)" in text
    assert "01/2026" in text and "71.43" in text and "52.63" in text
    pdf = page(client, manager, practice=ledger.pk, format="pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"


def test_page_shows_the_formula_the_chart_and_the_gap(client, ledger, manager, django_assert_max_num_queries):  # noqa: F811
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("report", args=["collection-rate"]), {**QUERY, "practice": ledger.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Net collection rate = (payments - refunds)" in html
    assert "paid within 120 days" in html
    assert "<svg" in html and "71.4%" in html and "-23.6%" in html


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_a_rep_is_refused_every_format(client, ledger, medium, fmt):  # noqa: F811
    assert api(client, medium, format=fmt).status_code == 403
    assert page(client, medium, format=fmt if fmt != "json" else "html").status_code == 403


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_another_practices_manager_cannot_ask_for_this_practice(client, ledger, other_practice, fmt):  # noqa: F811
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    response = api(client, south, practice=ledger.pk, format=fmt)
    assert response.status_code == 400
    assert "practice" in response.json()
    # Without a practice named, only their own: none of this practice's numbers.
    own = api(client, south).json()
    assert {row["practice"] for row in own["tables"][0]["rows"]} == {other_practice.name}


def test_nightly_figures_are_read_where_they_exist_and_the_ledger_on_request(client, ledger, manager):  # noqa: F811
    from datetime import date
    from decimal import Decimal

    from reports.models import CollectionRateSnapshot

    CollectionRateSnapshot.objects.create(
        practice=ledger, month=date(2026, 1, 1), as_of=date(2026, 2, 1), charges=Decimal("1000.00"),
        payments=Decimal("900.00"), target=Decimal("95.00"),
    )  # fmt: skip
    nightly = api(client, manager, practice=ledger.pk).json()
    months = {row["month"]: row for row in nightly["tables"][0]["rows"]}
    assert months["01/2026"]["net_rate"] == "90.00"  # the nightly row
    assert months["02/2026"]["net_rate"] == "120.00"  # not in the snapshot: from the ledger
    assert nightly["source"].startswith("Nightly figures as of 02/01/2026; months not in them from the ledger")
    live = api(client, manager, practice=ledger.pk, source="ledger").json()
    assert {row["month"]: row for row in live["tables"][0]["rows"]}["01/2026"]["net_rate"] == "71.43"
