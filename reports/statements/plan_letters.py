"""Nightly: the payment plan letters as documents. The correspondence jobs decide and log tonight's
plan letters (collections_app.correspondence.jobs: a lapse notice in the contact log, a reminder
letter as a PlanReminder); this job, after them, produces each one as a Statement with its frozen
content and stored PDF, so the rep can open what the patient received. A plan set up tonight gets
its agreement the same way (the plan page's agreement PDF is drawn live; this is the copy sent).

Set-based per practice, on its own local date: one query per kind picks the accounts, one bulk
insert records the statements; the PDFs are then rendered one by one (a night has a handful).
Idempotent per (account, kind, date): a letter already produced for the date is not produced again.
Only where the one rule for mailing a patient allows (`mailable_q`); the correspondence jobs apply
it already, and it is applied again here because the account may have changed since.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import PatientAccount
from collections_app.correspondence.jobs import LAPSE_NOTICE_NOTE
from collections_app.correspondence.selectors import mailable_q
from collections_app.models import Contact
from core.access import FieldGroup
from core.audit import audit_job_changes
from core.models import AuditEvent
from core.nightly import JobContext, nightly_job
from payment_plans.jobs import practice_dates
from payment_plans.models import PaymentPlan, PlanReminder, PlanStatusChange
from reports.models import Statement
from reports.statements.documents import statement_contents
from reports.statements.services import statement_document_store

JOB = "plan_letters"
Kind = Statement.Kind


def _lapsed_accounts(practice_id: int, as_of) -> set[int]:
    """Accounts whose plan lapsed on the date and whose lapse notice was logged for that lapse."""
    noticed = Contact.objects.filter(
        account_id=OuterRef("plan__account_id"), notes=LAPSE_NOTICE_NOTE, occurred_at__gte=OuterRef("changed_at")
    )
    return set(
        PlanStatusChange.objects.filter(
            practice_id=practice_id,
            as_of=as_of,
            to_status=PaymentPlan.Status.LAPSED,
            reason=PlanStatusChange.Reason.INSTALLMENT_MISSED,
        )
        .filter(Exists(noticed))
        .values_list("plan__account_id", flat=True)
    )


def _reminded_accounts(practice_id: int, as_of) -> set[int]:
    """Accounts sent a reminder letter on the date (a text is no document)."""
    return set(
        PlanReminder.objects.filter(
            practice_id=practice_id, sent_on=as_of, channel=PlanReminder.Channel.LETTER
        ).values_list("plan__account_id", flat=True)
    )


def _agreement_accounts(practice_id: int, as_of) -> set[int]:
    """Accounts with a plan set up on the date: the agreement goes out to be signed."""
    return set(
        PlanStatusChange.objects.filter(
            practice_id=practice_id, as_of=as_of, reason=PlanStatusChange.Reason.CREATED
        ).values_list("plan__account_id", flat=True)
    )


SOURCES = (
    (Kind.PLAN_AGREEMENT, _agreement_accounts),
    (Kind.PLAN_LAPSE, _lapsed_accounts),
    (Kind.PLAN_REMINDER, _reminded_accounts),
)


def plan_letters_produce(*, practice_id: int, as_of, now=None) -> dict[str, int]:
    """Tonight's plan letters of one practice as statements with their documents."""
    now = now or timezone.now()
    wanted: list[tuple[str, int]] = []
    for kind, source in SOURCES:
        accounts = source(practice_id, as_of)
        if not accounts:
            continue
        done = Statement.objects.filter(account_id=OuterRef("pk"), kind=kind, statement_date=as_of, batch__isnull=True)
        mailable = (
            PatientAccount.objects.filter(pk__in=accounts, practice_id=practice_id)
            .filter(mailable_q())
            .filter(~Exists(done))
            .values_list("pk", flat=True)
        )
        wanted.extend((kind, account_id) for account_id in sorted(mailable))
    counts = {kind.value: 0 for kind, _ in SOURCES}
    if not wanted:
        return counts
    guarantors = dict(
        PatientAccount.objects.filter(pk__in={account_id for _, account_id in wanted}).values_list("pk", "guarantor_id")
    )
    with transaction.atomic():
        statements = Statement.objects.bulk_create(
            Statement(
                account_id=account_id,
                practice_id=practice_id,
                guarantor_id=guarantors[account_id],
                kind=kind,
                recipient=Statement.Recipient.GUARANTOR,
                channel=Statement.Channel.MAIL,
                statement_date=as_of,
                mailed_on=as_of,
                created_at=now,
            )
            for kind, account_id in wanted
        )
        Statement.covers.through.objects.bulk_create(
            Statement.covers.through(statement_id=statement.pk, patientaccount_id=statement.account_id)
            for statement in statements
        )
        for statement, content in zip(statements, statement_contents(statements), strict=True):
            statement.content = content
            statement.amount_due = _amount_due(statement.content, statement.amount_due)
        Statement.objects.bulk_update(statements, ["content", "amount_due"])
        audit_job_changes(
            job=JOB,
            object_type="reports.statement",
            changes=((s.pk, practice_id, {"account_id": s.account_id, "kind": s.kind}) for s in statements),
            occurred_at=now,
            field_group=FieldGroup.BILLING,
            action=AuditEvent.Action.CREATE,
        )
    for statement in statements:
        statement_document_store(statement)
        counts[statement.kind] += 1
    return counts


def _amount_due(content: dict, default):
    """What the letter asks for: a plan letter the plan's installment due (past-due installments
    and the next one, as its document says), any other the amount the document shows."""
    plan = content.get("plan") or {}
    try:
        return Decimal(str(plan.get("amount_due") or content.get("amount_due", default)))
    except (InvalidOperation, TypeError, ValueError):
        return default


@nightly_job(JOB, order=65, description="Payment plan letters produced: agreements, reminders, lapse notices")
def plan_letters(context: JobContext) -> dict[str, int]:
    dates = practice_dates(context)
    totals = {kind.value: 0 for kind, _ in SOURCES}
    for done, (practice_id, as_of) in enumerate(sorted(dates.items()), 1):
        for kind, count in plan_letters_produce(practice_id=practice_id, as_of=as_of).items():
            totals[kind] += count
        context.progress(done, len(dates))
    return totals
