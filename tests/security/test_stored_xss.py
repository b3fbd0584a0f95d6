"""Stored XSS: script put into every free-text field a user (or an import) can store comes back
escaped on every page and htmx fragment that shows it, and in the plan agreement's HTML.

Each field gets its own payload, tagged with the field's name, in two shapes: a <script> element
and an attribute break-out (`"><img src=x onerror=...>`). A page fails if either shape appears
as markup; the test fails too if some field's payload was shown nowhere (then the walk no longer
reaches the page that shows it, and proves nothing for it).
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Guarantor, Patient, Practice
from accounts.selectors import practice_today
from collections_app.contacts import services as contacts
from collections_app.correspondence import services as correspondence
from collections_app.holds import services as holds
from collections_app.models import AccountHold, JobRun
from core.models import StaffUser
from payment_plans import services as plans
from tests.security.test_url_walk import EXPECTED
from tests.security.world import PERSONAS, all_routes, path_for

HTMX = {"HTTP_HX_REQUEST": "true"}


def payload(tag: str) -> str:
    return f'<script>alert("{tag}")</script>"><img src=x onerror=alert("{tag}")>'


# Markup that only an unescaped payload produces.
RAW = re.compile(r'<script>alert\("|<img src=x onerror|onerror=alert\("')


def escaped(tag: str) -> str:
    return f"&lt;script&gt;alert(&quot;{tag}&quot;)&lt;/script&gt;"


def store_payloads(world) -> set[str]:
    """Put a payload in each free-text field, through the services where they take free text and
    straight into the row where only an import or the admin writes (names, addresses, practices)."""
    medium, manager = world.users["medium"], world.users["manager"]
    account, today = world.account, practice_today(world.practice)
    tags = set()

    def tag(name):
        tags.add(name)
        return payload(name)

    Practice.objects.filter(pk=world.practice.pk).update(name=tag("practice_name"))
    Patient.objects.filter(pk=world.patient.pk).update(
        first_name=tag("first_name"),
        last_name=tag("last_name"),
        address_line1=tag("address_line1"),
        city=tag("city"),
    )
    Guarantor.objects.filter(pk=account.guarantor_id).update(last_name=tag("guarantor_last_name"))
    StaffUser.objects.filter(pk=medium.pk).update(first_name=tag("rep_first_name"))
    contacts.contact_log(
        acting_user=medium,
        account_id=account.pk,
        channel="inbound_call",
        party="patient",
        outcome="information_given",
        notes=tag("contact_notes"),
    )
    contacts.note_add(acting_user=medium, account_id=account.pk, body=tag("account_note"))
    contacts.consent_record(acting_user=medium, account_id=account.pk, channel="text", granted_how=tag("granted_how"))
    contacts.payment_record(
        acting_user=medium,
        account_id=account.pk,
        amount="5.00",
        method="check",
        reference=tag("payment_reference")[:80],
        notes=tag("payment_notes")[:200],
    )
    contacts.flags_set(
        acting_user=medium,
        account_id=account.pk,
        attorney_represented=True,
        attorney_name=tag("attorney_name"),
        attorney_phone="5551234567",
    )
    AccountHold.objects.filter(pk=world.hold.pk).update(attorney_firm=tag("attorney_firm"), notes=tag("hold_notes"))
    dispute = holds.hold_place(
        acting_user=medium, account_id=account.pk, kind="dispute", dispute_kind="balance", received_on=today
    )
    holds.hold_release(acting_user=medium, hold_id=dispute.pk, reason=tag("hold_release_reason"))
    inquiry = correspondence.inquiry_open(
        acting_user=medium, account_id=account.pk, channel="letter", question=tag("inquiry_question")
    )
    correspondence.inquiry_respond(acting_user=medium, inquiry_id=inquiry.pk, response=tag("inquiry_response"))
    plans.plan_modify(acting_user=medium, plan_id=world.plan.pk, reason=tag("plan_modify_reason"), installment_count=5)
    plans.plan_cancel(acting_user=manager, plan_id=world.plan.pk, note=tag("plan_cancel_note"))
    now = timezone.now()
    JobRun.objects.create(
        job="statements", as_of=today - timedelta(days=1), status="failed", started_at=now, error=tag("job_error")
    )
    return tags


def pages(world) -> list[tuple[str, str, dict, dict]]:
    """(method, path, data, headers) for every page and fragment the walk's table opens with a 200:
    each GET as a page and as htmx, the search results, and the admin's lists of what was stored."""
    routes = all_routes()
    director = PERSONAS.index("director")
    found = []
    for key, (get, _) in EXPECTED.items():
        if get[director] == 200 and not routes[key].route.startswith("api/") and key != "healthz":
            path = path_for(routes[key], world)
            found += [("get", path, {}, {}), ("get", path, {}, HTMX)]
    search = reverse("search")
    found += [("post", search, {"q": "alert"}, HTMX), ("post", search, {"q": "alert"}, {})]
    for model in ("accounts/patient", "accounts/practice", "collections_app/contact", "collections_app/accounthold"):
        found.append(("get", f"/admin/{model}/", {}, {}))
    found.append(("get", f"/admin/accounts/patient/{world.patient.pk}/change/", {}, {}))
    found.append(("get", reverse("api-account-detail", args=[world.account.pk]), {"format": "api"}, {}))
    return found


@pytest.mark.parametrize("persona", ["medium", "manager", "director"])
def test_stored_script_is_escaped_on_every_page_and_fragment(world, persona):
    assert RAW.search(payload("probe")) and not RAW.search(escaped("probe"))
    tags = store_payloads(world)
    client = Client()
    client.force_login(world.users[persona])
    shown, raw = set(), []
    for method, path, data, headers in pages(world):
        response = getattr(client, method)(path, data, **headers, follow=method == "post" and not headers)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        raw += [f"{path}{' (htmx)' if headers else ''}: {m.group(0)}" for m in RAW.finditer(html)]
        shown |= {tag for tag in tags if escaped(tag) in html}
    assert raw == []
    if persona == "director":  # the Director opens every page: every field was shown somewhere
        assert tags - shown == set()
    else:
        assert len(shown) > len(tags) // 2


def test_the_plan_agreement_html_escapes_what_was_stored(world, monkeypatch):
    """The agreement PDF is rendered from HTML (WeasyPrint): what goes into it is escaped too."""
    from payment_plans import pdf

    store_payloads(world)
    sources = []

    def capturing(*, string, **kwargs):
        sources.append(string)
        return real(string=string, **kwargs)

    real = pdf.HTML
    monkeypatch.setattr(pdf, "HTML", capturing)
    client = Client()
    client.force_login(world.users["medium"])
    response = client.get(reverse("plan-agreement", args=[world.plan.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    [html] = sources
    assert RAW.search(html) is None
    assert escaped("practice_name") in html and escaped("guarantor_last_name") in html
