"""Agency pages: a manager reviews candidates, previews and places, downloads the file (audited),
recalls, uploads an agency's payment file and sees the reconciliation. Medium reads an account's
placements only; lists are a fixed number of queries."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import PatientAccount
from accounts.selectors import practice_today
from collections_app.agencies import services
from collections_app.models import AgencyFile, Placement
from core.models import AuditEvent, Tier
from tests.collections_app.agencies_support import make_agency, ready_account
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

CANDIDATES = "/agencies/candidates/"


def login(client, user):
    client.force_login(user)
    return client


def place(manager, accounts):
    ids = [a.pk for a in accounts]
    preview = services.placement_preview(acting_user=manager, account_ids=ids)
    return services.placement_place(acting_user=manager, account_ids=ids, fingerprint=preview.fingerprint)


def test_manager_reviews_previews_and_places_from_the_candidates_page(client, practice, manager):
    make_agency(practice)
    one = ready_account(practice, balance="600.00", account_number="N3000001")
    two = ready_account(practice, balance="450.25", account_number="N3000002")
    ready_account(practice, balance="200.00", account_number="N3000003")
    login(client, manager)
    page = client.get(CANDIDATES).content.decode()
    assert "3 accounts ready to place" in page and "N3000001" in page
    filtered = client.get(CANDIDATES, {"min_balance": "400"}).content.decode()
    assert "2 accounts ready to place" in filtered and "N3000003" not in filtered
    preview = client.post("/agencies/candidates/preview/", {"accounts": [one.pk, two.pk]})
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "Place 2 accounts totalling $1,050.25" in text and "Keystone Recovery" in text
    assert not Placement.objects.exists()
    fingerprint = preview.context["preview"].fingerprint
    done = client.post(
        "/agencies/candidates/place/", {"accounts": [one.pk, two.pk], "fingerprint": fingerprint}, follow=True
    )
    assert "Placed 2 accounts totalling $1,050.25 with Keystone Recovery." in done.content.decode()
    assert set(PatientAccount.objects.filter(pk__in=[one.pk, two.pk]).values_list("status", flat=True)) == {"agency"}


def test_a_changed_account_is_refused_at_confirm(client, practice, manager, medium):
    from accounts import services as ledger

    make_agency(practice)
    account = ready_account(practice)
    login(client, manager)
    fingerprint = (
        client.post("/agencies/candidates/preview/", {"accounts": [account.pk]}).context["preview"].fingerprint
    )
    ledger.transaction_post(
        acting_user=medium, account_id=account.pk, kind="patient_payment", patient_amount="-5.00", payment_method="cash"
    )
    done = client.post(
        "/agencies/candidates/place/", {"accounts": [account.pk], "fingerprint": fingerprint}, follow=True
    )
    assert "changed since the preview" in done.content.decode()
    assert not Placement.objects.exists()


def test_the_placement_file_download_is_audited(client, practice, manager):
    make_agency(practice)
    account = ready_account(practice, account_number="N3000009")
    [batch] = place(manager, [account])
    login(client, manager)
    response = client.get(f"/agencies/files/{batch.file_id}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="placement-')
    assert "N3000009" in response.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_type="collections_app.agencyfile", object_id=str(batch.file_id)
    ).exists()


def test_recall_from_the_batch_page(client, practice, manager):
    make_agency(practice)
    one, two = ready_account(practice), ready_account(practice)
    [batch] = place(manager, [one, two])
    first = Placement.objects.get(account=one)
    login(client, manager)
    page = client.get(f"/agencies/batches/{batch.pk}/").content.decode()
    assert "2 still at the agency" in page
    done = client.post(
        "/agencies/placements/recall/",
        {"placements": [first.pk], "note": "Practice request", "batch": batch.pk},
        follow=True,
    )
    assert "Recalled 1 account." in done.content.decode()
    first.refresh_from_db()
    assert first.status == Placement.Status.RECALLED and first.recall_file.kind == AgencyFile.Kind.RECALL


def test_payment_upload_shows_the_reconciliation_or_names_the_line(client, practice, manager):
    agency = make_agency(practice)
    account = ready_account(practice, account_number="N3000010")
    place(manager, [account])
    day = (practice_today(practice) - timedelta(days=1)).isoformat()
    login(client, manager)

    def upload(text):
        file = SimpleUploadedFile("keystone.csv", text.encode(), content_type="text/csv")
        return client.post("/agencies/payments/", {"agency": agency.pk, "file": file})

    bad = upload(f"account_number,payment_date,gross,commission\nN3000010,{day},100.00,25.00\nTOTAL,1,90.00,25.00\n")
    assert bad.status_code == 400
    assert (
        "Line 3: the file states a gross total of $90.00, but its payment rows add up to $100.00"
        in bad.content.decode()
    )
    good = upload(f"account_number,payment_date,gross,commission\nN3000010,{day},100.00,25.00\nTOTAL,1,100.00,25.00\n")
    assert good.status_code == 200
    text = good.content.decode()
    assert "Posted 1 payment from Keystone Recovery" in text and "$75.00" in text


def test_medium_reads_an_accounts_placements_but_not_the_agency_pages(client, practice, manager, medium, outsider):
    make_agency(practice)
    account = ready_account(practice)
    place(manager, [account])
    login(client, medium)
    page = client.get(f"/accounts/{account.pk}/placements/")
    assert page.status_code == 200 and "Keystone Recovery" in page.content.decode()
    for path in (CANDIDATES, "/agencies/", "/agencies/batches/", "/agencies/payments/"):
        assert client.get(path).status_code == 403
    login(client, outsider)
    assert client.get(f"/accounts/{account.pk}/placements/").status_code == 404


def test_another_practices_manager_sees_none_of_our_candidates_batches_or_files(
    client, practice, other_practice, manager
):
    make_agency(practice)
    account = ready_account(practice, account_number="N3000011")
    [batch] = place(manager, [account])
    ready_account(practice, account_number="N3000012")
    south = StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])
    login(client, south)
    assert "N3000012" not in client.get(CANDIDATES).content.decode()
    assert "Keystone" not in client.get("/agencies/batches/").content.decode()
    assert client.get(f"/agencies/batches/{batch.pk}/").status_code == 404
    assert client.get(f"/agencies/files/{batch.file_id}/").status_code == 404


def test_agency_pages_are_a_fixed_number_of_queries(client, practice, manager, django_assert_max_num_queries):
    make_agency(practice)
    make_agency(practice, name="Second Chance Collections", default=False)
    accounts = [ready_account(practice) for _ in range(8)]
    [batch] = place(manager, accounts[:4])
    services.placement_recall(acting_user=manager, placement_ids=[Placement.objects.filter(batch=batch).first().pk])
    login(client, manager)
    for path, limit in (
        (CANDIDATES, 14),
        ("/agencies/", 10),
        ("/agencies/batches/", 10),
        (f"/agencies/batches/{batch.pk}/", 10),
        ("/agencies/payments/", 10),
    ):
        with django_assert_max_num_queries(limit):
            response = client.get(path)
        assert response.status_code == 200, path


def test_the_nav_links_agencies_for_managers_only(client, manager, medium):
    assert 'href="/agencies/candidates/"' in login(client, manager).get("/").content.decode()
    assert 'href="/agencies/candidates/"' not in login(client, medium).get("/").content.decode()
