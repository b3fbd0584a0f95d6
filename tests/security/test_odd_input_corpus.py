"""The odd-input corpus against every form field and every API parameter: never a 5xx.

Each value of the corpus goes into one field at a time, the form's other fields holding valid
values (`VALID`), so an odd value gets past the form to the service and the database, where a NUL
byte, a 10,000-character name or a 400-digit amount would otherwise end in a 500. The forms are the
ones the pages render (tests/security/forms_on_pages.py); the API's query parameters and body
fields are read from its OpenAPI schema. tests/security/test_odd_input.py keeps the older checks of
page numbers and sign-in names.
"""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import resolve, reverse

from accounts.selectors import practice_today
from tests.security.forms_on_pages import discover_forms, forms_in
from tests.security.world import all_routes, isolated, path_for

# Every field gets these; fields for numbers and dates also get the values that parse as such.
TEXT = [
    'O\'Brien "the" `x` ;-- <b> \u202eevil\u202c \u200fعربى 👩🏽‍⚕️',  # quotes, RTL override and mark, emoji
    "a\x00b",  # NUL
    "x" * 10_000,  # 10,000 characters
    "²³",  # superscript digits (str.isdigit() says yes, int() says no)
    "9" * 400,  # huge
]
NUMBERS = ["-99999999999.99", "1e400", "NaN", "٣"]  # negative, overflow, not a number, an Arabic-Indic 3
DATES = ["2026-02-30", "99999-12-31"]
CORPUS = [*TEXT, *NUMBERS, *DATES]
NUMBER_NAMES = ("amount", "balance", "count", "day_of_month", "days", "total", "version", "payment", "page")
DATE_NAMES = ("_on", "date", "day", "_from", "_to", "updated_at")


def corpus_for(item) -> list[str]:
    # A choice, a tick box or a hidden token is one string matched whole: quotes and RTL, NUL and
    # length say all there is to say to it (the digits and dates below go to fields that parse them).
    values = list(TEXT[:3] if item.kind in ("select", "checkbox", "radio", "hidden") else TEXT)
    if item.kind == "number" or any(word in item.name for word in NUMBER_NAMES):
        values += NUMBERS
    if item.kind == "date" or item.name.endswith(DATE_NAMES):
        values += DATES
    return values


# JSON bodies also carry other types where a string or a number is expected.
JSON_EXTRA = [10**400, -1, True, None, [], {"a": 1}]


def today_plus(world, days: int) -> str:
    return (practice_today(world.practice) + timedelta(days=days)).isoformat()


def valid(world) -> dict[str, dict]:
    """Per URL name, values that make the form pass, so the odd value is the only thing wrong."""
    return {
        "search": {"q": "Garcia"},
        "contacts-log": {
            "contact-channel": "inbound_call",
            "contact-party": "patient",
            "contact-outcome": "promise_to_pay",
            "contact-promise_amount": "10.00",
            "contact-promise_due_on": today_plus(world, 7),
        },
        "contacts-payment": {"payment-amount": "10.00", "payment-method": "cash"},
        "contacts-follow-up": {"follow-follow_up_on": today_plus(world, 3)},
        "contacts-note": {"note-body": "Called back."},
        "contacts-consent": {"consent-channel": "text"},
        "contacts-consent-revoke": {"revoke-channel": "text"},
        "hold-release": {"reason": "Settled."},
        "hold-place": {"kind": "dispute", "dispute_kind": "balance", "received_on": today_plus(world, 0)},
        "returned-mail-record": {"reason": "undeliverable"},
        "inquiry-respond": {"response": "Explained the balance."},
        "inquiry-open": {"question": "Why this balance?"},
        "plan-create": {"installment_count": "3"},
        "plan-preview": {"installment_count": "3"},
        "plan-modify": {"installment_count": "3", "reason": "Asked for smaller payments."},
        "login": {"username": "low", "password": "not-the-password"},
    }


def all_forms(world) -> dict:
    """The forms, once per view and set of fields: the team pages share one view and its filters."""
    seen, distinct = set(), {}
    for key, form in _all_forms(world).items():
        shape = (resolve(form.action).func, form.method, tuple(sorted(item.name for item in form.fields)))
        if shape not in seen:
            seen.add(shape)
            distinct[key] = form
    return distinct


def _all_forms(world) -> dict:
    manager = Client()
    manager.force_login(world.users["manager"])
    forms = discover_forms(manager, world)
    director = Client()
    director.force_login(world.users["director"])
    forms.update({f.key: f for f in forms_in(director.get(reverse("audit-log")).content.decode(), "/audit/")})
    forms.update({f.key: f for f in forms_in(Client().get(reverse("login")).content.decode(), "/login/")})
    return forms


def client_for_form(world, form) -> Client:
    client = Client()
    name = resolve(form.action.split("?")[0]).url_name
    user = {"audit-log": "director", "login": None}.get(name, "manager")
    if user:
        client.force_login(world.users[user])
    return client


def test_the_corpus_reaches_every_form_on_the_pages(world):
    """The walk below covers the forms people use: the account panels, plans, holds, queues..."""
    names = {resolve(form.action).url_name for form in all_forms(world).values()}
    expected = {
        "search", "contacts-log", "contacts-payment", "contacts-follow-up", "contacts-note", "contacts-flags",
        "contacts-consent", "contacts-consent-revoke", "hold-place", "hold-release", "hold-status-check",
        "returned-mail-record", "returned-mail-resolve", "address-correct", "inquiry-open", "inquiry-respond",
        "plan-create", "plan-preview", "plan-cancel", "plan-modify", "patient-edit", "queue-reassign",
        "queue-assignments", "queue", "schedule", "jobs", "audit-log", "login",
    }  # fmt: skip
    assert expected <= names, expected - names


def test_every_form_field_takes_the_corpus_without_a_5xx(world):
    """As the browser submits the form (no htmx: the answer is a redirect with the outcome, the
    same form and service run), one field at a time."""
    failures, posted = [], 0
    for form in all_forms(world).values():
        name = resolve(form.action).url_name
        base = form.body(**valid(world).get(name, {}))
        client = client_for_form(world, form)
        for item in form.typed_fields():
            for value in corpus_for(item):
                response = isolated(client, form.method, form.action, data={**base, item.name: value})
                posted += 1
                if response.status_code >= 500:
                    failures.append(f"{form.key} {item.name}={value[:20]!r}: {response.status_code}")
    assert failures == []
    assert posted > 600, posted


def test_every_panel_shows_its_form_again_with_the_odd_values_without_a_5xx(world):
    """Through htmx a refused form comes back in its panel with the values typed: every text field
    at once, so each panel renders quotes, RTL, emoji and 10,000 characters."""
    failures = []
    for form in all_forms(world).values():
        texts = [item.name for item in form.typed_fields() if item.kind in ("text", "textarea", "search", "email")]
        if not texts:
            continue
        client = client_for_form(world, form)
        for value in (TEXT[0] + TEXT[2], TEXT[3]):
            body = form.body(**dict.fromkeys(texts, value))
            response = isolated(client, form.method, form.action, data=body, HTTP_HX_REQUEST="true")
            if response.status_code >= 500:
                failures.append(f"{form.key} {value[:20]!r}: {response.status_code}")
    assert failures == []


# --- the API ----------------------------------------------------------------------------------------


def api_operations(client) -> list[tuple[str, str, dict, dict]]:
    """(method, path template, {query parameter: schema}, {body field: schema}) of every API operation."""
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()

    def resolved(item):
        return schema["components"]["schemas"][item["$ref"].rsplit("/", 1)[1]] if "$ref" in item else item

    operations = []
    for template, methods in schema["paths"].items():
        for method, operation in methods.items():
            query = {p["name"]: p.get("schema", {}) for p in operation.get("parameters", []) if p["in"] == "query"}
            content = operation.get("requestBody", {}).get("content", {})
            body = resolved(next(iter(content.values()), {}).get("schema", {}))
            fields = {name: resolved(item) for name, item in body.get("properties", {}).items()}
            operations.append((method, template, query, fields))
    return operations


def corpus_for_schema(item: dict) -> list:
    values = list(TEXT[:3] if "enum" in item or item.get("type") == "boolean" else TEXT)
    if item.get("type") in ("integer", "number") or item.get("format") == "decimal":
        values += NUMBERS
    if item.get("format") in ("date", "date-time"):
        values += DATES
    return values


def api_path(template: str, world) -> str:
    """The schema's /api/plans/{id}/ as a real path: the route the resolver has for it."""
    for route in all_routes().values():
        schema_path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.route.replace("<int:pk>", "{id}"))
        if "/" + schema_path == template:
            return path_for(route, world)
    raise AssertionError(f"no route for {template}")


def test_every_api_parameter_takes_the_corpus_without_a_5xx(world):
    client = Client()
    client.force_login(world.users["manager"])
    operations = api_operations(client)
    assert len(operations) > 40
    failures, sent = [], 0
    for method, template, query, body_fields in operations:
        if template == reverse("api-token"):
            continue  # the sign-in endpoint: tests/security/test_odd_input.py
        path = api_path(template, world)
        for name, item in query.items():
            for value in corpus_for_schema(item):
                response = isolated(client, method, path + "?" + _query(name, value), content_type="application/json")
                sent += 1
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {template}?{name}={value[:20]!r}: {response.status_code}")
        for name, item in body_fields.items():
            for value in [*corpus_for_schema(item), *JSON_EXTRA]:
                data = json.dumps({name: value})
                response = isolated(client, method, path, data=data, content_type="application/json")
                sent += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{method.upper()} {template} {{{name}: {str(value)[:20]!r}}}: {response.status_code}"
                    )
    assert failures == []
    assert sent > 400, sent


def _query(name, value) -> str:
    from urllib.parse import urlencode

    return urlencode({name: value})


# What the pages read from their query strings (the queue's filters, the schedule's day, the jobs
# page's job, the audit trail's filters, a page number, a hold kind), all at once.
PAGE_PARAMETERS = (
    "page", "q", "kind", "job", "practice", "day", "days", "sort", "next", "reason", "bucket", "balance_min",
    "balance_max", "user", "action", "object_type", "date_from", "date_to",
)  # fmt: skip


# (A NUL byte in any query string is a 400 before a view runs: tests/security/test_odd_input.py.)
@pytest.mark.parametrize("value", ["x" * 10_000, "\u202e👩🏽‍⚕️²", "9" * 400, "-1", "2026-02-30"])
def test_odd_query_strings_on_every_page_are_never_a_5xx(world, value):
    """Pages read only the parameters they know; any other is ignored, any known one is checked."""
    client = Client()
    client.force_login(world.users["director"])
    for key, route in all_routes().items():
        if route.route.startswith("api/") or key in ("logout",):
            continue
        path = path_for(route, world)
        response = isolated(client, "get", path, data=dict.fromkeys(PAGE_PARAMETERS, value))
        assert response.status_code < 500, (key, value[:20])
