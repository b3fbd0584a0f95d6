"""Production: everything secret or site-specific must come from the environment."""

from config.env import env_bool, env_int, env_str

from .base import *  # noqa: F403

SECRET_KEY = env_str("SECRET_KEY", required=True)
if len(SECRET_KEY) < 50:
    from config.env import ImproperlyConfiguredEnv

    raise ImproperlyConfiguredEnv("SECRET_KEY", "must be at least 50 characters")
DEBUG = False
if BENCH_FLOOR_PAGE:  # noqa: F405
    from config.env import ImproperlyConfiguredEnv

    raise ImproperlyConfiguredEnv("BENCH_FLOOR_PAGE", "is for benchmark runs only, never production")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Health checks come over plain HTTP from inside the network (compose, load balancers).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Referrer-Policy, nosniff, X-Frame-Options, CSP and Permissions-Policy: base.py, every environment.
