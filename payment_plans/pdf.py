"""The plan agreement as a PDF (WeasyPrint), from a template holding only what the agreement needs."""

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from accounts.selectors import practice_today


def _no_fetching(url, *args, **kwargs):
    # The agreement embeds everything it shows; a PDF renderer fetching URLs could be steered to
    # internal addresses, so it is given none.
    raise ValueError("The plan agreement does not load external resources.")


def render_agreement_pdf(plan, *, schedule) -> bytes:
    account = plan.account
    context = {
        "plan": plan,
        "practice": plan.practice,
        "account_number": account.account_number,
        "guarantor": account.guarantor,
        "schedule": schedule,
        "printed_on": practice_today(plan.practice, timezone.now()),
    }
    html = render_to_string("payment_plans/agreement_pdf.html", context)
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()
