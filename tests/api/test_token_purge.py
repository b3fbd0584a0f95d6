"""The nightly purge of API tokens that stopped working more than API_TOKEN_RETENTION_DAYS ago;
live tokens and recently ended ones stay, and so do the audit rows of purged ones."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core import services
from core.models import ApiToken, AuditEvent
from core.nightly import registered_jobs

pytestmark = pytest.mark.django_db


def _token(user, *, issued_days_ago, name):
    token, _key = services.api_token_issue(user=user, name=name)
    issued = timezone.now() - timedelta(days=issued_days_ago)
    ApiToken.objects.filter(pk=token.pk).update(created_at=issued, expires_at=issued + timedelta(hours=8))
    return ApiToken.objects.get(pk=token.pk)


def test_tokens_ended_past_the_retention_are_deleted_and_the_rest_stay(medium, settings):
    settings.API_TOKEN_RETENTION_DAYS = 90
    old = _token(medium, issued_days_ago=120, name="old")
    recent = _token(medium, issued_days_ago=30, name="recent")
    live, _key = services.api_token_issue(user=medium, name="live")
    assert services.api_tokens_purge(as_of=timezone.localdate()) == 1
    assert set(ApiToken.objects.values_list("name", flat=True)) == {recent.name, live.name}
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_ISSUED, object_id=str(old.pk)).exists()


def test_a_token_revoked_long_ago_is_purged_even_before_it_would_have_expired(medium, settings):
    settings.API_TOKEN_RETENTION_DAYS = 1
    token, _key = services.api_token_issue(user=medium, name="revoked")
    services.api_token_revoke(acting_user=medium, token=token)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now() - timedelta(days=3))
    assert services.api_tokens_purge(as_of=timezone.localdate()) == 1


def test_a_second_purge_for_the_same_date_deletes_nothing(medium):
    _token(medium, issued_days_ago=400, name="old")
    today = timezone.localdate()
    assert services.api_tokens_purge(as_of=today) == 1
    assert services.api_tokens_purge(as_of=today) == 0


def test_the_purge_is_a_registered_nightly_job():
    job = {job.name: job for job in registered_jobs()}["api_token_purge"]
    assert job.description
