"""Every GET of the API, on real records (the security walk's world: an account with its ledger,
plan, hold, returned mail, inquiry, write-off, statement, agency placement, import, job run) and
every report, as each tier and another practice's user: each answer's status, content type and
body are what the schema documents. The fuzzing in tests/security/test_api_schema_fuzz.py draws
ids at random, so most of its lookups find nothing; this one finds something at every path."""

import json
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

import reports.catalog  # noqa: F401  (registers every report)
from collections_app import models as collections_models
from collections_app.models import AccountHold
from config.wsgi import application
from core.services import api_token_issue
from reports.framework import REGISTRY
from reports.models import Statement
from tests.security.world import PARAMETER_OBJECTS, PARAMETER_VALUES, PK_OBJECTS, all_routes, build_world

pytestmark = pytest.mark.django_db

TIERS = ("low", "medium", "manager", "director", "outsider")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _schema():
    raw = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application
    return loaded


SCHEMA = _schema()


def _openapi_path(route: str) -> str:
    # Django's "api/accounts/<int:pk>/ledger/" is the schema's "/api/accounts/{id}/ledger/".
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + ("id" if m[1] == "pk" else m[1]) + "}", route)


def _get_routes():
    routes = []
    for route in all_routes().values():
        if not route.route.startswith("api/") or route.name in ("api-schema", "api-docs"):
            continue
        path = _openapi_path(route.route)
        try:
            SCHEMA[path]["GET"]
        except LookupError:  # no such path, or no GET on it
            continue
        routes.append(route)
    return routes


GET_ROUTES = _get_routes()


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """As in the fuzz test: the WSGI application would close the test's database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(account, personas, practice, other_practice, tmp_path, settings, monkeypatch):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    monkeypatch.setattr(AccountHold._meta.get_field("lop_letter"), "storage", collections_models.private_storage())
    monkeypatch.setattr(Statement._meta.get_field("document"), "storage", collections_models.private_storage())
    return build_world(account=account, personas=personas, practice=practice, other_practice=other_practice)


@pytest.fixture
def tokens(world, personas):
    return {name: api_token_issue(user=personas[name], name="conformance")[1] for name in TIERS}


def _path_parameters(route, world) -> dict:
    values = {}
    for parameter in route.params:
        if parameter in PARAMETER_VALUES:
            value = PARAMETER_VALUES[parameter]
        else:
            kind = PK_OBJECTS.get(route.key, "account") if parameter == "pk" else PARAMETER_OBJECTS[parameter]
            value = getattr(world, kind).pk
        values["id" if parameter == "pk" else parameter] = value
    return values


def _check(operation, tokens, **case_kwargs):
    failures = []
    for name in TIERS:
        case = operation.Case(**case_kwargs)
        response = case.call(headers={"Authorization": f"Token {tokens[name]}"})
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as failure:  # schemathesis raises a group of failures
            failures.append(f"{name}: {response.status_code}: {failure}")
    assert failures == []


@pytest.mark.parametrize("route", GET_ROUTES, ids=lambda route: route.key)
def test_every_get_on_real_records_answers_as_documented(route, world, tokens):
    operation = SCHEMA[_openapi_path(route.route)]["GET"]
    _check(operation, tokens, path_parameters=_path_parameters(route, world), query={})


@pytest.mark.parametrize("slug", sorted(REGISTRY))
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_every_report_answers_as_documented(slug, fmt, world, tokens):
    operation = SCHEMA["/api/reports/{slug}/"]["GET"]
    _check(operation, tokens, path_parameters={"slug": slug}, query={"format": fmt})
