"""Returned mail and address correction; billing inquiries and their responses.

Returned mail marks the address it came back from bad (the patient's, or a guarantor's own when the
letter went to a parent or spouse living elsewhere: correspondence.addresses.returned_to), which
stops mailings to that address (statements and letters skip a bad address) and opens a research
item in the queue. A corrected address clears that record's flag and resolves its research (the
patient's old address stays in the history); "unable to locate" resolves the research and leaves
the address bad.
"""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AddressHistory, Guarantor, Patient, PatientAccount
from accounts.selectors import account_practice_today
from accounts.services import account_lock, patient_update_demographics
from accounts.validators import refuse_card_numbers
from collections_app.correspondence.addresses import GUARANTOR, returned_to
from collections_app.correspondence.business_days import add_business_days
from collections_app.models import BillingInquiry, ReturnedMail
from collections_app.queues.services import queue_refresh_account
from core.access import FieldGroup
from core.audit import audit_record
from core.errors import ApplicationError
from core.models import AuditEvent

MESSAGE_BAD_REASON = "Choose why the mail came back."
MESSAGE_RECEIVED_IN_FUTURE = "The date received cannot be in the future."
MESSAGE_BAD_RESOLUTION = "Choose how the returned mail was resolved."
MESSAGE_CORRECT_WITH_ADDRESS = "Enter the corrected address to resolve returned mail as corrected."
MESSAGE_ALREADY_RESOLVED = "This returned mail has already been resolved."
MESSAGE_ADDRESS_REQUIRED = "Enter the {label}."
MESSAGE_BAD_STATE = "Enter the two-letter state."
MESSAGE_BAD_POSTAL_CODE = "Enter a 5-digit ZIP code or ZIP+4."
MESSAGE_SAME_ADDRESS = "That is the address on file. If it is right, resolve the returned mail as confirmed."
MESSAGE_BAD_RECIPIENT = "Choose whose address the mail was sent to."
MESSAGE_SELF_GUARANTOR_ADDRESS = "This guarantor is the patient: correct the patient's address."
MESSAGE_STALE = "Someone else changed this patient while you were editing. Reload and try again."
MESSAGE_BAD_CHANNEL = "Choose how the inquiry came in."
MESSAGE_NEEDS_QUESTION = "Enter the patient's question."
MESSAGE_NEEDS_RESPONSE = "Enter the response given."
MESSAGE_ALREADY_ANSWERED = "This inquiry has already been answered."
MESSAGE_RESPONDED_BEFORE_RECEIVED = "The response date cannot be before the inquiry was received."

POSTAL_CODE = re.compile(r"^\d{5}(-?\d{4})?$")
ADDRESS_LABELS = {"address_line1": "street address", "city": "city", "state": "state", "postal_code": "ZIP code"}


def _user_or_none(user):
    return user if getattr(user, "is_authenticated", False) else None


def _accounts_of(returned_mail_rows) -> list[int]:
    return sorted({row.account_id for row in returned_mail_rows})


@transaction.atomic
def returned_mail_record(
    *, acting_user, account_id: int, received_on: date, reason: str, recipient: str | None = None
) -> ReturnedMail:
    """Mail came back: mark the address it went to bad (mailings there stop) and open a research
    item. `recipient` is who the letter was addressed to ("patient" or "guarantor"; None: whoever
    the account's statements go to); the address marked is the one that letter used
    (correspondence.addresses.returned_to): a guarantor's own, or the patient's."""
    if reason not in ReturnedMail.Reason.values:
        raise ApplicationError(MESSAGE_BAD_REASON, field="reason")
    if recipient not in (None, "", *ReturnedMail.Recipient.values):
        raise ApplicationError(MESSAGE_BAD_RECIPIENT, field="recipient")
    # Account, then patient, then guarantor, as everywhere (the corrections lock accounts first).
    account = account_lock(account_id=account_id)
    if received_on > account_practice_today(account):
        raise ApplicationError(MESSAGE_RECEIVED_IN_FUTURE, field="received_on")
    patient = Patient.objects.select_for_update().get(pk=account.patient_id)
    guarantor = Guarantor.objects.select_for_update().get(pk=account.guarantor_id)
    account.patient, account.guarantor = patient, guarantor
    to_guarantor = returned_to(account, recipient=recipient or None) == GUARANTOR
    row = ReturnedMail.objects.create(
        account=account,
        practice_id=account.practice_id,
        patient=patient,
        recipient=ReturnedMail.Recipient.GUARANTOR if to_guarantor else ReturnedMail.Recipient.PATIENT,
        guarantor=guarantor if to_guarantor else None,
        received_on=received_on,
        reason=reason,
        recorded_by=_user_or_none(acting_user),
    )
    holder = guarantor if to_guarantor else patient
    if not holder.address_is_bad:
        holder.address_is_bad = True
        holder.save(update_fields=["address_is_bad"] if to_guarantor else ["address_is_bad", "updated_at"])
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=holder,
            field_group=FieldGroup.DEMOGRAPHICS,
            detail={"fields": ["address_is_bad"], "returned_mail_id": row.pk},
        )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=row,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "patient_id": patient.pk, "reason": reason, "recipient": row.recipient},
    )
    queue_refresh_account(account_id=account.pk)
    return row


def _open_for(*, patient_id: int | None = None, guarantor_id: int | None = None):
    """Open returned mail for one address record: the patient's, or a guarantor's own."""
    if guarantor_id is not None:
        return ReturnedMail.objects.filter(
            guarantor_id=guarantor_id, recipient=ReturnedMail.Recipient.GUARANTOR, resolved_at__isnull=True
        )
    return ReturnedMail.objects.filter(
        patient_id=patient_id, recipient=ReturnedMail.Recipient.PATIENT, resolved_at__isnull=True
    )


def _resolve_open(
    *, acting_user, resolution: str, now, patient: Patient | None = None, guarantor: Guarantor | None = None
) -> list[ReturnedMail]:
    open_for = _open_for(guarantor_id=guarantor.pk) if guarantor is not None else _open_for(patient_id=patient.pk)
    open_rows = list(open_for.select_for_update())
    if open_rows:
        ReturnedMail.objects.filter(pk__in=[row.pk for row in open_rows]).update(
            resolved_at=now, resolved_by=_user_or_none(acting_user), resolution=resolution
        )
        for row in open_rows:
            audit_record(
                user=acting_user,
                action=AuditEvent.Action.UPDATE,
                obj=row,
                field_group=FieldGroup.BILLING,
                detail={
                    "account_id": row.account_id,
                    "fields": ["resolution", "resolved_at"],
                    "resolution": resolution,
                },
            )
    return open_rows


def _clean_address(fields: dict) -> dict:
    cleaned = {name: (fields.get(name) or "").strip() for name in Patient.ADDRESS_FIELDS}
    for name, label in ADDRESS_LABELS.items():
        if not cleaned[name]:
            raise ApplicationError(MESSAGE_ADDRESS_REQUIRED.format(label=label), field=name)
    cleaned["state"] = cleaned["state"].upper()
    if not re.fullmatch(r"[A-Z]{2}", cleaned["state"]):
        raise ApplicationError(MESSAGE_BAD_STATE, field="state")
    if not POSTAL_CODE.match(cleaned["postal_code"]):
        raise ApplicationError(MESSAGE_BAD_POSTAL_CODE, field="postal_code")
    for name, value in cleaned.items():
        refuse_card_numbers(name, value)
    return cleaned


@transaction.atomic
def address_correct(
    *,
    acting_user,
    patient_id: int,
    address_line1: str,
    city: str,
    state: str,
    postal_code: str,
    address_line2: str = "",
    expected_updated_at=None,
) -> Patient:
    """Correct a bad address: the old one stays in the history marked bad, the new one is written,
    mailings resume and the open returned-mail research is resolved as corrected."""
    new_address = _clean_address(
        {
            "address_line1": address_line1,
            "address_line2": address_line2,
            "city": city,
            "state": state,
            "postal_code": postal_code,
        }
    )
    # Every account of the patient shows the address: each is locked and marked changed, in id
    # order and before the patient row, the order returned_mail_record takes them in.
    for account_id in PatientAccount.objects.filter(patient_id=patient_id).order_by("pk").values_list("pk", flat=True):
        account_lock(account_id=account_id)
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    if expected_updated_at is not None and patient.updated_at != expected_updated_at:
        raise ApplicationError(MESSAGE_STALE)
    if all(getattr(patient, name) == value for name, value in new_address.items()):
        raise ApplicationError(MESSAGE_SAME_ADDRESS, field="address_line1")
    now = timezone.now()
    latest_return = _open_for(patient_id=patient.pk).order_by("-received_on", "-pk").first()
    was_bad = patient.address_is_bad
    reason = "Address on file"
    if was_bad:
        reason = "Returned mail" + (f": {latest_return.get_reason_display()}" if latest_return else "")
    # The address being replaced, as it was: history keeps every address, bad ones marked so.
    AddressHistory.objects.create(
        patient=patient,
        recorded_at=now if patient.address_history.exists() else patient.created_at,
        recorded_by=_user_or_none(acting_user),
        reason=reason,
        was_bad=was_bad,
        **{name: getattr(patient, name) for name in Patient.ADDRESS_FIELDS},
    )
    # The new address: written, history row added, bad-address flag cleared, audited (demographics).
    try:
        patient = patient_update_demographics(acting_user=acting_user, patient_id=patient.pk, **new_address)
    except ValidationError as error:
        field, messages = (
            next(iter(error.message_dict.items())) if hasattr(error, "error_dict") else (None, error.messages)
        )
        raise ApplicationError(messages[0], field=field) from None
    _self_guarantors_follow(acting_user=acting_user, patient=patient, address=new_address)
    resolved = _resolve_open(
        acting_user=acting_user, patient=patient, resolution=ReturnedMail.Resolution.ADDRESS_CORRECTED, now=now
    )
    for account_id in _accounts_of(resolved) or list(patient.accounts.values_list("pk", flat=True)):
        queue_refresh_account(account_id=account_id)
    return patient


def _self_guarantors_follow(*, acting_user, patient: Patient, address: dict) -> None:
    """A patient who is their own guarantor gets statements at the same address: the guarantor
    record moves with the patient's, or the next statement goes back to the returned address."""
    of_patient = Q(patient_id=patient.pk) | Q(pk__in=patient.accounts.values("guarantor_id"))
    guarantors = list(
        Guarantor.objects.select_for_update().filter(of_patient, relationship=Guarantor.Relationship.SELF)
    )
    for guarantor in guarantors:
        changed = [name for name, value in address.items() if getattr(guarantor, name) != value]
        if not changed:
            continue
        Guarantor.objects.filter(pk=guarantor.pk).update(**address)
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=guarantor,
            field_group=FieldGroup.DEMOGRAPHICS,
            detail={"fields": changed, "reason": "patient_address_corrected", "patient_id": patient.pk},
        )


@transaction.atomic
def guarantor_address_correct(
    *,
    acting_user,
    guarantor_id: int,
    address_line1: str,
    city: str,
    state: str,
    postal_code: str,
    address_line2: str = "",
) -> Guarantor:
    """Correct the address of a guarantor who is not the patient (a parent, a spouse), mailed at
    their own address: the new one is written, the bad-address flag cleared, the open returned-mail
    research for that address resolved as corrected, audited (the fields, not the values). A "self"
    guarantor's address is the patient's: correct the patient's (address_correct)."""
    new_address = _clean_address(
        {
            "address_line1": address_line1,
            "address_line2": address_line2,
            "city": city,
            "state": state,
            "postal_code": postal_code,
        }
    )
    # Every account the guarantor answers for, in id order, before the guarantor row.
    answers_for = PatientAccount.objects.filter(guarantor_id=guarantor_id).order_by("pk")
    for account_id in answers_for.values_list("pk", flat=True):
        account_lock(account_id=account_id)
    guarantor = Guarantor.objects.select_for_update().get(pk=guarantor_id)
    if guarantor.relationship == Guarantor.Relationship.SELF:
        raise ApplicationError(MESSAGE_SELF_GUARANTOR_ADDRESS)
    if all(getattr(guarantor, name) == value for name, value in new_address.items()):
        raise ApplicationError(MESSAGE_SAME_ADDRESS, field="address_line1")
    changed = [name for name, value in new_address.items() if getattr(guarantor, name) != value]
    was_bad = guarantor.address_is_bad
    for name, value in new_address.items():
        setattr(guarantor, name, value)
    guarantor.address_is_bad = False
    guarantor.save(update_fields=[*new_address, "address_is_bad"])
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=guarantor,
        field_group=FieldGroup.DEMOGRAPHICS,
        detail={"fields": sorted([*changed, *(["address_is_bad"] if was_bad else [])]), "reason": "address_corrected"},
    )
    corrected = ReturnedMail.Resolution.ADDRESS_CORRECTED
    resolved = _resolve_open(acting_user=acting_user, guarantor=guarantor, resolution=corrected, now=timezone.now())
    accounts = _accounts_of(resolved) or list(answers_for.values_list("pk", flat=True))
    for account_id in accounts:
        queue_refresh_account(account_id=account_id)
    return guarantor


@transaction.atomic
def returned_mail_resolve(*, acting_user, returned_mail_id: int, resolution: str) -> ReturnedMail:
    """Close the research without a new address: confirmed good (mailings resume) or unable to
    locate (the address stays bad, mailings stay stopped)."""
    if resolution == ReturnedMail.Resolution.ADDRESS_CORRECTED:
        raise ApplicationError(MESSAGE_CORRECT_WITH_ADDRESS, field="resolution")
    if resolution not in ReturnedMail.Resolution.values:
        raise ApplicationError(MESSAGE_BAD_RESOLUTION, field="resolution")
    patient_id, guarantor_id = ReturnedMail.objects.values_list("patient_id", "guarantor_id").get(pk=returned_mail_id)
    # The address record the mail came back from: a guarantor's own, or the patient's.
    if guarantor_id is not None:
        holder = Guarantor.objects.select_for_update().get(pk=guarantor_id)
        holder_fields = ["address_is_bad"]
    else:
        holder = Patient.objects.select_for_update().get(pk=patient_id)
        holder_fields = ["address_is_bad", "updated_at"]
    row = ReturnedMail.objects.get(pk=returned_mail_id)
    if row.resolved_at is not None:
        raise ApplicationError(MESSAGE_ALREADY_RESOLVED)
    now = timezone.now()
    if guarantor_id is not None:
        resolved = _resolve_open(acting_user=acting_user, guarantor=holder, resolution=resolution, now=now)
    else:
        resolved = _resolve_open(acting_user=acting_user, patient=holder, resolution=resolution, now=now)
    if resolution == ReturnedMail.Resolution.ADDRESS_CONFIRMED and holder.address_is_bad:
        holder.address_is_bad = False
        holder.save(update_fields=holder_fields)
        audit_record(
            user=acting_user,
            action=AuditEvent.Action.UPDATE,
            obj=holder,
            field_group=FieldGroup.DEMOGRAPHICS,
            detail={"fields": ["address_is_bad"], "returned_mail_id": row.pk},
        )
    for account_id in _accounts_of(resolved):
        queue_refresh_account(account_id=account_id)
    row.refresh_from_db()
    return row


@transaction.atomic
def inquiry_open(
    *, acting_user, account_id: int, channel: str, question: str, received_on: date | None = None
) -> BillingInquiry:
    """Log a billing question; the response is due after the practice's number of business days."""
    if channel not in BillingInquiry.Channel.values:
        raise ApplicationError(MESSAGE_BAD_CHANNEL, field="channel")
    question = (question or "").strip()
    if not question:
        raise ApplicationError(MESSAGE_NEEDS_QUESTION, field="question")
    refuse_card_numbers("question", question)
    account = account_lock(account_id=account_id)
    today = account_practice_today(account)
    received_on = received_on or today
    if received_on > today:
        raise ApplicationError(MESSAGE_RECEIVED_IN_FUTURE, field="received_on")
    inquiry = BillingInquiry.objects.create(
        account=account,
        practice_id=account.practice_id,
        channel=channel,
        question=question,
        received_on=received_on,
        response_due_on=add_business_days(received_on, account.practice.inquiry_response_business_days),
        created_by=_user_or_none(acting_user),
    )
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.CREATE,
        obj=inquiry,
        field_group=FieldGroup.BILLING,
        detail={"account_id": account.pk, "channel": channel, "response_due_on": inquiry.response_due_on.isoformat()},
    )
    queue_refresh_account(account_id=account.pk)
    return inquiry


@transaction.atomic
def inquiry_respond(*, acting_user, inquiry_id: int, response: str, responded_on: date | None = None) -> BillingInquiry:
    response = (response or "").strip()
    if not response:
        raise ApplicationError(MESSAGE_NEEDS_RESPONSE, field="response")
    refuse_card_numbers("response", response)
    account_id = BillingInquiry.objects.values_list("account_id", flat=True).get(pk=inquiry_id)
    account = account_lock(account_id=account_id)
    inquiry = BillingInquiry.objects.get(pk=inquiry_id)
    if inquiry.responded_on is not None:
        raise ApplicationError(MESSAGE_ALREADY_ANSWERED)
    responded_on = responded_on or account_practice_today(account)
    if responded_on < inquiry.received_on:
        raise ApplicationError(MESSAGE_RESPONDED_BEFORE_RECEIVED, field="responded_on")
    inquiry.response = response
    inquiry.responded_on = responded_on
    inquiry.responded_by = _user_or_none(acting_user)
    inquiry.save(update_fields=["response", "responded_on", "responded_by"])
    audit_record(
        user=acting_user,
        action=AuditEvent.Action.UPDATE,
        obj=inquiry,
        field_group=FieldGroup.BILLING,
        detail={
            "account_id": account.pk,
            "fields": ["response", "responded_on"],
            "late": responded_on > inquiry.response_due_on,
        },
    )
    queue_refresh_account(account_id=account.pk)
    return inquiry
