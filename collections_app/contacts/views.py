"""The account page's contact and payment panel, and the htmx actions it posts to.

Each action view: load the account through the access policy, parse its form, call one service,
re-render the panel (errors beside their fields, a short success note) and, on success, send
`HX-Trigger: account-changed` so the workspace re-fetches the timeline. Without htmx it redirects
to the account page with the outcome as a message.
"""

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import account_get
from collections_app.contacts import services
from collections_app.contacts.compliance import (
    ATTORNEY_REPRESENTED,
    active_hold_kinds,
    channel_decisions,
    contact_decision,
    patient_time_zone,
)
from collections_app.contacts.forms import (
    ConsentForm,
    ConsentRevokeForm,
    ContactLogForm,
    FlagsForm,
    FollowUpForm,
    NoteForm,
    PaymentForm,
)
from collections_app.contacts.selectors import PANEL_RECENT_CONTACTS, consent_list, contact_list, open_promises
from collections_app.models import Contact
from core.access import FieldGroup, can_see, requires
from core.audit import audit_read
from core.panels import panel_action

PANEL_KEY = "contacts"
MESSAGE_PAYMENT_REPLAYED = "This payment was already posted (the form was sent twice): it is on the ledger once."
MESSAGE_CONTACT_REPLAYED = "This contact was already logged (the form was sent twice): it is in the log once."
PANEL_TEMPLATE = "collections_app/contacts/_panel.html"

FORMS = {
    "contact_form": ContactLogForm,
    "payment_form": PaymentForm,
    "follow_up_form": FollowUpForm,
    "note_form": NoteForm,
    "consent_form": ConsentForm,
    "revoke_form": ConsentRevokeForm,
}


def _decision_context(account, decision) -> dict:
    tz = patient_time_zone(account)
    next_at = decision.next_allowed_at.astimezone(tz) if decision.next_allowed_at else None
    return {
        "allowed": decision.allowed,
        "reasons": decision.reasons,
        "next_allowed_at": next_at,
        "time_zone": tz.key,
    }


def panel_context(request, account, *, bound: dict | None = None, flash: str = "") -> dict:
    """The panel's own context: the governor's answer for a call to the patient now, the forms,
    open promises, consents and the latest contacts."""
    now = timezone.now()
    bound = bound or {}
    holds = active_hold_kinds(account)
    patient_call = contact_decision(
        account=account, channel=Contact.Channel.OUTBOUND_CALL, party=Contact.Party.PATIENT, at=now, active_holds=holds
    )
    # Beside the call: text, email and letter, each with its own answer (a channel can be refused for
    # want of a consent or an address while the call is allowed, or the other way round).
    # A reason the call already gave (a bankruptcy, a cease request) is said once, above.
    call_codes = set(patient_call.codes)
    other_channels = []
    for label, decision in channel_decisions(account=account, party=Contact.Party.PATIENT, at=now, active_holds=holds):
        answer = {"channel": label, **_decision_context(account, decision)}
        answer["own_reasons"] = [reason for reason in decision.reasons if reason.code not in call_codes]
        other_channels.append(answer)
    # Represented (flag or active Letter of Protection) exactly when the governor says so.
    represented = ATTORNEY_REPRESENTED in patient_call.codes
    context = {
        "contact_call_decision": _decision_context(account, patient_call),
        "contact_channel_decisions": other_channels,
        "contact_represented": represented,
        "contact_open_promises": list(open_promises(account=account)),
        "contact_consents": list(consent_list(account=account)),
        "contact_recent": list(contact_list(account=account)[:PANEL_RECENT_CONTACTS]),
        "contact_can_override": can_see(request.user, FieldGroup.MANAGEMENT),
        "panel_flash": flash,
        "contact_local_now": now.astimezone(patient_time_zone(account)),
    }
    if represented:
        attorney_call = contact_decision(
            account=account, channel=Contact.Channel.OUTBOUND_CALL, party=Contact.Party.ATTORNEY, at=now
        )
        context["contact_attorney_decision"] = _decision_context(account, attorney_call)
    for name, form_class in FORMS.items():
        context[f"contact_{name}"] = bound.get(name) or form_class()
    context["contact_flags_form"] = bound.get("flags_form") or FlagsForm.for_account(account)
    if not bound.get("follow_up_form"):
        context["contact_follow_up_form"] = FollowUpForm(initial={"follow_up_on": account.follow_up_on})
    return context


@requires(FieldGroup.BILLING)
@require_GET
def panel(request, pk):
    """The panel on its own (refreshed after another panel changed the account)."""
    account = account_get(user=request.user, account_id=pk)
    audit_read(user=request.user, obj=account, field_groups={FieldGroup.BILLING}, detail={"panel": "contacts"})
    return render(request, PANEL_TEMPLATE, {"account": account, **panel_context(request, account)})


def _act(request, pk, *, form_name: str, form_class, perform, success):
    """Parse the form, call the service, answer htmx with the panel or redirect (core.panels)."""
    account = account_get(user=request.user, account_id=pk)

    def render_panel(*, form, flash):
        fresh = account_get(user=request.user, account_id=pk)  # fresh flags, follow-up and version
        context = panel_context(request, fresh, bound={form_name: form} if form else {}, flash=flash)
        return render(request, PANEL_TEMPLATE, {"account": fresh, **context})

    return panel_action(
        request,
        form=form_class(request.POST),
        perform=lambda data: perform(account, data),
        success=success,
        render_panel=render_panel,
        redirect_to=reverse("account-detail", args=[account.pk]),
        panel=PANEL_KEY,
    )


@requires(FieldGroup.BILLING)
@require_POST
def contact_log(request, pk):
    def perform(account, data):
        arguments = ContactLogForm.service_arguments(data)
        return services.contact_log(acting_user=request.user, account_id=account.pk, **arguments)

    def success(contact) -> str:
        return MESSAGE_CONTACT_REPLAYED if getattr(contact, "replayed", False) else "Contact logged."

    return _act(request, pk, form_name="contact_form", form_class=ContactLogForm, perform=perform, success=success)


@requires(FieldGroup.BILLING)
@require_POST
def payment_record(request, pk):
    def perform(account, data):
        return services.payment_record(
            acting_user=request.user,
            account_id=account.pk,
            amount=data["amount"],
            method=data["method"],
            reference=data["reference"],
            notes=data["notes"],
            effective_on=data["effective_on"],
            idempotency_key=data["idempotency_key"],
            confirm_overpayment=data["confirm_overpayment"],
            overpayment_reason=data["overpayment_reason"],
        )

    def success(row) -> str:
        return MESSAGE_PAYMENT_REPLAYED if row.replayed else "Payment posted."

    return _act(request, pk, form_name="payment_form", form_class=PaymentForm, perform=perform, success=success)


@requires(FieldGroup.BILLING)
@require_POST
def follow_up_set(request, pk):
    def perform(account, data):
        services.follow_up_set(acting_user=request.user, account_id=account.pk, follow_up_on=data["follow_up_on"])

    return _act(
        request,
        pk,
        form_name="follow_up_form",
        form_class=FollowUpForm,
        perform=perform,
        success="Follow-up date saved.",
    )


@requires(FieldGroup.BILLING)
@require_POST
def note_add(request, pk):
    def perform(account, data):
        services.note_add(acting_user=request.user, account_id=account.pk, body=data["body"])

    return _act(request, pk, form_name="note_form", form_class=NoteForm, perform=perform, success="Note added.")


@requires(FieldGroup.BILLING)
@require_POST
def flags_set(request, pk):
    def perform(account, data):
        services.flags_set(
            acting_user=request.user,
            account_id=account.pk,
            cease_communication=data["cease_communication"],
            cease_communication_on=data["cease_communication_on"],
            attorney_represented=data["attorney_represented"],
            attorney_name=data["attorney_name"],
            attorney_phone=data["attorney_phone"],
            expected_version=data["version"],
        )

    return _act(request, pk, form_name="flags_form", form_class=FlagsForm, perform=perform, success="Flags saved.")


@requires(FieldGroup.BILLING)
@require_POST
def consent_record(request, pk):
    def perform(account, data):
        services.consent_record(
            acting_user=request.user,
            account_id=account.pk,
            channel=data["channel"],
            granted_on=data["granted_on"],
            granted_how=data["granted_how"],
        )

    return _act(
        request, pk, form_name="consent_form", form_class=ConsentForm, perform=perform, success="Consent recorded."
    )


@requires(FieldGroup.BILLING)
@require_POST
def consent_revoke(request, pk):
    def perform(account, data):
        services.consent_revoke(
            acting_user=request.user, account_id=account.pk, channel=data["channel"], revoked_on=data["revoked_on"]
        )

    return _act(
        request, pk, form_name="revoke_form", form_class=ConsentRevokeForm, perform=perform, success="Consent revoked."
    )
