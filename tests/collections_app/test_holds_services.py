"""Holds: each kind pauses collection, several at once, release with a reason restores the status,
LOP status checks, probate deadlines on the hold, and the nightly dispute expiry."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import PatientAccount
from collections_app.holds import jobs as hold_jobs
from collections_app.holds import services
from collections_app.holds.selectors import collection_paused_q
from collections_app.models import AccountHold
from core.errors import ApplicationError
from core.models import AuditEvent
from core.nightly import JobContext, registered_jobs
from tests.factories import minimal_pdf

pytestmark = pytest.mark.django_db

Kind = AccountHold.Kind
PDF = minimal_pdf()


@pytest.fixture
def private_storage(tmp_path, monkeypatch):
    """Letters go to a temporary private folder during tests."""
    from django.core.files.storage import FileSystemStorage

    field = AccountHold._meta.get_field("lop_letter")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=tmp_path / "private", base_url=None))
    return tmp_path / "private"


def pdf(name="letter.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


KIND_DETAILS = {
    Kind.LOP: {"attorney_name": "Sam Counsel", "attorney_firm": "Counsel LLP", "case_number": "CV-1"},
    Kind.PROBATE: {"died_on": date(2025, 6, 1), "executor_name": "Pat Executor"},
    Kind.BANKRUPTCY: {"bankruptcy_chapter": 7, "filed_on": date(2025, 9, 1), "case_number": "25-10001"},
    Kind.DISPUTE: {"dispute_kind": "balance"},
}


def paused(account) -> bool:
    """What statements, dunning and agency referral ask before they act on the account."""
    return PatientAccount.objects.filter(collection_paused_q(), pk=account.pk).exists()


def place(user, account, kind, **extra):
    return services.hold_place(acting_user=user, account_id=account.pk, kind=kind, **{**KIND_DETAILS[kind], **extra})


@pytest.mark.parametrize("kind", list(Kind.values))
def test_each_hold_kind_puts_the_account_on_hold_and_pauses_collection(medium, account, kind):
    version = account.version
    hold = place(medium, account, kind)
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.HOLD
    assert account.hold_reason == kind
    assert account.version == version + 1
    assert hold.status_before == "active"
    assert paused(account)
    assert PatientAccount.objects.filter(collection_paused_q()).count() == 1
    assert AuditEvent.objects.filter(object_type="collections_app.accounthold", object_id=str(hold.pk)).exists()


def test_an_account_without_a_hold_is_not_paused(account):
    assert not paused(account)
    assert not PatientAccount.objects.filter(collection_paused_q()).exists()


def test_release_needs_a_reason(medium, account):
    hold = place(medium, account, Kind.DISPUTE)
    with pytest.raises(ApplicationError) as error:
        services.hold_release(acting_user=medium, hold_id=hold.pk, reason="  ")
    assert error.value.message == services.MESSAGE_RELEASE_REASON
    hold.refresh_from_db()
    assert hold.is_active


def _running_plan(medium, account):
    from payment_plans.services import plan_create

    return plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)


def test_release_restores_the_status_before_the_hold(medium, account):
    _running_plan(medium, account)
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.PAYMENT_PLAN
    hold = place(medium, account, Kind.LOP)
    services.hold_release(acting_user=medium, hold_id=hold.pk, reason="Case settled and paid")
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.PAYMENT_PLAN
    assert account.hold_reason == ""
    assert not paused(account)
    hold.refresh_from_db()
    assert hold.release_reason == "Case settled and paid" and hold.released_by == medium


def test_a_plan_cancelled_during_the_hold_leaves_the_account_active_on_release(medium, account):
    from payment_plans.services import plan_cancel

    plan = _running_plan(medium, account)
    hold = place(medium, account, Kind.DISPUTE)
    plan_cancel(acting_user=medium, plan_id=plan.pk, note="Patient disputes the balance")
    services.hold_release(acting_user=medium, hold_id=hold.pk, reason="Dispute resolved")
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.ACTIVE


def test_a_plan_set_up_during_the_hold_puts_the_account_on_the_plan_on_release(medium, account):
    hold = place(medium, account, Kind.DISPUTE)
    _running_plan(medium, account)
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.HOLD  # a plan never lifts a hold
    services.hold_release(acting_user=medium, hold_id=hold.pk, reason="Dispute resolved")
    account.refresh_from_db()
    assert account.status == PatientAccount.Status.PAYMENT_PLAN


def test_two_holds_at_once_show_the_most_restrictive_and_the_last_release_restores(medium, account):
    dispute = place(medium, account, Kind.DISPUTE)
    bankruptcy = place(medium, account, Kind.BANKRUPTCY)
    account.refresh_from_db()
    assert account.hold_reason == Kind.BANKRUPTCY
    assert bankruptcy.status_before == "active"
    services.hold_release(acting_user=medium, hold_id=bankruptcy.pk, reason="Case dismissed")
    account.refresh_from_db()
    assert (account.status, account.hold_reason) == ("hold", Kind.DISPUTE)
    assert paused(account)
    services.hold_release(acting_user=medium, hold_id=dispute.pk, reason="Dispute answered")
    account.refresh_from_db()
    assert (account.status, account.hold_reason) == ("active", "")


def test_only_one_active_hold_of_a_kind(medium, account):
    place(medium, account, Kind.DISPUTE)
    with pytest.raises(ApplicationError) as error:
        place(medium, account, Kind.DISPUTE)
    assert error.value.field == "kind"


def test_released_hold_cannot_be_released_again(medium, account):
    hold = place(medium, account, Kind.DISPUTE)
    services.hold_release(acting_user=medium, hold_id=hold.pk, reason="Answered")
    with pytest.raises(ApplicationError):
        services.hold_release(acting_user=medium, hold_id=hold.pk, reason="Again")


def test_closed_account_cannot_be_put_on_hold(medium, account):
    PatientAccount.objects.filter(pk=account.pk).update(status=PatientAccount.Status.CLOSED)
    with pytest.raises(ApplicationError):
        place(medium, account, Kind.DISPUTE)


@pytest.mark.parametrize(
    ("kind", "missing", "field"),
    [
        (Kind.LOP, "attorney_name", "attorney_name"),
        (Kind.PROBATE, "died_on", "died_on"),
        (Kind.BANKRUPTCY, "filed_on", "filed_on"),
        (Kind.BANKRUPTCY, "case_number", "case_number"),
        (Kind.DISPUTE, "dispute_kind", "dispute_kind"),
    ],
)
def test_each_kind_refuses_missing_details(medium, account, kind, missing, field):
    details = {name: value for name, value in KIND_DETAILS[kind].items() if name != missing}
    with pytest.raises(ApplicationError) as error:
        services.hold_place(acting_user=medium, account_id=account.pk, kind=kind, **details)
    assert error.value.field == field
    account.refresh_from_db()
    assert account.status == "active"
    assert not AccountHold.objects.exists()


def test_bankruptcy_chapter_must_be_7_11_or_13(medium, account):
    with pytest.raises(ApplicationError) as error:
        place(medium, account, Kind.BANKRUPTCY, bankruptcy_chapter=9)
    assert error.value.field == "bankruptcy_chapter"


def test_lop_review_date_follows_the_practice_interval(medium, account, practice):
    practice.lop_review_days = 60
    practice.save()
    hold = place(medium, account, Kind.LOP, placed_on=date(2025, 1, 10))
    assert hold.review_on == date(2025, 3, 11)
    assert hold.lop_status == "pending"


def test_lop_letter_must_be_a_pdf(medium, account, private_storage):
    with pytest.raises(ApplicationError) as error:
        place(medium, account, Kind.LOP, lop_letter=pdf("letter.pdf", b"MZ\x90\x00 not a pdf"))
    assert error.value.message == services.MESSAGE_LETTER_NOT_PDF
    with pytest.raises(ApplicationError):
        place(medium, account, Kind.LOP, lop_letter=pdf("letter.pdf", PDF, content_type="image/png"))
    assert not AccountHold.objects.exists()


def test_lop_letter_size_is_limited(medium, account, private_storage, settings):
    settings.LOP_LETTER_MAX_BYTES = 10
    with pytest.raises(ApplicationError) as error:
        place(medium, account, Kind.LOP, lop_letter=pdf())
    assert error.value.message == services.MESSAGE_LETTER_TOO_LARGE.format(limit="10 bytes")


def test_lop_letter_is_stored_privately(medium, account, private_storage):
    hold = place(medium, account, Kind.LOP, lop_letter=pdf())
    assert hold.lop_letter.name.startswith("lop/")
    assert (private_storage / hold.lop_letter.name).read_bytes() == PDF


def test_lop_status_check_moves_the_review_date_and_records_a_settlement(medium, account, practice):
    hold = place(medium, account, Kind.LOP, placed_on=date(2025, 1, 10))
    checked = services.lop_status_check(
        acting_user=medium, hold_id=hold.pk, status="pending", note="Still in discovery", checked_on=date(2025, 4, 1)
    )
    assert checked.status_checked_on == date(2025, 4, 1)
    assert checked.review_on == date(2025, 4, 1) + timedelta(days=practice.lop_review_days)
    assert "Still in discovery" in checked.notes
    with pytest.raises(ApplicationError) as error:
        services.lop_status_check(acting_user=medium, hold_id=hold.pk, status="settled")
    assert error.value.field == "settlement_amount"
    settled = services.lop_status_check(
        acting_user=medium, hold_id=hold.pk, status="settled", settlement_amount="1500.5"
    )
    assert str(settled.settlement_amount) == "1500.50"
    audit = AuditEvent.objects.filter(object_id=str(hold.pk), action="update").first()
    assert "Still in discovery" not in str(audit.detail)


def test_status_check_is_only_for_lop_holds(medium, account):
    hold = place(medium, account, Kind.DISPUTE)
    with pytest.raises(ApplicationError):
        services.lop_status_check(acting_user=medium, hold_id=hold.pk, status="pending")


def test_probate_hold_computes_the_claim_deadline_and_marks_the_patient_deceased(medium, account, practice):
    practice.state = "FL"
    practice.save()
    hold = place(medium, account, Kind.PROBATE, published_notice_on=date(2025, 7, 1))
    assert hold.claim_deadline_on == date(2025, 10, 1)  # Florida: 3 months after publication
    assert hold.review_on == date(2025, 9, 17)
    account.patient.refresh_from_db()
    assert account.patient.deceased_on == date(2025, 6, 1)
    marked = AuditEvent.objects.get(object_type="accounts.patient", detail__fields=["deceased_on"])
    assert marked.object_id == str(account.patient_id) and marked.detail["hold_id"] == hold.pk


def test_probate_without_notice_uses_the_bar_after_death(medium, account):
    hold = place(medium, account, Kind.PROBATE)
    assert hold.claim_deadline_on == date(2026, 6, 1)


def test_probate_keeps_a_deceased_date_already_recorded(medium, account):
    account.patient.deceased_on = date(2025, 5, 30)
    account.patient.save()
    place(medium, account, Kind.PROBATE)
    account.patient.refresh_from_db()
    assert account.patient.deceased_on == date(2025, 5, 30)


@pytest.mark.parametrize(
    ("published", "mailed", "expected"),
    [
        # California follows the UPC: 4 months after publication, 60 days after mailing, 1 year after death.
        (date(2025, 7, 1), date(2025, 10, 1), date(2025, 11, 30)),  # mailed late: 60 days after mailing wins
        (date(2025, 7, 1), date(2025, 7, 15), date(2025, 11, 1)),  # mailed early: 4 months after publication wins
        (date(2026, 3, 1), date(2026, 4, 15), date(2026, 6, 1)),  # both past the bar: 1 year after death
        (None, date(2025, 7, 1), date(2025, 8, 30)),  # mailed only
        (date(2025, 7, 1), None, date(2025, 11, 1)),  # published only
        (None, None, date(2026, 6, 1)),  # no notice: the bar
    ],
)
def test_probate_claim_deadline_from_the_published_and_mailed_notices(medium, account, published, mailed, expected):
    hold = place(medium, account, Kind.PROBATE, published_notice_on=published, mailed_notice_on=mailed)
    hold.refresh_from_db()
    assert (hold.published_notice_on, hold.mailed_notice_on) == (published, mailed)
    assert hold.claim_deadline_on == expected
    assert hold.review_on == expected - timedelta(days=services.PROBATE_REVIEW_DAYS_BEFORE_DEADLINE)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("published_notice_on", services.MESSAGE_PUBLISHED_NOTICE_BEFORE_DEATH),
        ("mailed_notice_on", services.MESSAGE_MAILED_NOTICE_BEFORE_DEATH),
    ],
)
def test_probate_notice_cannot_be_dated_before_the_death(medium, account, field, message):
    with pytest.raises(ApplicationError) as error:
        place(medium, account, Kind.PROBATE, **{field: date(2025, 5, 31)})
    assert (error.value.field, error.value.message) == (field, message)
    assert not AccountHold.objects.exists()
    account.refresh_from_db()
    assert account.status == "active"


def test_probate_notice_on_the_day_of_death_is_accepted(medium, account):
    hold = place(medium, account, Kind.PROBATE, published_notice_on=date(2025, 6, 1), mailed_notice_on=date(2025, 6, 1))
    assert hold.claim_deadline_on == date(2025, 10, 1)


def test_no_surprises_dispute_ends_120_days_after_it_is_received(medium, account):
    hold = place(medium, account, Kind.DISPUTE, dispute_kind="no_surprises", received_on=date(2025, 3, 1))
    assert hold.ends_on == date(2025, 6, 29)


def test_balance_dispute_has_no_end_date(medium, account):
    assert place(medium, account, Kind.DISPUTE).ends_on is None


def _run_expiry(as_of, practice):
    return hold_jobs.hold_expiry(JobContext(as_of=as_of, practice_dates={practice.pk: as_of}))


def test_nightly_expiry_returns_an_account_whose_plan_ended_during_the_hold_to_active(medium, account, practice):
    from payment_plans.services import plan_cancel

    plan = _running_plan(medium, account)
    place(medium, account, Kind.DISPUTE, dispute_kind="no_surprises", received_on=date(2025, 3, 1))
    plan_cancel(acting_user=medium, plan_id=plan.pk, note="Dispute")
    assert _run_expiry(date(2025, 6, 30), practice) == {"released": 1, "accounts_restored": 1}
    account.refresh_from_db()
    assert (account.status, account.hold_reason) == ("active", "")


def test_hold_expiry_job_is_registered():
    assert "hold_expiry" in {job.name for job in registered_jobs()}


def test_nightly_expiry_releases_ended_no_surprises_disputes_once(medium, account, practice):
    _running_plan(medium, account)
    hold = place(medium, account, Kind.DISPUTE, dispute_kind="no_surprises", received_on=date(2025, 3, 1))
    assert _run_expiry(date(2025, 6, 29), practice) == {"released": 0, "accounts_restored": 0}
    assert _run_expiry(date(2025, 6, 30), practice) == {"released": 1, "accounts_restored": 1}
    hold.refresh_from_db()
    account.refresh_from_db()
    assert hold.release_reason == services.DISPUTE_WINDOW_ENDED
    assert (account.status, account.hold_reason) == ("payment_plan", "")
    version = account.version
    assert _run_expiry(date(2025, 6, 30), practice) == {"released": 0, "accounts_restored": 0}
    account.refresh_from_db()
    assert account.version == version
    assert AuditEvent.objects.filter(object_id=str(hold.pk), detail__job="hold_expiry").count() == 1


def test_nightly_expiry_leaves_other_holds_in_place(medium, account, practice):
    place(medium, account, Kind.DISPUTE, dispute_kind="no_surprises", received_on=date(2025, 3, 1))
    place(medium, account, Kind.LOP)
    assert _run_expiry(date(2025, 7, 15), practice)["released"] == 1
    account.refresh_from_db()
    assert (account.status, account.hold_reason) == ("hold", Kind.LOP)


def test_nightly_expiry_uses_each_practice_date(medium, account, other_account, practice, other_practice):
    place(medium, account, Kind.DISPUTE, dispute_kind="no_surprises", received_on=date(2025, 3, 1))
    context = JobContext(as_of=date(2025, 7, 1), practice_dates={practice.pk: date(2025, 6, 29)})
    assert hold_jobs.hold_expiry(context)["released"] == 0


def test_balance_disputes_are_not_expired_by_the_job(medium, account, practice):
    place(medium, account, Kind.DISPUTE, received_on=date(2024, 1, 1))
    assert _run_expiry(timezone.localdate(), practice)["released"] == 0
