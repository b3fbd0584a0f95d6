import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

from core.request_context import RequestContext, current_request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
LAST_ACTIVITY_KEY = "last_activity"


class RequestContextMiddleware:
    """Gives each request an id (kept from X-Request-ID when well-formed) and remembers the client
    address, so audit rows and log lines can be tied to one request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = current_request.set(
            RequestContext(request_id=request_id, client_address=request.META.get("REMOTE_ADDR") or None)
        )
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request_id
        return response


class IdleSessionTimeoutMiddleware:
    """Logs a user out after SESSION_IDLE_TIMEOUT_SECONDS without a request (automatic logoff).

    The last-activity stamp is rewritten at most once a minute to keep session writes cheap.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - int(last) > settings.SESSION_IDLE_TIMEOUT_SECONDS:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{settings.LOGIN_URL_PATH}?timeout=1")
            if last is None or now - int(last) >= 60:
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)
