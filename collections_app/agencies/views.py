"""Agency pages (Management): candidates with a preview then confirm, placement batches with their
files, recalls, the agency list with what is waiting to be sent, and the payment file upload with
its reconciliation. Medium may read an account's placements.

Thin views: the declared field group, a scoped selector (another practice's batch or file is a 404),
one service call, an audit row for every patient shown or file downloaded.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import PatientAccount
from accounts.selectors import account_get, practice_list, practice_today
from collections_app.agencies import rules, selectors, services
from collections_app.agencies.forms import (
    AgencyActiveForm,
    AgencyForm,
    AgencyPaymentByHandForm,
    CandidateFilterForm,
    PaymentFileForm,
    PlacementConfirmForm,
    PlacementSelectionForm,
    RecallForm,
)
from core.access import FieldGroup, requires, scope_to_user
from core.audit import audit_read, audit_reads
from core.errors import ApplicationError
from core.pagination import page_number
from core.panels import form_error_messages

MANAGEMENT = FieldGroup.MANAGEMENT
PAGE_SIZE = 100


def _flash_form_errors(request, form) -> None:
    for message in form_error_messages(form):
        messages.error(request, message)


def _patients(accounts):
    return list({account.patient_id: account.patient for account in accounts}.values())


# --- candidates, preview, confirm ------------------------------------------------------------------


@require_GET
@requires(MANAGEMENT)
def candidates(request):
    """Accounts ready to place today, largest balance first, with filters."""
    user = request.user
    practices = list(practice_list(user=user))
    form = CandidateFilterForm(request.GET or None, practices=practices)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    queryset = selectors.candidate_list(
        user=user, practice_id=filters.get("practice"), min_balance=filters.get("min_balance")
    )
    totals = selectors.candidate_totals(queryset)
    paginator = Paginator(queryset, PAGE_SIZE)
    number = page_number(request.GET.get("page"))
    if number > max(paginator.num_pages, 1):
        raise Http404("No such page.")
    page = paginator.page(number)
    rows = []
    for account in page.object_list:
        today = practice_today(account.practice)
        delinquent_on = rules.delinquent_since(account.practice, account.oldest_open_service_on)
        rows.append(
            {
                "account": account,
                "reportable": rules.may_report_to_credit_bureaus(
                    balance=account.patient_balance, delinquent_on=delinquent_on, as_of=today
                ),
            }
        )
    audit_reads(user=user, objects=_patients(page.object_list), field_groups={FieldGroup.BILLING, MANAGEMENT})
    agencies = list(selectors.agency_list(user=user, active_only=True))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filtering": bool(filters.get("practice") or filters.get("min_balance") is not None),
        "page": page,
        "rows": rows,
        "totals": totals,
        "selection_form": PlacementSelectionForm(agencies=agencies),
        "agencies": agencies,
        "query": query.urlencode(),
        "show_practice": len(practices) > 1,
    }
    return render(request, "collections_app/agencies/candidates.html", context)


def _preview_context(user, preview) -> dict:
    chosen = {
        account.pk: account
        for account in scope_to_user(
            PatientAccount.objects.filter(pk__in=preview.account_ids + [pk for pk, _ in preview.refused]), user
        ).select_related("patient", "practice")
    }
    groups = [
        {"group": group, "accounts": [chosen[pk] for pk in group.account_ids if pk in chosen]}
        for group in preview.groups
    ]
    refused = [{"account": chosen.get(pk), "pk": pk, "why": why} for pk, why in preview.refused]
    return {"preview": preview, "groups": groups, "refused": refused, "shown": list(chosen.values())}


@require_POST
@requires(MANAGEMENT)
def placement_preview(request):
    """What "Place with agency" would do: count, total and agency per practice, and the accounts
    that may not go with why. Nothing is placed here."""
    agencies = list(selectors.agency_list(user=request.user, active_only=True))
    form = PlacementSelectionForm(request.POST, agencies=agencies)
    if not form.is_valid():
        _flash_form_errors(request, form)
        return redirect(reverse("agency-candidates"))
    agency_id = form.cleaned_data.get("agency")
    try:
        preview = services.placement_preview(
            acting_user=request.user, account_ids=form.cleaned_data["accounts"], agency_id=agency_id
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
        return redirect(reverse("agency-candidates"))
    context = _preview_context(request.user, preview)
    audit_reads(user=request.user, objects=_patients(context["shown"]), field_groups={FieldGroup.BILLING, MANAGEMENT})
    context["confirm_form"] = PlacementConfirmForm(
        initial={"accounts": preview.account_ids, "agency": agency_id, "fingerprint": preview.fingerprint},
        agencies=agencies,
    )
    context["agency_id"] = agency_id
    return render(request, "collections_app/agencies/preview.html", context)


@require_POST
@requires(MANAGEMENT)
def placement_confirm(request):
    agencies = list(selectors.agency_list(user=request.user, active_only=True))
    form = PlacementConfirmForm(request.POST, agencies=agencies)
    if not form.is_valid():
        _flash_form_errors(request, form)
        return redirect(reverse("agency-candidates"))
    try:
        batches = services.placement_place(
            acting_user=request.user,
            account_ids=form.cleaned_data["accounts"],
            agency_id=form.cleaned_data.get("agency"),
            fingerprint=form.cleaned_data["fingerprint"],
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
        return redirect(reverse("agency-candidates"))
    count = sum(batch.account_count for batch in batches)
    total = sum(batch.total for batch in batches)
    agencies_named = ", ".join(sorted({batch.agency.name for batch in batches}))
    messages.success(
        request, f"Placed {count} account{'s' if count != 1 else ''} totalling ${total:,.2f} with {agencies_named}."
    )
    if len(batches) == 1:
        return redirect(reverse("agency-batch-detail", args=[batches[0].pk]))
    return redirect(reverse("agency-batches"))


# --- batches, files, recall ---------------------------------------------------------------------------


@require_GET
@requires(MANAGEMENT)
def batches(request):
    paginator = Paginator(selectors.batch_list(user=request.user), PAGE_SIZE)
    number = page_number(request.GET.get("page"))
    if number > max(paginator.num_pages, 1):
        raise Http404("No such page.")
    page = paginator.page(number)
    context = {
        "page": page,
        "batches": list(page.object_list),
        "files": list(selectors.recent_files(user=request.user)),
        "show_practice": len(list(practice_list(user=request.user))) > 1,
    }
    return render(request, "collections_app/agencies/batches.html", context)


@require_GET
@requires(MANAGEMENT)
def batch_detail(request, pk):
    batch = selectors.batch_with_placements(user=request.user, batch_id=pk)
    placements = batch.placement_rows
    audit_reads(
        user=request.user,
        objects=_patients([p.account for p in placements]),
        field_groups={FieldGroup.BILLING, MANAGEMENT},
    )
    context = {"batch": batch, "placements": placements, "still_placed": batch.still_placed}
    return render(request, "collections_app/agencies/batch_detail.html", context)


@require_POST
@requires(MANAGEMENT)
def placements_recall(request):
    """Recall the ticked placements (one or many): each agency's recall file is made at once."""
    form = RecallForm(request.POST)
    back = request.POST.get("batch")
    target = reverse("agency-batch-detail", args=[int(back)]) if back and back.isdigit() else reverse("agency-batches")
    if not form.is_valid():
        _flash_form_errors(request, form)
        return redirect(target)
    try:
        recalled, made = services.placement_recall(
            acting_user=request.user, placement_ids=form.cleaned_data["placements"], note=form.cleaned_data["note"]
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
        return redirect(target)
    count = len(recalled)
    messages.success(
        request,
        f"Recalled {count} account{'s' if count != 1 else ''}. The recall file is ready to send: "
        + ", ".join(made_file.file_name for made_file in made),
    )
    return redirect(target)


@require_POST
@requires(MANAGEMENT)
def recall_file_make(request, pk):
    agency = selectors.agency_get(user=request.user, agency_id=pk)
    try:
        made = services.recall_file_build(acting_user=request.user, agency_id=agency.pk)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Recall file {made.file_name} is ready: {made.record_count} accounts.")
    return redirect(reverse("agency-list"))


@require_POST
@requires(MANAGEMENT)
def direct_payments_file_make(request, pk):
    agency = selectors.agency_get(user=request.user, agency_id=pk)
    try:
        made = services.direct_payments_file_build(acting_user=request.user, agency_id=agency.pk)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"File {made.file_name} is ready: {made.record_count} payments, ${made.total:,.2f}.")
    return redirect(reverse("agency-list"))


@require_GET
@requires(MANAGEMENT)
def file_download(request, pk):
    """A placement, recall or direct-payments file, as sent to the agency. Audited: it lists patients."""
    made = selectors.file_get(user=request.user, file_id=pk)
    audit_read(
        user=request.user,
        obj=made,
        field_groups={FieldGroup.DEMOGRAPHICS, FieldGroup.BILLING, MANAGEMENT},
        detail={"kind": made.kind, "records": made.record_count, "download": True},
    )
    response = HttpResponse(made.content.encode("utf-8"), content_type=f"{made.content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{made.file_name}"'
    response["Cache-Control"] = "no-store"
    return response


# --- agencies and payments ---------------------------------------------------------------------------


@require_GET
@requires(MANAGEMENT)
def agency_list(request):
    user = request.user
    recalls = {row["agency"]: row["count"] for row in selectors.recalls_to_send(user=user)}
    direct = {row["agency"]: row for row in selectors.direct_payments_summary(user=user)}
    agencies = [
        {"agency": agency, "recalls": recalls.get(agency.pk, 0), "direct": direct.get(agency.pk)}
        for agency in selectors.agency_list(user=user)
    ]
    return render(request, "collections_app/agencies/agencies.html", {"agencies": agencies})


@require_http_methods(["GET", "POST"])
@requires(MANAGEMENT)
def payments(request):
    """Upload an agency's payment file: it posts only if it reconciles, and the page shows how."""
    user = request.user
    agencies = list(selectors.agency_list(user=user))
    result = None
    by_hand = AgencyPaymentByHandForm(agencies=agencies)
    if request.method == "POST" and request.POST.get("form") == "by-hand":
        by_hand = AgencyPaymentByHandForm(request.POST, agencies=agencies)
        if by_hand.is_valid() and _payment_by_hand(request, by_hand):
            return redirect("agency-payments")
        form = PaymentFileForm(agencies=agencies)
    elif request.method == "POST":
        form = PaymentFileForm(request.POST, request.FILES, agencies=agencies)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = services.agency_payment_import(
                    acting_user=user,
                    agency_id=form.cleaned_data["agency"],
                    data=upload.read(services.files.MAX_PAYMENT_FILE_BYTES + 1),
                    file_name=upload.name or "",
                )
            except ApplicationError as refused:
                form.add_error("file", refused.message)
    else:
        form = PaymentFileForm(agencies=agencies)
    context = {
        "form": form,
        "by_hand": by_hand,
        "result": result,
        "imports": list(selectors.payment_imports(user=user)),
    }
    refused = form.errors or by_hand.errors
    return render(request, "collections_app/agencies/payments.html", context, status=400 if refused else 200)


def _payment_by_hand(request, form) -> bool:
    """Post one agency payment typed from its remittance statement; False with the form's errors
    set when it is refused (an account not placed with that agency, overpaid, a future date...)."""
    data = form.cleaned_data
    placement = selectors.placement_by_account_number(
        user=request.user, agency_id=data["agency"], account_number=data["account_number"]
    )
    if placement is None:
        form.add_error("account_number", "No account with this number was placed with that agency.")
        return False
    try:
        payment, replayed = services.agency_payment_record(
            acting_user=request.user,
            placement_id=placement.pk,
            paid_on=data["paid_on"],
            gross=data["gross"],
            commission=data["commission"],
            reference=data["reference"],
        )
    except ApplicationError as refused:
        refused.add_to_form(form)
        return False
    if replayed:
        messages.info(request, f"A payment with reference {data['reference']} was posted before: nothing new posted.")
    else:
        messages.success(
            request,
            f"Posted ${payment.gross:,.2f} collected by the agency on account {data['account_number']}: "
            f"commission ${payment.commission:,.2f}, net to the practice ${payment.net:,.2f}.",
        )
    return True


@require_GET
@requires(FieldGroup.BILLING)
def account_placements(request, pk):
    """An account's placements with agencies (Medium and up): where it went, when, and what came back."""
    account = account_get(user=request.user, account_id=pk)
    placements = list(selectors.placements_for_account(user=request.user, account=account))
    audit_read(
        user=request.user, obj=account, field_groups={FieldGroup.BILLING}, detail={"placements": len(placements)}
    )
    return render(
        request, "collections_app/agencies/account_placements.html", {"account": account, "placements": placements}
    )


# --- agency upkeep (Management) -------------------------------------------------------------------


@require_GET
@requires(MANAGEMENT)
def agency_setup(request):
    """Every agency of the user's practices, in use or not, to add, change or stop using."""
    agencies = list(selectors.agency_list(user=request.user))
    context = {
        "agencies": agencies,
        "show_practice": len(list(practice_list(user=request.user))) > 1,
    }
    return render(request, "collections_app/agencies/setup.html", context)


def _agency_form_page(request, form, agency=None, status=200, stale=""):
    context = {"form": form, "agency": agency, "stale": stale}
    return render(request, "collections_app/agencies/agency_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@requires(MANAGEMENT)
def agency_new(request):
    practices = list(practice_list(user=request.user).filter(is_active=True))
    if request.method != "POST":
        return _agency_form_page(request, AgencyForm(practices=practices, initial={"file_layout": "csv"}))
    form = AgencyForm(request.POST, practices=practices)
    if form.is_valid():
        try:
            agency = services.agency_create(
                acting_user=request.user, practice_id=form.cleaned_data["practice"], **form.values()
            )
        except ApplicationError as refused:
            refused.add_to_form(form)
        else:
            messages.success(request, f"{agency.name} is set up for {agency.practice.name}.")
            return redirect(reverse("agency-setup"))
    return _agency_form_page(request, form, status=400)


@require_http_methods(["GET", "POST"])
@requires(MANAGEMENT)
def agency_edit(request, pk):
    agency = selectors.agency_get(user=request.user, agency_id=pk)
    if request.method != "POST":
        return _agency_form_page(request, AgencyForm.for_agency(agency), agency)
    form = AgencyForm(request.POST, agency=agency)
    if form.is_valid():
        try:
            agency = services.agency_update(
                acting_user=request.user,
                agency_id=agency.pk,
                expected_updated_at=form.cleaned_data.get("updated_at"),
                **form.values(),
            )
        except ApplicationError as refused:
            if refused.message != services.MESSAGE_AGENCY_CHANGED:
                refused.add_to_form(form)
            else:
                # What is there now, with the message: saving the manager's typing would overwrite it.
                current = selectors.agency_get(user=request.user, agency_id=pk)
                return _agency_form_page(request, AgencyForm.for_agency(current), current, 400, refused.message)
        else:
            messages.success(request, f"{agency.name} saved.")
            return redirect(reverse("agency-setup"))
    return _agency_form_page(request, form, agency, status=400)


@require_POST
@requires(MANAGEMENT)
def agency_active(request, pk):
    """Stop an agency taking placements, or take it back (refused in words while accounts are placed)."""
    agency = selectors.agency_get(user=request.user, agency_id=pk)
    form = AgencyActiveForm(request.POST)
    if not form.is_valid():
        _flash_form_errors(request, form)
        return redirect(reverse("agency-setup"))
    try:
        agency = services.agency_set_active(
            acting_user=request.user, agency_id=agency.pk, active=form.cleaned_data["active"]
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        if agency.is_active:
            messages.success(request, f"{agency.name} takes placements again.")
        else:
            messages.success(request, f"{agency.name} no longer takes placements. Its files and payments stay.")
    return redirect(reverse("agency-setup"))
