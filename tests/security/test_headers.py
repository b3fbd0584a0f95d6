"""Headers on PHI responses: nothing a signed-in user receives may be cached, and every response
carries the Content-Security-Policy, Permissions-Policy and Referrer-Policy (README, "Security")."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from tests.collections_app.test_access_policy import _is_public, _walk
from tests.factories import PASSWORD

HTMX = {"HTTP_HX_REQUEST": "true"}
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def cache_directives(response) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in response.get("Cache-Control", "").split(",")}


def assert_not_stored(response, what):
    assert "no-store" in cache_directives(response), f"{what}: Cache-Control {response.get('Cache-Control')!r}"
    assert response.get("Pragma") == "no-cache", what


def assert_security_headers(response, what):
    assert response["Content-Security-Policy"] == POLICY, what
    assert "camera=()" in response["Permissions-Policy"], what
    assert response["Referrer-Policy"] == "same-origin", what
    assert response["X-Content-Type-Options"] == "nosniff", what
    assert response["X-Frame-Options"] == "DENY", what


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


class InlineCode(HTMLParser):
    """What the policy would refuse in a page: inline script or style, handler attributes, hx-on."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name in names:
            if name == "style" or name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=...>")


def inline_code(response) -> list[str]:
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser.found


@pytest.fixture
def plan(account, medium):
    from payment_plans import services

    return services.plan_create(acting_user=medium, account_id=account.pk, installment_count=4, activate=True)


def representative(account, plan):
    """(path, htmx?) for a rep: pages, the account page's fragments, the API, the agreement PDF."""
    pk = account.pk
    return [
        ("/", False),
        (reverse("search"), False),
        (reverse("schedule"), False),
        (reverse("queue"), False),
        (reverse("account-detail", args=[pk]), False),
        (reverse("account-refresh", args=[pk]), True),
        (reverse("contacts-panel", args=[pk]), True),
        (reverse("holds-panel", args=[pk]), True),
        (reverse("correspondence-panel", args=[pk]), True),
        (reverse("plans-panel", args=[pk]), True),
        (reverse("account-timeline", args=[pk]), True),
        (reverse("account-open-encounters", args=[pk]), True),
        (reverse("account-ledger", args=[pk]), False),
        (reverse("patient-edit", args=[account.patient_id]), False),
        (reverse("plan-detail", args=[plan.pk]), False),
        (reverse("plan-agreement", args=[plan.pk]), False),
        (reverse("api-account-detail", args=[pk]), False),
        (reverse("api-account-ledger", args=[pk]), False),
        (reverse("api-account-list"), False),
        (reverse("api-account-contacts", args=[pk]), False),
    ]


# --- No-store ---------------------------------------------------------------------------------------


def test_every_response_to_a_signed_in_rep_says_no_store(client, medium, account, plan):
    client.force_login(medium)
    for path, htmx in representative(account, plan):
        response = client.get(path, **(HTMX if htmx else {}))
        assert response.status_code == 200, path
        assert_not_stored(response, path)
    pdf = client.get(reverse("plan-agreement", args=[plan.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert_not_stored(pdf, "agreement PDF")


def test_the_audit_trail_the_docs_and_the_schema_say_no_store(client, director):
    client.force_login(director)
    for name in ("audit-log", "jobs", "api-docs", "api-schema", "api-job-runs", "admin:index"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert_not_stored(response, name)


def test_every_route_answers_a_signed_in_director_with_no_store(client, director, account):
    """Whatever the answer (a page, a 404, a 405 to a GET of a form's target), nothing is stored."""
    client.force_login(director)
    walked = 0
    for route, name, callback in _walk(get_resolver().url_patterns):
        if name == "admin" or _is_public(callback):
            continue
        path = "/" + route.replace("<int:pk>", str(account.pk)).replace("<int:rep_id>", str(director.pk))
        path = path.replace("<int:hold_pk>", "1").replace("<int:mail_pk>", "1").replace("<int:inquiry_pk>", "1")
        if "<" in path:
            continue
        for extra in ({}, HTMX):
            assert_not_stored(client.get(path, **extra), path)
        walked += 1
    assert walked > 60  # the walk really covered the site


def test_an_api_token_user_gets_no_store(medium, account):
    issued = APIClient().post(
        reverse("api-token"), {"username": "medium", "password": PASSWORD, "name": "headers-test"}, format="json"
    )
    assert issued.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.json()['token']}")
    response = client.get(reverse("api-account-detail", args=[account.pk]))
    assert response.status_code == 200
    assert_not_stored(response, "token-authenticated API")


def test_a_view_that_already_says_no_store_keeps_its_own_header(client, medium, plan):
    client.force_login(medium)
    response = client.get(reverse("plan-agreement", args=[plan.pk]))
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_the_sign_in_page_is_served_as_before(client, db):
    """Anonymous: the sign-in page keeps Django's own headers (LoginView is never_cache) and no PHI."""
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Pragma" not in response
    assert_security_headers(response, "login")


def test_static_files_keep_their_cache_lifetime_for_a_signed_in_user(client, medium, settings):
    """WhiteNoise answers static files before the session is read, so no-store never reaches them."""
    settings.WHITENOISE_USE_FINDERS = True  # tests run without collectstatic; read when the client starts
    client.force_login(medium)
    response = client.get(static("css/app.css"))
    assert response.status_code == 200
    assert "no-store" not in cache_directives(response)
    assert response["Content-Security-Policy"] == POLICY  # an SVG is a document: static files get the policy too


# --- CSP, Permissions-Policy, Referrer-Policy ------------------------------------------------------


def test_every_html_response_carries_the_policy_headers_and_no_inline_code(client, medium, account, plan):
    client.force_login(medium)
    html = 0
    for path, htmx in representative(account, plan):
        response = client.get(path, **(HTMX if htmx else {}), HTTP_ACCEPT="text/html")
        assert_security_headers(response, path)
        if is_html(response):
            html += 1
            assert inline_code(response) == [], path
    assert html > 10


def test_the_api_docs_and_the_admin_run_under_the_same_strict_policy(client, director):
    """Swagger UI's own template inlines its start-up script and page style; ours
    (templates/drf_spectacular/swagger_ui.html) moves them to static files, so no relaxed policy."""
    client.force_login(director)
    for path in (reverse("api-docs"), reverse("api-account-list") + "?format=api", reverse("admin:index")):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert is_html(response), path
        assert_security_headers(response, path)
        assert inline_code(response) == [], path


def test_error_pages_carry_the_policy_and_no_inline_code(client, medium):
    client.force_login(medium)
    missing = client.get("/accounts/999999/")
    assert missing.status_code == 404
    assert_security_headers(missing, "404")
    assert_not_stored(missing, "404")
    assert inline_code(missing) == []


def test_the_500_page_has_no_inline_code():
    parser = InlineCode()
    parser.feed((Path(settings.BASE_DIR) / "templates" / "500.html").read_text())
    assert parser.found == []


# Served as a PDF by WeasyPrint, never as a page.
NOT_SERVED_AS_HTML = {"payment_plans/agreement_pdf.html", "reports/report_pdf.html"}
# htmx features that evaluate strings as script (refused with allowEval off), and javascript: URLs.
EVAL = {
    "hx-trigger filter": re.compile(r'hx-trigger="[^"]*\['),
    "hx-vals js:": re.compile(r"""hx-vals=['"]\s*js:"""),
    "hx-vars": re.compile(r"hx-vars"),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_no_template_has_inline_script_style_handlers_or_eval():
    root = Path(settings.BASE_DIR) / "templates"
    offending = []
    for template in sorted(root.rglob("*.html")):
        name = template.relative_to(root).as_posix()
        if name in NOT_SERVED_AS_HTML:
            continue
        text = template.read_text()
        parser = InlineCode()
        parser.feed(text)
        offending += [f"{name}: {found}" for found in parser.found]
        offending += [f"{name}: {what}" for what, pattern in EVAL.items() if pattern.search(text)]
    assert offending == []


def test_htmx_is_configured_without_eval_inline_styles_or_a_history_cache(client, medium):
    client.force_login(medium)
    body = client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in body
    assert '"allowEval": false' in body
    assert '"historyCacheSize": 0' in body
