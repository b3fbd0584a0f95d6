"""The account workspace's "Statements and letters" panel, its "print a letter now" action, and a
statement's PDF (an audited read of the stored document).

The panel is registered with the workspace from reports/apps.py (collections_app may not import
reports); it loads by htmx like every panel and acts through core.panels.panel_action.
"""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import account_get, account_practice_today
from core.access import FieldGroup, requires
from core.audit import audit_read
from core.panels import panel_action
from reports.models import Statement
from reports.statements.files import statement_pdf_response
from reports.statements.forms import LetterPrintForm, recipient_for
from reports.statements.selectors import statement_get, statement_list_for_account
from reports.statements.services import letter_produce

PANEL_KEY = "statements"
PANEL_TITLE = "Statements and letters"
PANEL_TEMPLATE = "reports/statements/_panel.html"
# The panel lists the newest ones; an account billed monthly for years has more than a rep reads.
PANEL_ROWS = 25

# What a dunning level means on the page (Statement.dunning_level).
DUNNING_LEVEL_WORDS = {1: "30 days", 2: "60 days", 3: "90 days", 4: "final"}


def panel_context(request, account, *, form=None) -> dict:
    rows = list(statement_list_for_account(user=request.user, account=account)[: PANEL_ROWS + 1])
    for statement in rows:
        statement.level_words = DUNNING_LEVEL_WORDS.get(statement.dunning_level, "")
        statement.filed_elsewhere = statement.account_id != account.pk
    return {
        "account": account,
        "statements": rows[:PANEL_ROWS],
        "more_statements": len(rows) > PANEL_ROWS,
        "panel_rows": PANEL_ROWS,
        "letter_form": form or LetterPrintForm(),
        "practice_today": account_practice_today(account),
    }


def _audit_panel(request, account, context) -> None:
    audit_read(
        user=request.user,
        obj=account,
        field_groups={FieldGroup.BILLING},
        detail={"panel": PANEL_KEY, "statement_ids": [statement.pk for statement in context["statements"]]},
    )


@requires(FieldGroup.BILLING)
@require_GET
def statements_panel(request, pk):
    account = account_get(user=request.user, account_id=pk)
    context = panel_context(request, account)
    _audit_panel(request, account, context)
    return render(request, PANEL_TEMPLATE, context)


@requires(FieldGroup.BILLING)
@require_POST
def letter_print_view(request, pk):
    """Print a letter now: letter_produce freezes its content, stores the PDF, dates it mailed today
    and logs it on the contact timeline; a letter the account may not receive is refused in words."""
    account = account_get(user=request.user, account_id=pk)

    def perform(data):
        kind = data["kind"]
        return letter_produce(
            account=account, kind=kind, user=request.user, recipient=recipient_for(kind), note=data["note"]
        )

    def success(statement: Statement) -> str:
        return f"{statement.get_kind_display()} printed; mailed {statement.mailed_on:%m/%d/%Y}."

    def render_panel(*, form, flash):
        fresh = account_get(user=request.user, account_id=account.pk)
        context = {**panel_context(request, fresh, form=form), "panel_flash": flash}
        _audit_panel(request, fresh, context)
        return render(request, PANEL_TEMPLATE, context)

    return panel_action(
        request,
        form=LetterPrintForm(request.POST),
        perform=perform,
        success=success,
        render_panel=render_panel,
        redirect_to=reverse("account-detail", args=[account.pk]),
        panel=PANEL_KEY,
    )


@requires(FieldGroup.BILLING)
@require_GET
def statement_pdf(request, pk):
    """The statement or letter as it was sent (a download named by its number, never the patient)."""
    statement = statement_get(user=request.user, statement_id=pk)
    response = statement_pdf_response(statement)
    audit_read(
        user=request.user,
        obj=statement,
        field_groups={FieldGroup.DEMOGRAPHICS, FieldGroup.BILLING},
        detail={"account_id": statement.account_id, "kind": statement.kind, "document": "statement_pdf"},
    )
    return response
