"""CSRF: every POST without a token is refused (403) and changes nothing, pages and the session-
signed-in API alike; the same POST with the token goes through.

The forms are the ones the pages render, filled as a person would (tests/security/forms_on_pages.py);
every other POST URL of the walk (the API's, and a page's POST a form in this world does not show)
gets the body of its form if there is one, else an empty one: the token is checked before the body.
"""

import hashlib

from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import resolve, reverse

from tests.security.forms_on_pages import discover_forms, forms_in
from tests.security.test_odd_input_corpus import valid
from tests.security.test_url_walk import EXPECTED, PUBLIC
from tests.security.world import PERSONAS, all_routes, isolated, path_for

# Checked elsewhere: the token endpoint takes a password, not a session (DRF exempts it by design);
# the API with a token instead of a session is not CSRF-prone (no cookie a browser would send).
NO_SESSION = {"api-token"}
APPS = ("accounts", "core", "collections_app", "payment_plans", "reports")


def snapshot() -> str:
    """Every row of every table of the project's apps: any change at all changes the digest."""
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label in APPS:
            for row in model._default_manager.order_by("pk").values_list():
                digest.update(repr(row).encode())
    return digest.hexdigest()


def post_urls() -> dict[str, str]:
    """URL name -> the persona who may POST there (the first, by tier, the table lets past access)."""
    chosen = {}
    for key, (_, post) in EXPECTED.items():
        for persona in ("medium", "manager", "director", "anon"):
            if persona == "anon" and key not in PUBLIC:
                continue  # an anonymous POST elsewhere is sent to sign in
            if post[PERSONAS.index(persona)] not in (403, 404, 405, 401):
                chosen[key] = persona
                break
    return chosen


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get(reverse("login") if user is None else reverse("home"))  # sets the CSRF cookie
    assert settings.CSRF_COOKIE_NAME in client.cookies
    return client


def test_every_post_without_a_token_is_refused_and_changes_nothing(world):
    manager = Client()
    manager.force_login(world.users["manager"])
    forms = discover_forms(manager, world)
    forms.update({f.key: f for f in forms_in(Client().get(reverse("login")).content.decode(), "/login/")})
    bodies = {resolve(form.action).url_name: form for form in forms.values() if form.method == "post"}
    routes = all_routes()
    targets = post_urls()
    assert len(targets) > 60
    clients = {persona: signed_in(world.users[persona]) for persona in set(targets.values())}
    checked, with_form = 0, 0
    for key, persona in sorted(targets.items()):
        if key in NO_SESSION:
            continue
        client = clients[persona]
        path = path_for(routes[key], world)
        form = bodies.get(key)
        body = form.body(**valid(world).get(key, {})) if form else {}
        with_form += form is not None
        is_api = path.startswith("/api/")
        before = snapshot()
        refused = isolated(client, "post", path, data=body, **({"HTTP_HX_REQUEST": "true"} if not is_api else {}))
        assert refused.status_code == 403, (key, refused.status_code)
        reason = refused.json()["detail"] if is_api else refused.content.decode()
        assert "CSRF" in reason, (key, reason[:200])
        assert snapshot() == before, f"{key}: a POST without a token changed the database"
        # The same request with the token is not refused: the 403 above was the missing token.
        token = client.cookies[settings.CSRF_COOKIE_NAME].value
        allowed = isolated(client, "post", path, data=body, HTTP_X_CSRFTOKEN=token)
        assert allowed.status_code != 403, (key, allowed.status_code)
        checked += 1
    assert checked > 60 and with_form > 25


def test_a_token_from_another_session_is_refused(world):
    """The token is tied to the session's cookie: one copied from another browser does not pass."""
    theirs = signed_in(world.users["medium"])
    mine = signed_in(world.users["medium"])
    mine.cookies[settings.CSRF_COOKIE_NAME] = "a" * 32
    path = reverse("contacts-note", args=[world.account.pk])
    before = snapshot()
    response = mine.post(
        path, {"note-body": "Sent from elsewhere."}, HTTP_X_CSRFTOKEN=theirs.cookies[settings.CSRF_COOKIE_NAME].value
    )
    assert response.status_code == 403
    assert snapshot() == before
