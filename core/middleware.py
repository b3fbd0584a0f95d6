import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.core.cache import cache
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers

from core import display
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


class UserTimeZoneMiddleware:
    """Keeps the request's user for core.display, so times follow the zone they chose (My settings).
    The user stays lazy: nothing is loaded until a page writes a time. After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = display.current_user.set(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            display.current_user.reset(token)


MESSAGE_NUL = "The address holds a character that cannot be used (NUL)."


class RefuseNulBytesMiddleware:
    """A NUL byte in the query string is never meaningful, and PostgreSQL refuses it in a text
    parameter (admin list filters pass query values straight to the database): answer 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        named = [name for name, values in request.GET.lists() if any("\x00" in value for value in values)]
        if named:
            if request.path.startswith("/api/"):
                # The API's 400 shape (FieldErrors), naming the parameters.
                return JsonResponse({name: [MESSAGE_NUL] for name in named}, status=400)
            return HttpResponseBadRequest(MESSAGE_NUL)
        return self.get_response(request)


class IdleSessionTimeoutMiddleware:
    """Logs a user out after SESSION_IDLE_TIMEOUT_SECONDS without a request (automatic logoff),
    to the second.

    Every signed-in request writes its time to the cache (Redis in production: shared by every
    worker, no database write); the session keeps a copy rewritten at most once a minute, which
    stands in only if the cache lost the key. So the limit counts from the last request, and a page
    costs no extra query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            cache_key = f"last-activity:{request.session.session_key}" if request.session.session_key else None
            stamps = [request.session.get(LAST_ACTIVITY_KEY), cache.get(cache_key) if cache_key else None]
            stamps = [int(stamp) for stamp in stamps if stamp is not None]
            last = max(stamps) if stamps else None
            if last is not None and now - last > settings.SESSION_IDLE_TIMEOUT_SECONDS:
                logout(request)
                if cache_key:
                    cache.delete(cache_key)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{settings.LOGIN_URL_PATH}?timeout=1")
            if cache_key:
                cache.set(cache_key, now, timeout=settings.SESSION_IDLE_TIMEOUT_SECONDS + 60)
            session_stamp = request.session.get(LAST_ACTIVITY_KEY)
            if session_stamp is None or now - int(session_stamp) >= 60:
                request.session[LAST_ACTIVITY_KEY] = now
                # The stored session (a remembered search holds PHI) expires a minute after the
                # idle limit, not hours later: the limit itself is enforced above, to the second.
                request.session.set_expiry(settings.SESSION_IDLE_TIMEOUT_SECONDS + 60)
        return self.get_response(request)


def build_policy(config):
    """A header value from a {directive: sources} mapping, in the shape of Django 6.0's SECURE_CSP:
    a list (or a single string) of sources, True for a directive without sources, None or False to
    leave the directive out."""
    parts = []
    for directive, sources in config.items():
        if sources is None or sources is False:
            continue
        if sources is True:
            parts.append(directive)
            continue
        if isinstance(sources, str):
            sources = [sources]
        parts.append(" ".join([directive, *sources]))
    return "; ".join(parts)


def build_permissions_policy(config):
    """`camera=(), geolocation=(self)` from {"camera": [], "geolocation": ["self"]}."""
    return ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in config.items())


class SecurityHeadersMiddleware:
    """Sets Content-Security-Policy (settings.SECURE_CSP) and Permissions-Policy
    (settings.PERMISSIONS_POLICY) on every response that does not set them itself.

    Django 5.2 has no CSP support. The setting has the name and shape of Django 6.0's SECURE_CSP,
    so moving to 6.0 means replacing this class with django.middleware.csp.ContentSecurityPolicyMiddleware.
    No nonces: no page has inline script or style, so 'self' is the whole policy.

    Placed right after SecurityMiddleware, before WhiteNoise: static files get the headers too (an
    SVG is a document that could carry script).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.SECURE_CSP and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = build_policy(settings.SECURE_CSP)
        if settings.PERMISSIONS_POLICY and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = build_permissions_policy(settings.PERMISSIONS_POLICY)
        return response


class NoStoreForSignedInMiddleware:
    """Every response to a signed-in user is `Cache-Control: no-store`: pages, htmx fragments, API
    answers, PDFs. Neither the browser's cache (back button after logout, a shared workstation) nor
    a proxy may keep PHI (HIPAA 164.312(a)(1) access control; 164.310(b) workstation use).

    Checked on the way out, so a user signed in by an API token (DRF sets request.user while the
    view runs) counts too. Static files never get here (WhiteNoise answers them first) and keep
    their long cache lifetimes; the sign-in page for an anonymous visitor is left as it is.
    A response that already says no-store keeps its own Cache-Control.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if "no-store" not in _cache_directives(response):
                add_never_cache_headers(response)
            # HTTP/1.0 caches know only Pragma.
            response["Pragma"] = "no-cache"
        return response


def _cache_directives(response):
    return {part.strip().split("=", 1)[0].lower() for part in response.get("Cache-Control", "").split(",")}
