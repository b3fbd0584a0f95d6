"""Every URL, walked as every persona and an anonymous visitor: the status each one gets.

The table below is the access policy as the outside world sees it. Every URL pattern the resolver
knows (the API under /api/ too; the admin site has its own test below) has a row, and a URL
without one fails `test_every_url_has_a_row_in_the_table`: add it, with the status each persona
should get. A change of access (a tier let in, a practice's object shown to another practice)
changes a status and fails the walk.

Each row is (GET, POST), and each of those the status for
    (anonymous, low, medium, manager, director, outsider)
Path parameters are real objects of the practice of low, medium and manager (tests/security/world.py);
the outsider, Medium tier in another practice, gets those same paths. A POST has an empty body: the
walk is about who is let in, not what a valid form does (the CSRF, odd-input and double-submit
tests post real forms). Each request runs in a savepoint rolled back after it, so a POST that
cancels the plan or logs out changes nothing for the requests after it.

Read a row as: 302 = sent to sign in (anonymous) or the action's redirect; 401 = the API's answer to
no credentials; 403 = the tier is too low; 404 = not in your practices (or not yours); 405 = not a
method this URL takes; 400 = the empty form or body was refused.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.models import Tier
from tests.factories import StaffUserFactory
from tests.security.world import PARAMETER_VALUES, PERSONAS, all_routes, isolated, path_for

# fmt: off
EXPECTED = {
    # name: ((GET: anon, low, medium, manager, director, outsider), (POST: the same))
    "login": ((200, 302, 302, 302, 302, 302), (200, 302, 302, 302, 302, 302)),
    "logout": ((405, 405, 405, 405, 405, 405), (302, 302, 302, 302, 302, 302)),
    "my-settings": ((302, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200)),
    "search": ((302, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200)),
    "account-ledger": ((302, 403, 200, 200, 200, 404), (302, 403, 200, 200, 200, 404)),
    "account-open-encounters": ((302, 403, 200, 200, 200, 404), (302, 403, 200, 200, 200, 404)),
    "patient-edit": ((302, 200, 200, 200, 200, 404), (302, 200, 200, 200, 200, 404)),
    "plans-panel": ((302, 403, 200, 200, 200, 404), (405, 405, 405, 405, 405, 405)),
    "plan-create": ((405, 405, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "plan-preview": ((405, 405, 405, 405, 405, 405), (302, 403, 200, 200, 200, 404)),
    "plan-detail": ((302, 403, 200, 200, 200, 404), (405, 405, 405, 405, 405, 405)),
    "plan-agreement": ((302, 403, 200, 200, 200, 404), (405, 405, 405, 405, 405, 405)),
    "plan-activate": ((405, 405, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "plan-cancel": ((405, 405, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "plan-modify": ((405, 405, 405, 405, 405, 405), (302, 403, 400, 400, 400, 404)),
    "home": ((302, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200)),
    "queue": ((302, 403, 200, 200, 200, 200), (302, 403, 200, 200, 200, 200)),
    "queue-next": ((405, 405, 405, 405, 405, 405), (302, 403, 302, 302, 302, 302)),
    "queue-release": ((405, 405, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "queue-claim-extend": ((405, 405, 405, 405, 405, 405), (302, 403, 200, 200, 200, 404)),
    "queue-reassign": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "queue-team": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 200, 200, 403)),
    "queue-team-rep": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 200, 200, 403)),
    "queue-team-pool": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 200, 200, 403)),
    "queue-assignments": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 200, 200, 403)),
    "queue-assignment-delete": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "account-detail": ((302, 200, 200, 200, 200, 404), (302, 200, 200, 200, 200, 404)),
    "account-refresh": ((302, 403, 200, 200, 200, 404), (302, 403, 405, 405, 405, 405)),
    "account-timeline": ((302, 403, 200, 200, 200, 404), (302, 403, 200, 200, 200, 404)),
    "schedule": ((302, 200, 200, 200, 200, 200), (302, 200, 200, 200, 200, 200)),
    "contacts-panel": ((302, 403, 200, 200, 200, 404), (302, 403, 405, 405, 405, 405)),
    "contacts-log": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "contacts-payment": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "contacts-follow-up": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "contacts-note": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "contacts-flags": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "contacts-consent": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "contacts-consent-revoke": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "holds-panel": ((302, 403, 200, 200, 200, 404), (302, 403, 405, 405, 405, 405)),
    "hold-kind-fields": ((302, 403, 200, 200, 200, 404), (302, 403, 405, 405, 405, 405)),
    "hold-place": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "hold-release": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "hold-status-check": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "hold-letter-attach": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "hold-letter": ((302, 403, 200, 200, 200, 404), (302, 403, 405, 405, 405, 405)),
    "correspondence-panel": ((302, 403, 200, 200, 200, 404), (302, 403, 405, 405, 405, 405)),
    "returned-mail-record": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "address-correct": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "guarantor-address-correct": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "returned-mail-resolve": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "inquiry-open": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "inquiry-respond": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "jobs": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 200, 200, 403)),
    "jobs-run-now": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "jobs-run-progress": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 200, 200, 403)),
    "audit-log": ((302, 403, 403, 403, 200, 403), (302, 403, 403, 403, 405, 403)),
    "reports": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 405, 405, 403)),
    "report": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 405, 405, 403)),
    "api-report-list": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-report": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-schema": ((401, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405)),
    "api-docs": ((302, 200, 200, 200, 200, 200), (302, 405, 405, 405, 405, 405)),
    "api-token": ((405, 405, 405, 405, 405, 405), (400, 400, 400, 400, 400, 400)),
    "api-token-list": ((401, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405)),
    "api-token-revoke": ((401, 405, 405, 405, 405, 405), (401, 404, 200, 404, 404, 404)),
    "api-practice-list": ((401, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405)),
    "api-practice-detail": ((401, 200, 200, 200, 200, 404), (401, 405, 405, 405, 405, 405)),
    "api-patient-list": ((401, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405)),
    "api-patient-search": ((401, 405, 405, 405, 405, 405), (401, 200, 200, 200, 200, 200)),
    "api-patient-detail": ((401, 200, 200, 200, 200, 404), (401, 405, 405, 405, 405, 405)),
    "api-account-list": ((401, 200, 200, 200, 200, 200), (401, 405, 405, 405, 405, 405)),
    "api-account-search": ((401, 405, 405, 405, 405, 405), (401, 200, 200, 200, 200, 200)),
    "api-account-detail": ((401, 200, 200, 200, 200, 404), (401, 405, 405, 405, 405, 405)),
    "api-account-ledger": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-transaction-detail": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-transaction-reverse": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 400, 400, 403)),
    "api-queue": ((401, 403, 200, 200, 200, 200), (401, 403, 405, 405, 405, 405)),
    "api-queue-next": ((401, 403, 405, 405, 405, 405), (401, 403, 200, 200, 200, 404)),
    "api-queue-reassign": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 400, 400, 403)),
    "api-queue-release": ((401, 403, 405, 405, 405, 405), (401, 403, 200, 200, 200, 404)),
    "api-account-contacts": ((401, 403, 200, 200, 200, 404), (401, 403, 400, 400, 400, 404)),
    "api-account-contact-decision": ((401, 403, 400, 400, 400, 404), (401, 403, 405, 405, 405, 405)),
    "api-account-promises": ((401, 403, 200, 200, 200, 404), (401, 403, 400, 400, 400, 404)),
    "api-promise-detail": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-contact-detail": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-account-payments": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-account-follow-up": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-account-notes": ((401, 403, 200, 200, 200, 404), (401, 403, 400, 400, 400, 404)),
    "api-account-flags": ((401, 403, 200, 200, 200, 404), (401, 403, 200, 200, 200, 404)),
    "api-account-consents": ((401, 403, 200, 200, 200, 404), (401, 403, 400, 400, 400, 404)),
    "api-account-consent-revoke": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-account-holds": ((401, 403, 200, 200, 200, 404), (401, 403, 400, 400, 400, 404)),
    "api-hold-detail": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-hold-release": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-hold-status-check": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-account-returned-mail": ((401, 403, 200, 200, 200, 404), (401, 403, 400, 400, 400, 404)),
    "api-returned-mail-resolve": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-patient-address": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-account-guarantor-address": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-account-inquiries": ((401, 403, 200, 200, 200, 404), (401, 403, 400, 400, 400, 404)),
    "api-inquiry-respond": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-job-runs": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-jobs": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-job-run": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-account-plans": ((401, 403, 200, 200, 200, 404), (401, 403, 400, 400, 400, 404)),
    "api-plan-detail": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-plan-activate": ((401, 403, 405, 405, 405, 405), (401, 403, 200, 200, 200, 404)),
    "api-plan-cancel": ((401, 403, 405, 405, 405, 405), (401, 403, 200, 200, 200, 404)),
    "api-plan-modify": ((401, 403, 405, 405, 405, 405), (401, 403, 400, 400, 400, 404)),
    "api-writeoffs": ((401, 403, 200, 200, 200, 200), (401, 403, 400, 400, 400, 400)),
    "api-writeoff-detail": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-writeoff-approve": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 200, 200, 403)),
    "api-writeoff-deny": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 400, 400, 403)),
    "api-writeoff-reverse": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 400, 400, 403)),
    "api-writeoff-bulk-approve": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 400, 400, 403)),
    "api-small-balance-runs": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-small-balance-run": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-small-balance-run-approve": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 200, 200, 403)),
    "api-small-balance-run-discard": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 400, 400, 403)),
    "writeoffs-panel": ((302, 403, 200, 200, 200, 404), (405, 405, 405, 405, 405, 405)),
    "writeoff-propose": ((405, 405, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "writeoff-approvals": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "agency-list": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "agency-candidates": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "agency-placement-preview": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "agency-placement-confirm": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "agency-batches": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "agency-batch-detail": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "agency-placements-recall": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "agency-recall-file": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "agency-direct-payments-file": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "agency-file-download": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "agency-payments": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 400, 400, 403)),
    "account-placements": ((302, 403, 200, 200, 200, 404), (405, 405, 405, 405, 405, 405)),
    "api-agency-list": ((401, 403, 200, 200, 200, 200), (401, 403, 403, 400, 400, 403)),
    "api-placement-candidates": ((401, 403, 200, 200, 200, 200), (401, 403, 405, 405, 405, 405)),
    "api-placement-create": ((401, 403, 200, 200, 200, 200), (401, 403, 403, 400, 400, 403)),
    "api-placement-detail": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-placement-batches": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-placement-batch-detail": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-placement-recall": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 200, 200, 403)),
    "api-agency-payments": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 400, 400, 403)),
    "api-agency-file": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "import-uploads": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 400, 400, 403)),
    "import-upload-detail": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "import-upload-progress": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "import-csv-template": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "import-unmatched": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "import-unmatched-resolve": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 200, 200, 403)),
    "api-import-unmatched-list": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-import-unmatched-detail": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-import-unmatched-resolve": ((401, 403, 403, 405, 405, 403), (401, 403, 403, 400, 400, 403)),
    "api-import-list": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 400, 400, 403)),
    "api-import-detail": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "agency-setup": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "agency-new": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 400, 400, 403)),
    "agency-edit": ((302, 403, 403, 200, 200, 403), (302, 403, 403, 400, 400, 403)),
    "agency-active": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "api-agency-detail": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "writeoff-approvals-preview": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "writeoff-approvals-confirm": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "writeoff-detail": ((302, 403, 200, 200, 200, 404), (405, 405, 405, 405, 405, 405)),
    "writeoff-approve": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "writeoff-deny": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "writeoff-reverse": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "small-balance-run-approve": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "small-balance-run-discard": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "statements-panel": ((302, 403, 200, 200, 200, 404), (302, 403, 405, 405, 405, 405)),
    "letter-print": ((302, 403, 405, 405, 405, 405), (302, 403, 302, 302, 302, 404)),
    "statement-pdf": ((302, 403, 200, 200, 200, 404), (302, 403, 405, 405, 405, 405)),
    "api-account-statements": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-statement-pdf": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-statement-detail": ((401, 403, 200, 200, 200, 404), (401, 403, 405, 405, 405, 405)),
    "api-statement-batches": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "api-statement-batch-detail": ((401, 403, 403, 200, 200, 403), (401, 403, 403, 405, 405, 403)),
    "statement-batches": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "statement-batch-detail": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "statement-batch-print-file": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "statement-batch-progress": ((302, 403, 403, 200, 200, 403), (405, 405, 405, 405, 405, 405)),
    "statement-batch-retry": ((405, 405, 405, 405, 405, 405), (302, 403, 403, 302, 302, 403)),
    "healthz": ((200, 200, 200, 200, 200, 200), (405, 405, 405, 405, 405, 405)),
    "favicon.ico": ((301, 301, 301, 301, 301, 301), (301, 301, 301, 301, 301, 301)),
}
# fmt: on

# Public: no sign-in needed, no PHI (core.access: `public = True`), or nothing per user.
PUBLIC = {"login", "logout", "api-token", "healthz", "favicon.ico"}


def walk(client, world, keys):
    """{key: (GET status, POST status)} for the URLs named, with the Location of any redirect."""
    routes = all_routes()
    statuses, locations = {}, {}
    for key in keys:
        path = path_for(routes[key], world)
        got = isolated(client, "get", path), isolated(client, "post", path)
        statuses[key] = tuple(response.status_code for response in got)
        locations[key] = tuple(response.get("Location", "") for response in got)
    return statuses, locations


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def row(statuses: dict[str, tuple[int, int]]) -> str:
    get = ", ".join(str(statuses[persona][0]) for persona in PERSONAS)
    post = ", ".join(str(statuses[persona][1]) for persona in PERSONAS)
    return f"(({get}), ({post}))"


def test_every_url_has_a_row_in_the_table(world):
    routes = all_routes()
    missing = sorted(set(routes) - set(EXPECTED))
    if missing:
        # What each persona gets now, as rows to review and paste into EXPECTED.
        found = {persona: walk(client_for(world.users[persona]), world, missing)[0] for persona in PERSONAS}
        rows = [f'"{key}": {row({p: found[p][key] for p in PERSONAS})},' for key in missing]
        pytest.fail("URLs without a row in EXPECTED; add them to the table:\n" + "\n".join(rows))
    assert sorted(set(EXPECTED) - set(routes)) == [], "rows for URLs that no longer exist"
    assert len(routes) > 90  # the walk really found the site, the API included
    assert any(route.route.startswith("api/") for route in routes.values())


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_url_answers_each_persona_as_the_table_says(world, persona):
    column = PERSONAS.index(persona)
    statuses, _ = walk(client_for(world.users[persona]), world, EXPECTED)
    wrong = []
    for key, (get, post) in EXPECTED.items():
        expected = (get[column], post[column])
        if statuses[key] != expected:
            wrong.append(f"{key}: expected GET/POST {expected}, got {statuses[key]}")
    assert wrong == [], f"{persona}:\n" + "\n".join(wrong)


def test_anonymous_visitors_are_sent_to_sign_in_and_the_api_answers_401(world):
    statuses, locations = walk(Client(), world, sorted(set(EXPECTED) - PUBLIC))
    login = reverse("login")
    for key, (get, post) in statuses.items():
        path = path_for(all_routes()[key], world)
        if path.startswith("/api/") and key != "api-docs":  # the docs are a page for a person
            assert (get, post) == (401, 401), key
            continue
        for method, status, location in zip(("GET", "POST"), (get, post), locations[key], strict=True):
            # A 405 before the sign-in check is fine: the method is refused whoever asks.
            assert status in (302, 405), (key, method, status)
            if status == 302:
                assert location.startswith(f"{login}?next="), (key, method, location)
    assert any(status == (302, 302) for status in statuses.values())


# Job runs are global (one per job and date, counts only, no PHI), on the jobs page and in the API.
GLOBAL_JOB_RUN_ROUTES = {"jobs-run-progress", "api-job-run"}


@pytest.fixture
def south_manager(other_practice):
    """A manager of the other practice: the management pages let them past the tier check, so only
    the practice scope stands between them and the first practice's objects."""
    return StaffUserFactory(username="south-manager", tier=Tier.MANAGEMENT, practices=[other_practice])


def test_no_one_outside_the_practice_gets_its_objects(world, south_manager):
    """Every URL that names an object (an account, plan, hold, letter, rep, token...) of the first
    practice refuses the other practice's users, whatever the method: never a 200 or a redirect."""
    # Job runs are global (one per job and date, counts only, no PHI): collections_app/nightly/views.py.
    # A report's slug names a report, not an object: the south manager runs it on their own practice.
    with_objects = [
        key
        for key, route in all_routes().items()
        if route.params and key not in GLOBAL_JOB_RUN_ROUTES and not set(route.params) <= set(PARAMETER_VALUES)
    ]
    assert len(with_objects) > 60
    for user in (world.users["outsider"], south_manager):
        statuses, _ = walk(client_for(user), world, with_objects)
        leaked = {key: status for key, status in statuses.items() if not set(status) <= {403, 404, 405}}
        assert leaked == {}, user.username
        # Not just refused everything: the tier lets the manager in, so the scope says 404.
        assert statuses["queue-team-rep"][0] == (404 if user == south_manager else 403)
        assert statuses["account-detail"][0] == 404


# --- the admin site ------------------------------------------------------------------------------


OBJECT_PATTERNS = (
    "<path:object_id>/",
    "<path:object_id>/change/",
    "<path:object_id>/history/",
    "<path:object_id>/delete/",
)


def admin_paths(world):
    """Every URL of the admin site, an object's URLs filled with a real row of that model."""
    from django.contrib import admin

    site = next(entry for entry in get_resolver().url_patterns if getattr(entry, "namespace", None) == "admin")
    objects = {}
    for model in admin.site._registry:
        first = model._default_manager.order_by("pk").first()
        objects[(model._meta.app_label, model._meta.model_name)] = first.pk if first else 999999

    def collect(patterns, prefix, model_key):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                parts = [p for p in str(entry.pattern).split("/") if p]
                key = (parts[0], parts[1]) if len(parts) == 2 and not prefix else model_key
                yield from collect(entry.url_patterns, prefix + str(entry.pattern), key)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if "<" not in route and "(?P" not in route and "^" not in route:
                    yield entry.name, "/admin/" + route
                elif str(entry.pattern) in OBJECT_PATTERNS and model_key in objects:
                    yield entry.name, "/admin/" + route.replace("<path:object_id>", str(objects[model_key]))

    return list(collect(site.url_patterns, "", None))


def test_the_admin_site_is_for_directors_only(world):
    paths = admin_paths(world)
    assert len(paths) > 30, paths  # every registered model's list, add, change, history, delete
    director = client_for(world.users["director"])
    for name, path in paths:
        response = isolated(director, "get", path)
        assert response.status_code < 500, (name, path)
        if (name or "").endswith("_changelist") or name == "index":
            assert response.status_code == 200, (name, path)
    for persona in ("anon", "low", "medium", "manager", "outsider"):
        client = client_for(world.users[persona])
        for name, path in paths:
            status = isolated(client, "get", path).status_code
            # Anonymous visitors are sent to sign in; staff below Director are refused.
            assert status == (302 if persona == "anon" else 403), (persona, name, path, status)
