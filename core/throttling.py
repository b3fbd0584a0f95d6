"""API throttling (REST_FRAMEWORK DEFAULT_THROTTLE_CLASSES). Its own module: DRF imports the
throttle classes while defining APIView, so this may import nothing that imports a view."""

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class ApiUserThrottle(UserRateThrottle):
    """API_REQUESTS_PER_MINUTE per signed-in user, over all their tokens and their session (a second
    token buys no second allowance); per address for the unauthenticated token endpoint. Over it: 429
    with Retry-After and a JSON `detail`. The rate is read per request, not at import (DRF's default
    binds it once), so settings can change it."""

    scope = "user"

    def get_rate(self):
        return f"{settings.API_REQUESTS_PER_MINUTE}/minute"
