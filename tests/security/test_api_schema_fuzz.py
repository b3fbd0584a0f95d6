"""schemathesis against the API's own OpenAPI schema, bounded: every operation, examples generated
from the schema (valid and invalid), sent with a token of each tier and of another practice's rep.
No answer may be a server error, and every answer must be one the schema documents: its status
code, its content type and its body (the error bodies too: Error and FieldErrors). Path ids are
drawn by schemathesis, so most name no account; the fixture's account (id 1 upward) and its ledger
give the lookups something real to find.

The bound: a few examples per operation and tier keeps this to a minute or two on SQLite and
PostgreSQL; it runs in `make test` with the rest of the suite."""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.selectors import practice_today
from config.wsgi import application
from core.services import api_token_issue
from imports.services import unmatched_claim_resolve
from tests.conftest import post_visit
from tests.factories import PatientAccountFactory
from tests.security.world import waiting_unmatched_claim

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 8
TIERS = ("low", "medium", "manager", "director", "outsider")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """The WSGI application closes the database connection at each request's end; the test's
    transaction needs it. Django's test client disconnects the same handler for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(personas, practice):
    account = PatientAccountFactory(practice=practice)
    post_visit(account)
    # A remittance claim waiting on the review list (id 1 upward too), and another resolved.
    waiting_unmatched_claim(practice, practice_today(practice))
    resolved = waiting_unmatched_claim(practice, practice_today(practice), trace="EFT2")
    unmatched_claim_resolve(acting_user=personas["manager"], unmatched_id=resolved.pk, note="Not our patient")
    return {name: api_token_issue(user=personas[name], name="schemathesis")[1] for name in TIERS}


def _api_schema():
    """The schema /api/schema/ serves, generated in-process (no database needed), called through
    the WSGI application in the test's own transaction."""
    raw = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application
    # The coverage phase sends every boundary case of every parameter (hundreds per operation):
    # the bounded fuzzing phase below is what fits in the suite's time.
    loaded.config.phases.coverage.enabled = False
    return loaded


schema = _api_schema()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_is_documented_for_every_tier(case, tokens):
    for name in TIERS:
        response = case.call(headers={"Authorization": f"Token {tokens[name]}"})
        assert response.status_code < 500, (
            f"{name}: {case.method} {case.formatted_path} answered {response.status_code}"
        )
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as failure:
            raise AssertionError(f"{name}: {case.method} {case.formatted_path}: {failure}") from failure
