"""Settings shared by every environment; each value comes from the environment (config/env.py)."""

from pathlib import Path

from config.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_str, env_time_zone, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY")  # local/test provide a default; production requires it
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "core.admin_site.DirectorAdminConfig",  # django.contrib.admin, Directors only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files, no CDN
    "guardian",
    "axes",
    "django_htmx",
    # The project's layers, bottom to top (README, "Project layout"); each imports only those below.
    # Ledger-event receivers connect in this order, so a payment reaches the plan before the queue.
    "core",
    "accounts",
    "payment_plans",
    "writeoffs",
    "imports",
    "collections_app",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestContextMiddleware",
    "core.middleware.RefuseNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.UserTimeZoneMiddleware",
    "core.middleware.NoStoreForSignedInMiddleware",
    "core.middleware.IdleSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.access",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": parse_database_url("DATABASE_URL", _database_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.StaffUser"
# core's practice scope and audit rows name the practice model here, as AUTH_USER_MODEL names the
# user model: core sits below accounts and never imports it.
ACCESS_PRACTICE_MODEL = "accounts.Practice"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Idle timeout: the session ends after this many seconds without a request (HIPAA 164.312(a)(2)(iii)
# automatic logoff). Enforced by IdleSessionTimeoutMiddleware, which also bounds the cookie.
SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 15 * 60, minimum=60)
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Headers on every response (README, "Security"). Content-Security-Policy and
# Permissions-Policy come from core.middleware.SecurityHeadersMiddleware; SECURE_CSP has the name
# and shape of Django 6.0's setting. Nothing inline: every script and style is a file under
# static/, and htmx runs without eval (templates/base.html, htmx-config).
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],  # data: for images inlined in stylesheets (Swagger UI's icons)
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
# Browser features the app never uses, refused to every origin (this page and anything it embeds).
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    ]
}
# SecurityMiddleware and XFrameOptionsMiddleware; these are Django's defaults, stated so no
# environment can drift from them. same-origin: a URL can carry an account id or a search term.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# API tokens (core.models.ApiToken) work this many hours from issue, then a client signs in again.
# 8: one working shift. A token is a bearer credential to PHI held by a script or another machine,
# outside the session's idle logoff; a stolen one is useful for at most a shift, and a user's
# tokens die with a password change or deactivation. At most 24: a longer-lived key would be the
# never-expiring token this replaces.
API_TOKEN_LIFETIME_HOURS = env_int("API_TOKEN_LIFETIME_HOURS", 8, minimum=1)
if API_TOKEN_LIFETIME_HOURS > 24:
    raise ImproperlyConfiguredEnv("API_TOKEN_LIFETIME_HOURS", "must be at most 24")
# Requests a minute per user (all their tokens and their session together) before a 429.
API_REQUESTS_PER_MINUTE = env_int("API_REQUESTS_PER_MINUTE", 600, minimum=1)
# Days a token that stopped working (expired or revoked) stays listed before the nightly purge.
API_TOKEN_RETENTION_DAYS = env_int("API_TOKEN_RETENTION_DAYS", 90, minimum=1)

# django-axes: lock the username out after repeated failures.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 30, minimum=1) / 60
# Locked by username and client address together: failures from one address lock that username from
# that address only, so nobody outside can lock a member of staff (a Director included) out of the
# office. A Director unlocks at /admin/ ("Access attempts"). Behind reverse proxies, set
# TRUSTED_PROXY_COUNT so the client address is read from X-Forwarded-For (README, "Security").
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "core.auth.client_address"
AXES_USERNAME_CALLABLE = "core.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# guardian: no anonymous user row; anonymous users never see PHI.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# Times tied to no practice (nightly job runs, the audit trail) show in this zone, labelled, for a
# user who chose no zone of their own (core/display.py).
OFFICE_TIME_ZONE = env_time_zone("OFFICE_TIME_ZONE", "America/New_York")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploaded documents (letters of protection, etc.) are PHI: kept outside STATIC/MEDIA URLs and
# served only through audited views.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "private_media")))
# Uploads (README, "Security"). A letter of protection is at most LOP_LETTER_MAX_BYTES; the upload
# views answer 413 to a body above it plus 512 KB before reading it, and the reverse proxy's own
# limit (nginx client_max_body_size 12m) sits just above theirs.
LOP_LETTER_MAX_BYTES = 10 * 1024 * 1024
# An import file (X12, CSV, a Synthea .zip) uploaded at /imports/ or POST /api/imports/: the same 10 MB, under
# the proxy's limit; the views answer 413 to a larger body before reading it.
IMPORT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB of fields other than files in one request
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # a larger file is spooled to a temporary file (mode 0600)
# Stored documents are PHI: readable by the app's user only (FileSystemStorage applies these).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Sessions read from the shared cache (one query less per page), written through to the database.
    # Only with a shared cache: a per-process cache would keep serving a session another process ended.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate header from the first class, so a refused token
    # (or none) is a 401 rather than a 403. Browsers keep using their session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.access.FieldGroupPermission"],
    # Summaries and the error responses (Error, FieldErrors) for every operation.
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.ApiSchema",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.ApiUserThrottle"],
    "DEFAULT_PAGINATION_CLASS": "core.api_support.StrictPageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api_support.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Patient balance collections API",
    "DESCRIPTION": "Practices, patients, accounts and the ledger, scoped by access tier and practice.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "accounts.models.PatientAccount.Status",
        "ApiTokenRevokeReasonEnum": "core.models.ApiToken.RevokeReason",
        "AppointmentStatusEnum": "accounts.models.Appointment.Status",
        "ContactChannelEnum": "collections_app.models.Contact.Channel",
        "ContactConsentChannelEnum": "collections_app.models.ContactConsent.Channel",
        "PromiseToPayStatusEnum": "collections_app.models.PromiseToPay.Status",
        "PaymentPlanStatusEnum": "payment_plans.models.PaymentPlan.Status",
        "PaymentPlanFrequencyEnum": "payment_plans.models.PaymentPlan.Frequency",
        "AccountHoldKindEnum": "collections_app.models.AccountHold.Kind",
        "AccountHoldLopStatusEnum": "collections_app.models.AccountHold.LopStatus",
        "AccountHoldDisputeKindEnum": "collections_app.models.AccountHold.DisputeKind",
        "BillingInquiryChannelEnum": "collections_app.models.BillingInquiry.Channel",
        "ReturnedMailReasonEnum": "collections_app.models.ReturnedMail.Reason",
        "ReturnedMailResolutionEnum": "collections_app.models.ReturnedMail.Resolution",
        "ReturnedMailRecipientEnum": "collections_app.models.ReturnedMail.Recipient",
        "ImportUploadKindEnum": "imports.models.ImportUpload.Kind",
        "ImportUploadStatusEnum": "imports.models.ImportUpload.Status",
        "PlacementStatusEnum": "collections_app.models.Placement.Status",
        "StatementBatchStatusEnum": "reports.models.StatementBatch.Status",
        "StatementBatchKindEnum": "reports.models.StatementBatch.Kind",
        "TransactionKindEnum": "accounts.models.Transaction.Kind",
        "SmallBalanceRunStatusEnum": "writeoffs.models.SmallBalanceRun.Status",
    },
}

# Celery. Without REDIS_URL the broker is a folder on disk, so `make run` needs no server and the
# beat schedule still runs in a worker it starts beside the web server.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
_broker_folder = BASE_DIR / ".celery-broker"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {}
    if REDIS_URL
    else {
        "data_folder_in": str(_broker_folder / "out"),
        "data_folder_out": str(_broker_folder / "out"),
        "processed_folder": str(_broker_folder / "processed"),
        "control_folder": str(_broker_folder / "control"),
        "store_processed": False,
    }
)

# Statements by email (reports.statements.emailing): the console by default, SMTP by settings
# (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST and the rest).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "billing@localhost")
# Statements per chunk of a print batch (reports.statements.batch): one WeasyPrint render each.
STATEMENT_CHUNK_SIZE = env_int("STATEMENT_CHUNK_SIZE", 200, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_context.RequestIdLogFilter"}},
    "formatters": {
        # No PHI in logs: messages name ids and request ids, never names or amounts.
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # The request logger would print URLs with query strings (search terms are PHI).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": [], "level": "ERROR", "propagate": False},
        # pypdf's warnings about a malformed letter can quote bytes of the letter (PHI).
        "pypdf": {"level": "ERROR"},
    },
}

DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo-pass-2026")
# /bench/floor/ (sign-in and the access check, nothing else) is served only for a benchmark run
# that sets BENCH_FLOOR_PAGE=true; production settings refuse it.
BENCH_FLOOR_PAGE = env_bool("BENCH_FLOOR_PAGE", False)
LOGIN_URL_PATH = "/login/"
