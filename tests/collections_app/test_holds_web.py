"""The holds panel: htmx actions re-render the panel, the LOP letter is served only through the
audited view, and every action refuses a low tier (403) and another practice (404)."""

from datetime import date

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collections_app.holds import services
from collections_app.models import AccountHold
from core.models import AuditEvent
from tests.factories import minimal_pdf
from tests.pages import account_changed_by

pytestmark = pytest.mark.django_db

PDF = minimal_pdf()
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def private_storage(tmp_path, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    field = AccountHold._meta.get_field("lop_letter")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "private", base_url=None))
    return tmp_path / "private"


def lop_hold(user, account, letter=True):
    return services.hold_place(
        acting_user=user,
        account_id=account.pk,
        kind="lop",
        attorney_name="Sam Counsel",
        lop_letter=SimpleUploadedFile("l.pdf", PDF, content_type="application/pdf") if letter else None,
    )


def test_panel_lists_active_holds_with_their_details(client, medium, account, django_assert_max_num_queries):
    hold = lop_hold(medium, account)
    services.hold_place(acting_user=medium, account_id=account.pk, kind="dispute", dispute_kind="no_surprises")
    client.force_login(medium)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("holds-panel", args=[account.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="panel-holds"' in html
    assert "Sam Counsel" in html and "No Surprises Act dispute" in html
    assert reverse("hold-letter", args=[hold.pk]) in html
    assert 'hx-encoding="multipart/form-data"' in html


def test_panel_query_count_does_not_grow_with_holds(client, medium, account, django_assert_max_num_queries):
    for kind in ("lop", "dispute", "bankruptcy"):
        hold = services.hold_place(
            acting_user=medium,
            account_id=account.pk,
            kind=kind,
            attorney_name="A",
            dispute_kind="balance",
            bankruptcy_chapter=13,
            filed_on=date(2025, 1, 2),
            case_number="25-1",
        )
        services.hold_release(acting_user=medium, hold_id=hold.pk, reason="Done")
    client.force_login(medium)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("holds-panel", args=[account.pk]), **HTMX).status_code == 200


def test_kind_fields_show_the_fields_of_the_chosen_kind(client, medium, account):
    client.force_login(medium)
    html = client.get(reverse("hold-kind-fields", args=[account.pk]), {"kind": "probate"}).content.decode()
    assert 'name="died_on"' in html and 'name="executor_name"' in html
    assert 'name="published_notice_on"' in html and 'name="mailed_notice_on"' in html
    assert 'name="attorney_name"' not in html
    html = client.get(reverse("hold-kind-fields", args=[account.pk]), {"kind": "lop"}).content.decode()
    assert 'name="lop_letter"' in html and 'type="file"' in html


def test_place_hold_by_htmx_rerenders_the_panel_and_triggers_account_changed(client, medium, account):
    client.force_login(medium)
    response = client.post(
        reverse("hold-place", args=[account.pk]),
        {"kind": "bankruptcy", "bankruptcy_chapter": "13", "filed_on": "2025-09-01", "case_number": "25-10001"},
        **HTMX,
    )
    assert response.status_code == 200
    assert account_changed_by(response) == "holds"
    assert "25-10001" in response.content.decode()
    account.refresh_from_db()
    assert (account.status, account.hold_reason) == ("hold", "bankruptcy")


def test_place_probate_hold_shows_both_notice_dates_and_the_claim_deadline(client, medium, account):
    client.force_login(medium)
    response = client.post(
        reverse("hold-place", args=[account.pk]),
        {
            "kind": "probate",
            "died_on": "2025-06-01",
            "published_notice_on": "2025-07-01",
            "mailed_notice_on": "2025-10-01",
        },
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "07/01/2025" in html and "10/01/2025" in html
    assert "11/30/2025" in html  # 60 days after mailing: later than 4 months after publication


def test_probate_notice_before_the_death_is_refused_inline(client, medium, account):
    client.force_login(medium)
    response = client.post(
        reverse("hold-place", args=[account.pk]),
        {"kind": "probate", "died_on": "2025-06-01", "published_notice_on": "2025-05-01"},
        **HTMX,
    )
    assert response.status_code == 200
    assert services.MESSAGE_PUBLISHED_NOTICE_BEFORE_DEATH in response.content.decode()
    assert "HX-Trigger" not in response
    assert not AccountHold.objects.exists()


def test_place_hold_with_an_lop_letter_upload(client, medium, account, private_storage):
    client.force_login(medium)
    letter = SimpleUploadedFile("letter.pdf", PDF, content_type="application/pdf")
    response = client.post(
        reverse("hold-place", args=[account.pk]),
        {"kind": "lop", "attorney_name": "Sam Counsel", "attorney_email": "sam@example.com", "lop_letter": letter},
        **HTMX,
    )
    assert response.status_code == 200
    hold = AccountHold.objects.get()
    assert (private_storage / hold.lop_letter.name).read_bytes() == PDF


def test_non_pdf_letter_is_refused_inline(client, medium, account):
    client.force_login(medium)
    letter = SimpleUploadedFile("letter.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = client.post(
        reverse("hold-place", args=[account.pk]), {"kind": "lop", "attorney_name": "Sam", "lop_letter": letter}, **HTMX
    )
    assert response.status_code == 200
    assert services.MESSAGE_LETTER_NOT_PDF in response.content.decode()
    assert "HX-Trigger" not in response
    assert not AccountHold.objects.exists()


def test_missing_details_show_an_inline_error(client, medium, account):
    client.force_login(medium)
    response = client.post(reverse("hold-place", args=[account.pk]), {"kind": "probate"}, **HTMX)
    assert services.MESSAGE_NEEDS_DEATH_DATE in response.content.decode()
    assert not AccountHold.objects.exists()


def test_without_htmx_actions_redirect_to_the_account_page(client, medium, account):
    client.force_login(medium)
    response = client.post(reverse("hold-place", args=[account.pk]), {"kind": "dispute", "dispute_kind": "balance"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account-detail", args=[account.pk])


def test_release_needs_a_reason_and_restores_the_status(client, medium, account):
    from payment_plans.services import plan_create

    plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
    hold = services.hold_place(acting_user=medium, account_id=account.pk, kind="dispute", dispute_kind="balance")
    client.force_login(medium)
    url = reverse("hold-release", args=[account.pk, hold.pk])
    response = client.post(url, {"reason": ""}, **HTMX)
    assert "HX-Trigger" not in response
    assert "This field is required." in response.content.decode()
    response = client.post(url, {"reason": "Dispute answered in writing"}, **HTMX)
    assert account_changed_by(response) == "holds"
    account.refresh_from_db()
    assert account.status == "payment_plan"


def test_lop_status_check_from_the_panel(client, medium, account):
    hold = lop_hold(medium, account, letter=False)
    client.force_login(medium)
    url = reverse("hold-status-check", args=[account.pk, hold.pk])
    response = client.post(url, {"status": "settled", "settlement_amount": "2500.00"}, **HTMX)
    assert account_changed_by(response) == "holds"
    hold.refresh_from_db()
    assert hold.lop_status == "settled" and str(hold.settlement_amount) == "2500.00"


def test_hold_of_another_account_is_404_in_the_panel_actions(client, medium, account, practice):
    from tests.factories import PatientAccountFactory

    second = PatientAccountFactory(practice=practice)
    hold = services.hold_place(acting_user=medium, account_id=second.pk, kind="dispute", dispute_kind="balance")
    client.force_login(medium)
    response = client.post(reverse("hold-release", args=[account.pk, hold.pk]), {"reason": "x"}, **HTMX)
    assert response.status_code == 404


# --- the Letter of Protection document -------------------------------------------------------------


def test_letter_is_served_as_an_uncached_audited_download(client, medium, account):
    hold = lop_hold(medium, account)
    client.force_login(medium)
    response = client.get(reverse("hold-letter", args=[hold.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == PDF
    read = AuditEvent.objects.get(action="view", object_type="collections_app.accounthold", object_id=str(hold.pk))
    assert read.user == medium and read.field_group == "billing"


def test_letter_refuses_low_tier_and_other_practices(client, medium, low, outsider, account):
    hold = lop_hold(medium, account)
    url = reverse("hold-letter", args=[hold.pk])
    client.force_login(low)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="view", object_id=str(hold.pk)).exists()


def test_letter_without_a_file_is_404(client, medium, account):
    hold = lop_hold(medium, account, letter=False)
    client.force_login(medium)
    assert client.get(reverse("hold-letter", args=[hold.pk])).status_code == 404


def test_letter_is_not_reachable_under_media_or_static(client, medium, account, private_storage):
    hold = lop_hold(medium, account)
    path = private_storage / hold.lop_letter.name
    assert path.exists()
    for root in (getattr(settings, "MEDIA_ROOT", ""), settings.STATIC_ROOT):
        assert not str(path).startswith(str(root) or "/nonexistent")
    client.force_login(medium)
    for prefix in ("/media/", "/static/", f"/{settings.STATIC_URL.strip('/')}/"):
        assert client.get(prefix + hold.lop_letter.name).status_code == 404


def test_real_private_storage_is_outside_media_and_static():
    from collections_app.models import private_storage

    location = str(private_storage().location)
    assert location == str(settings.PRIVATE_MEDIA_ROOT)
    assert not location.startswith(str(settings.STATIC_ROOT))
    assert not getattr(settings, "MEDIA_ROOT", "") or not location.startswith(str(settings.MEDIA_ROOT))


# --- tiers and practices on every page -------------------------------------------------------------


def _urls(account, hold):
    return [
        ("get", reverse("holds-panel", args=[account.pk]), {}),
        ("get", reverse("hold-kind-fields", args=[account.pk]), {"kind": "lop"}),
        ("post", reverse("hold-place", args=[account.pk]), {"kind": "dispute", "dispute_kind": "balance"}),
        ("post", reverse("hold-release", args=[account.pk, hold.pk]), {"reason": "x"}),
        ("post", reverse("hold-status-check", args=[account.pk, hold.pk]), {"status": "pending"}),
    ]


@pytest.mark.parametrize("index", range(5))
def test_every_holds_page_refuses_low_tier(client, medium, low, account, index):
    hold = lop_hold(medium, account, letter=False)
    method, url, data = _urls(account, hold)[index]
    client.force_login(low)
    assert getattr(client, method)(url, data, **HTMX).status_code == 403


@pytest.mark.parametrize("index", range(5))
def test_every_holds_page_hides_other_practices(client, medium, outsider, account, index):
    hold = lop_hold(medium, account, letter=False)
    method, url, data = _urls(account, hold)[index]
    client.force_login(outsider)
    assert getattr(client, method)(url, data, **HTMX).status_code == 404
    hold.refresh_from_db()
    assert hold.is_active and hold.lop_status == "pending"


def test_timeline_lists_holds_placed_checked_and_released(medium, account, django_assert_max_num_queries):
    hold = lop_hold(medium, account, letter=False)
    services.lop_status_check(acting_user=medium, hold_id=hold.pk, status="pending")
    services.hold_release(acting_user=medium, hold_id=hold.pk, reason="Case dropped")
    from collections_app.holds.selectors import timeline_events

    account.refresh_from_db()
    with django_assert_max_num_queries(2):
        events = timeline_events(account)
    assert [event.title for event in events] == [
        "Letter of Protection hold placed",
        "Letter of Protection status check: Case pending",
        "Letter of Protection hold released",
    ]
    assert all(event.kind == "hold" and event.when.tzinfo for event in events)
    assert events[0].actor == "medium"


def test_account_page_includes_the_holds_panel(client, medium, account):
    lop_hold(medium, account)
    client.force_login(medium)
    html = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    panel_url = reverse("holds-panel", args=[account.pk])
    assert 'id="panel-holds"' in html and f'hx-get="{panel_url}"' in html  # loads when opened
    assert "Sam Counsel" in client.get(panel_url, HTTP_HX_REQUEST="true").content.decode()


def test_account_page_hides_the_holds_panel_from_the_front_desk(client, medium, low, account):
    lop_hold(medium, account)
    client.force_login(low)
    html = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert 'id="panel-holds"' not in html and "Sam Counsel" not in html


def test_letter_can_be_attached_later_and_must_be_a_pdf(client, medium, account, private_storage):
    hold = lop_hold(medium, account, letter=False)
    client.force_login(medium)
    url = reverse("hold-letter-attach", args=[account.pk, hold.pk])
    bad = SimpleUploadedFile("x.pdf", b"PK\x03\x04zip", content_type="application/pdf")
    response = client.post(url, {"lop_letter": bad}, **HTMX)
    assert services.MESSAGE_LETTER_NOT_PDF in response.content.decode() and "HX-Trigger" not in response
    hold.refresh_from_db()
    assert not hold.lop_letter
    good = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    response = client.post(url, {"lop_letter": good}, **HTMX)
    assert account_changed_by(response) == "holds"
    hold.refresh_from_db()
    assert (private_storage / hold.lop_letter.name).read_bytes() == PDF


@pytest.mark.parametrize(("persona", "status"), [("low", 403), ("outsider", 404)])
def test_letter_attach_refuses_low_tier_and_other_practices(client, personas, medium, account, persona, status):
    hold = lop_hold(medium, account, letter=False)
    client.force_login(personas[persona])
    letter = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("hold-letter-attach", args=[account.pk, hold.pk]), {"lop_letter": letter}, **HTMX)
    assert response.status_code == status
    hold.refresh_from_db()
    assert not hold.lop_letter
