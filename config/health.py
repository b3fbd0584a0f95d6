"""/healthz: is the database (and Redis, when configured) answering? For load balancers and compose.

Public on purpose and free of PHI: it names the components and "ok" or the kind of failure, never
a host, a password or a row. Settings are read at call time so a test can point REDIS_URL elsewhere.
"""

import logging

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 2


def _database() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        logger.warning("health: database check failed: %s", type(error).__name__)
        return "unavailable"
    return "ok"


def _redis() -> str:
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return "not configured"
    import redis

    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:
        logger.warning("health: redis check failed: %s", type(error).__name__)
        return "unavailable"
    return "ok"


@never_cache
@require_safe
def healthz(request):
    checks = {"database": _database(), "redis": _redis()}
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


healthz.public = True  # no login: load balancers and `docker compose` health checks call it
