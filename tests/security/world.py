"""One of every object a URL can name, in the personas' practice, and the walk over every URL.

The URL walk, the CSRF check, the odd-input corpus and the XSS check all start from `build_world`:
an account with a ledger (tests/conftest.py), its patient, an active payment plan, a Letter of
Protection hold, a returned letter, an open inquiry, a queue entry, a rep assignment, a job run and
an API token, all in the practice of `low`, `medium` and `manager` ("north"). The outsider works
another practice ("south"), so every one of these objects is outside its scope.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.selectors import practice_today
from collections_app.agencies import services as agencies
from collections_app.correspondence import services as correspondence
from collections_app.holds import services as holds
from collections_app.models import Agency, Contact, JobRun, QueueEntry, WorkItem
from collections_app.queues import services as queues
from core.services import api_token_issue
from payment_plans import services as plans
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory, minimal_pdf
from writeoffs import services as writeoffs
from writeoffs.models import SmallBalanceRun

PERSONAS = ("anon", "low", "medium", "manager", "director", "outsider")


@dataclass
class World:
    practice: object
    other_practice: object
    account: object
    patient: object
    plan: object
    hold: object
    mail: object
    inquiry: object
    assignment: object
    job_run: object
    token: object
    rep: object
    users: dict
    spare_account: object  # same practice, a balance, no plan or hold: the set-up forms show
    writeoff: object = None  # a write-off the rep proposed, waiting for approval
    small_balance_run: object = None  # a night's small-balance preview waiting for a manager
    agency: object = None  # the practice's default collection agency
    placement: object = None  # an account placed with it, in `batch`, with its placement file
    batch: object = None
    agency_file: object = None
    transaction: object = None  # the first row of `account`'s ledger (a charge)
    # On the placed account, so the form tests' counts on `account` stay theirs:
    promise: object = None  # a promise to pay, already kept (nothing follows from it)
    contact: object = None  # a call logged
    statement: object = None  # a mailed statement of `account` with its stored PDF
    statement_batch: object = None  # a printed cycle batch holding `statement`, with its print file
    import_upload: object = None  # an 835 the manager uploaded at /imports/, imported, with its report
    unmatched: object = None  # a remittance claim on the review list, waiting


def build_world(*, account, personas, practice, other_practice) -> World:
    medium, manager = personas["medium"], personas["manager"]
    today = practice_today(practice)
    plan = plans.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)
    letter = SimpleUploadedFile("letter.pdf", minimal_pdf(), content_type="application/pdf")
    hold = holds.hold_place(
        acting_user=medium, account_id=account.pk, kind="lop", attorney_name="Sam Counsel", lop_letter=letter
    )
    mail = correspondence.returned_mail_record(
        acting_user=medium, account_id=account.pk, received_on=today - timedelta(days=1), reason="moved"
    )
    inquiry = correspondence.inquiry_open(
        acting_user=medium, account_id=account.pk, channel="phone", question="Why this balance?"
    )
    WorkItem.objects.get_or_create(
        account=account, practice=practice, reason=WorkItem.Reason.PAST_DUE, defaults={"opened_on": today}
    )
    QueueEntry.objects.update_or_create(
        account=account,
        defaults={
            "practice": practice,
            "score": 50,
            "top_reason": WorkItem.Reason.PAST_DUE,
            "reasons": [WorkItem.Reason.PAST_DUE],
            "oldest_item_on": today,
        },
    )
    assignment = queues.rep_assignment_create(
        acting_user=manager, rep_id=medium.pk, practice_id=practice.pk, bucket="all"
    )
    now = timezone.now()
    job_run = JobRun.objects.create(
        job="security-walk", as_of=today, status=JobRun.Status.SUCCEEDED, started_at=now, finished_at=now
    )
    token, _ = api_token_issue(user=medium, name="security-walk")
    spare = PatientAccountFactory(practice=practice, account_number="N0005678")
    post_visit(spare, days_ago=60, charge="150.00", to_patient="150.00")
    spare.refresh_from_db()
    writeoff = writeoffs.writeoff_propose(
        acting_user=medium, account_id=spare.pk, amount="40.00", reason="bad_debt", note="No response."
    )
    small_balance_run = SmallBalanceRun.objects.create(practice=practice, run_on=today)
    agency, placement = _placed_with_agency(practice, manager)
    statement = _mailed_statement(account, today)
    statement_batch = _printed_batch(statement, today)
    return World(
        practice=practice,
        other_practice=other_practice,
        account=account,
        patient=account.patient,
        plan=plan,
        hold=hold,
        mail=mail,
        inquiry=inquiry,
        assignment=assignment,
        job_run=job_run,
        token=token,
        rep=medium,
        users={"anon": None, **personas},
        spare_account=spare,
        writeoff=writeoff,
        small_balance_run=small_balance_run,
        agency=agency,
        placement=placement,
        batch=placement.batch,
        agency_file=placement.batch.file,
        statement=statement,
        statement_batch=statement_batch,
        transaction=account.transactions.order_by("id").first(),
        promise=_kept_promise(placement.account, medium, today),
        contact=_logged_call(placement.account, medium),
        import_upload=_uploaded_import(practice, manager),
        unmatched=waiting_unmatched_claim(practice, today),
    )


def _uploaded_import(practice, manager):
    """An uploaded 835, done, its report a summary with one unmatched claim and one reject."""
    from imports.batches import Summary
    from imports.models import ImportUpload

    summary = Summary(files=1, claims=2)
    summary.unmatched_claims.append(
        {"file": "era.835", "segment": 9, "patient_control_number": "G01", "paid": "10.00", "new": True}
    )
    summary.reject("era.835", "does not balance", segment=20)
    return ImportUpload.objects.create(
        practice=practice,
        kind=ImportUpload.Kind.X12_835,
        file_name="era.835",
        file="imports/world.835",
        uploaded_by=manager,
        status=ImportUpload.Status.DONE,
        summary=summary.to_json(),
    )


def waiting_unmatched_claim(practice, today, *, trace="EFT1"):
    """A remittance claim that matched no claim of the practice, waiting on the review list."""
    from imports.models import ImportBatch, Remittance, UnmatchedClaim

    batch = ImportBatch.objects.create(
        practice=practice, kind=ImportBatch.Kind.X12_835, file_name="era.835", sha256=trace.ljust(64, "0")
    )
    remittance = Remittance.objects.create(
        practice=practice, batch=batch, payer_key="AETNA", trace_number=trace, payment_amount="10.00", paid_on=today
    )
    return UnmatchedClaim.objects.create(
        practice=practice,
        remittance=remittance,
        position=9,
        patient_control_number="G01",
        claim_status="1",
        charge_amount="20.00",
        paid_amount="10.00",
        patient_responsibility="0.00",
        adjustments={"CO": "10.00"},
    )


def _kept_promise(account, medium, today):
    from collections_app.models import PromiseToPay

    return PromiseToPay.objects.create(
        account=account,
        practice=account.practice,
        amount="20.00",
        promised_on=today - timedelta(days=10),
        due_on=today - timedelta(days=3),
        status=PromiseToPay.Status.KEPT,
        resolved_on=today - timedelta(days=3),
        created_by=medium,
    )


def _logged_call(account, medium):
    return Contact.objects.create(
        account=account,
        practice=account.practice,
        channel=Contact.Channel.OUTBOUND_CALL,
        party=Contact.Party.PATIENT,
        outcome=Contact.Outcome.LEFT_MESSAGE,
        occurred_at=timezone.now() - timedelta(days=2),
        logged_by=medium,
    )


def _mailed_statement(account, today):
    """A statement as the cycle records it, with a stored one-page PDF (the download serves it)."""
    from django.core.files.base import ContentFile

    from reports.models import Statement

    statement = Statement.objects.create(
        account=account,
        practice=account.practice,
        guarantor=account.guarantor,
        kind=Statement.Kind.STATEMENT,
        statement_date=today,
        amount_due=account.patient_balance,
        mailed_on=today,
    )
    statement.covers.add(account)
    statement.document.save(f"statement-{statement.pk}.pdf", ContentFile(minimal_pdf()), save=False)
    statement.page_count = 1
    statement.save(update_fields=["document", "page_count"])
    return statement


def _printed_batch(statement, today):
    """The statement cycle's batch for `statement`, printed, with its merged print file."""
    from django.core.files.base import ContentFile

    from reports.models import StatementBatch

    batch = StatementBatch.objects.create(
        practice=statement.practice,
        run_on=today,
        status=StatementBatch.Status.DONE,
        statement_count=1,
        total_amount=statement.amount_due,
        suppressed={"On hold": 1},
        chunk_count=1,
        chunks_done=1,
        page_count=1,
    )
    batch.print_file.save(f"batch-{batch.pk}.pdf", ContentFile(minimal_pdf()), save=True)
    type(statement).objects.filter(pk=statement.pk).update(batch=batch)
    return batch


def _placed_with_agency(practice, manager):
    """An agency, and an account its final notice made ready, placed with it by the manager."""
    agency = Agency.objects.create(practice=practice, name="Keystone Recovery", is_default=True, commission_rate=25)
    placed = PatientAccountFactory(practice=practice, account_number="N0009876")
    post_visit(placed, days_ago=400, charge="700.00", to_patient="700.00")
    Contact.objects.create(
        account=placed,
        practice=practice,
        channel=Contact.Channel.LETTER,
        party=Contact.Party.PATIENT,
        outcome=Contact.Outcome.FINAL_NOTICE_SENT,
        occurred_at=timezone.now() - timedelta(days=45),
    )
    preview = agencies.placement_preview(acting_user=manager, account_ids=[placed.pk])
    [batch] = agencies.placement_place(acting_user=manager, account_ids=[placed.pk], fingerprint=preview.fingerprint)
    return agency, batch.placements.get()


# --- the URLs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL's name, or its route when it has none
    route: str
    name: str | None
    callback: object
    params: tuple[str, ...]


def walk_routes(patterns=None, prefix: str = ""):
    """Every URL pattern under the root resolver, includes followed (the API under /api/ too). The
    admin site is one entry ("admin"): its own patterns are walked by `admin_routes`."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if getattr(entry, "namespace", None) == "admin":
                continue
            yield from walk_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            yield Route(
                key=entry.name or route,
                route=route,
                name=entry.name,
                callback=entry.callback,
                params=tuple(entry.pattern.converters),
            )


def all_routes() -> dict[str, Route]:
    routes = {}
    for route in walk_routes():
        assert route.key not in routes, f"two URL patterns named {route.key!r}"
        routes[route.key] = route
    return routes


# Which object a path parameter names: by parameter, and for `pk` by URL (an account unless listed).
PARAMETER_OBJECTS = {"hold_pk": "hold", "mail_pk": "mail", "inquiry_pk": "inquiry", "rep_id": "rep"}
PK_OBJECTS = {
    "patient-edit": "patient",
    "plan-detail": "plan",
    "plan-agreement": "plan",
    "plan-activate": "plan",
    "plan-cancel": "plan",
    "plan-modify": "plan",
    "hold-letter": "hold",
    "queue-assignment-delete": "assignment",
    "jobs-run-progress": "job_run",
    "api-job-run": "job_run",
    "api-token-revoke": "token",
    "api-practice-detail": "practice",
    "api-patient-detail": "patient",
    "api-patient-address": "patient",
    "api-hold-release": "hold",
    "api-hold-status-check": "hold",
    "api-returned-mail-resolve": "mail",
    "api-inquiry-respond": "inquiry",
    "api-plan-detail": "plan",
    "api-plan-activate": "plan",
    "api-plan-cancel": "plan",
    "api-plan-modify": "plan",
    "writeoff-detail": "writeoff",
    "writeoff-approve": "writeoff",
    "writeoff-deny": "writeoff",
    "writeoff-reverse": "writeoff",
    "small-balance-run-approve": "small_balance_run",
    "small-balance-run-discard": "small_balance_run",
    "api-writeoff-detail": "writeoff",
    "api-writeoff-approve": "writeoff",
    "api-writeoff-deny": "writeoff",
    "api-writeoff-reverse": "writeoff",
    "agency-batch-detail": "batch",
    "agency-recall-file": "agency",
    "agency-direct-payments-file": "agency",
    "agency-file-download": "agency_file",
    "agency-edit": "agency",
    "agency-active": "agency",
    "api-agency-detail": "agency",
    "api-placement-recall": "placement",
    "api-agency-file": "agency_file",
    "statement-pdf": "statement",
    "api-statement-pdf": "statement",
    "api-placement-detail": "placement",
    "api-transaction-detail": "transaction",
    "api-transaction-reverse": "transaction",
    "api-promise-detail": "promise",
    "api-contact-detail": "contact",
    "api-hold-detail": "hold",
    "api-statement-batch-detail": "statement_batch",
    "api-placement-batch-detail": "batch",
    "api-statement-detail": "statement",
    "api-small-balance-run": "small_balance_run",
    "api-small-balance-run-approve": "small_balance_run",
    "api-small-balance-run-discard": "small_balance_run",
    "statement-batch-detail": "statement_batch",
    "statement-batch-print-file": "statement_batch",
    "statement-batch-progress": "statement_batch",
    "statement-batch-retry": "statement_batch",
    "import-upload-detail": "import_upload",
    "import-upload-progress": "import_upload",
    "api-import-detail": "import_upload",
    "import-unmatched-resolve": "unmatched",
    "api-import-unmatched-detail": "unmatched",
    "api-import-unmatched-resolve": "unmatched",
}


# Path parameters that name no object but a fixed thing: the value walked (every report's slug is
# walked by tests/reports/test_report_access.py).
PARAMETER_VALUES = {"slug": "aging", "kind": "balances"}


def path_for(route: Route, world: World) -> str:
    kwargs = {}
    for parameter in route.params:
        if parameter in PARAMETER_VALUES:
            kwargs[parameter] = PARAMETER_VALUES[parameter]
            continue
        kind = PK_OBJECTS.get(route.key, "account") if parameter == "pk" else PARAMETER_OBJECTS[parameter]
        kwargs[parameter] = getattr(world, kind).pk
    if route.name:
        return reverse(route.name, kwargs=kwargs)
    assert not kwargs, route
    return "/" + route.route


def isolated(client, method: str, path: str, **extra):
    """One request whose writes are rolled back (a savepoint) and whose session survives it (a
    POST to logout/ ends it), so every request of a walk meets the same world."""
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    with transaction.atomic():
        response = getattr(client, method)(path, **extra)
        transaction.set_rollback(True)
    for name, value in cookies.items():
        client.cookies[name] = value
    return response
