"""Settings for CRO Portal, read from environment variables only (README: Configuration)."""

import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from croportal import formats as _formats
from croportal.env import (
    env_bool,
    env_database,
    env_email,
    env_int,
    env_list,
    env_redis,
    env_storage,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = "insecure-local-development-key-only-used-when-debug-is-true"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "django_tables2",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "axes",
    "django_htmx",
    "django_celery_beat",
    "staffing",
    "trials",
    "sites",
    "safety",
    "reminders",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "croportal.middleware.RefuseUnstorableQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "access.grants.GrantsPerRequestMiddleware",  # the reader's grants, read once a request
    "croportal.middleware_security.NoStoreForAuthenticatedMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Times on the reader's clock (their profile's zone); htmx fragments carry their messages.
    "croportal.middleware_reader.ReaderTimeZoneMiddleware",
    "croportal.middleware_reader.HtmxMessagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "croportal.urls"
WSGI_APPLICATION = "croportal.wsgi.application"

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
                "dashboards.context_processors.navigation",
            ],
            # {{ d|day }}, {{ dt|moment }}, {{ n|fte }} (croportal/formats.py), {% table_body %}.
            "builtins": ["croportal.templatetags_formats", "croportal.lists.tags"],
        },
    },
]

_DATABASE_DEFAULT = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env_database("DATABASE_URL", _DATABASE_DEFAULT)}
DATABASES["default"].update(ATOMIC_REQUESTS=False, CONN_HEALTH_CHECKS=True,  # reuse: checked
                            CONN_MAX_AGE=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
# The portal runs as DATABASE_URL's role, which owns nothing; migrate and flush log in as the
# owner of the same database (croportal/dbroles.py). Unset: one role does both.
_owner = env_database("DATABASE_OWNER_URL", env_str("DATABASE_URL") or _DATABASE_DEFAULT)
if (_owner["ENGINE"], _owner["NAME"]) != (DATABASES["default"]["ENGINE"],
                                          DATABASES["default"]["NAME"]):
    raise ImproperlyConfigured("DATABASE_OWNER_URL must name the same database as DATABASE_URL")
DATABASE_OWNER = {key: _owner.get(key) or "" for key in ("USER", "PASSWORD", "HOST", "PORT")}
if DATABASE_OWNER["USER"] and not DATABASES["default"].get("USER"):  # grants need its name
    raise ImproperlyConfigured("DATABASE_URL must name its role when DATABASE_OWNER_URL is set")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "staffing.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "staffing.backends.PortalModelBackend",  # ModelBackend, with the organisation
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboards:home"
LOGOUT_REDIRECT_URL = "login"

# Reasons for change are kept whole (forms and the API accept up to 500 characters).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Guardian: object permissions only on Trial and Site (DESIGN §4); no anonymous grants.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# Account lock-out after repeated failed logins (django-axes).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_VERBOSE = False
# The username axes logs, cut to its 255-character column (an over-long one was a 500).
AXES_USERNAME_CALLABLE = "croportal.validation.axes_username"

# E-signatures (21 CFR 11.300(d)): consecutive wrong passwords before signing is locked.
SIGNATURE_FAILURE_LIMIT = env_int("SIGNATURE_FAILURE_LIMIT", 3, minimum=1)
# API tokens end after this long unused, and in any case this long after they were issued.
API_TOKEN_IDLE_SECONDS = env_int("API_TOKEN_IDLE_SECONDS", 8 * 3600, minimum=60)
API_TOKEN_MAX_AGE_SECONDS = env_int("API_TOKEN_MAX_AGE_SECONDS", 7 * 24 * 3600, minimum=60)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date format (02-Dec-2026) and one date-time format (02-Dec-2026 14:05 CET) everywhere
# (croportal/formats.py); the format module stops en-gb's own formats overriding these.
FORMAT_MODULE_PATH = ["croportal.locale_formats"]
DATE_FORMAT = SHORT_DATE_FORMAT = _formats.DJANGO_DATE_FORMAT
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = _formats.DJANGO_DATETIME_FORMAT
TIME_FORMAT = _formats.DJANGO_TIME_FORMAT
DATE_INPUT_FORMATS = _formats.DATE_INPUT_FORMATS
DATETIME_INPUT_FORMATS = _formats.DATETIME_INPUT_FORMATS

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"  # made by collectstatic; settings make no folder
if DEBUG:  # without collectstatic WhiteNoise only warns; the finders serve the static files
    warnings.filterwarnings("ignore", message=f"No directory at: {STATIC_ROOT}")
# Front-end packages come from npm (package.json), installed by `make setup`, never committed.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("vendor/pico", BASE_DIR / "node_modules" / "@picocss" / "pico" / "css"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Finished list exports wait here for their one reader (served only by the job's own view).
STORAGES["exports"] = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                       "OPTIONS": {"location": VAR_DIR / "exports", "base_url": None}}

# Essential documents' files: a local folder unless DOCUMENT_STORAGE_URL names another, or
# object storage (s3://bucket/prefix); never at a public URL, only through the download views.
STORAGES["documents"] = env_storage("DOCUMENT_STORAGE_URL", folder=VAR_DIR / "documents")
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)

# E-mail: console in development; SMTP in production: smtp+tls://user:pass@host:587
# (STARTTLS) or smtp+ssl://user:pass@host:465 (implicit TLS), smtp://host:25 (plain).
_email = env_email("EMAIL_URL", "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CRO Portal <portal@localhost>")

# Reminders engine (DESIGN §5): sweep cadence, delivery retries, digests, links in e-mails.
# The origin `make run` serves on (its HOST and PORT; it passes them in as this variable).
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 60, minimum=1)
REMINDER_SWEEP_BATCH = env_int("REMINDER_SWEEP_BATCH", 500, minimum=1)
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 5, minimum=1)
REMINDER_RETRY_BACKOFF_SECONDS = env_int("REMINDER_RETRY_BACKOFF_SECONDS", 60, minimum=0)
REMINDER_REDISPATCH_AFTER_SECONDS = env_int("REMINDER_REDISPATCH_AFTER_SECONDS", 600, minimum=1)
DIGEST_HOUR = env_int("DIGEST_HOUR", 7, minimum=0)
if DIGEST_HOUR > 23:
    raise ImproperlyConfigured("DIGEST_HOUR is an hour of the day, 0 to 23")
GCP_TRAINING_VALIDITY_YEARS = env_int("GCP_TRAINING_VALIDITY_YEARS", 3, minimum=1)
# Days after a new ICF version takes effect at a site by which its active subjects re-consent.
RECONSENT_DUE_DAYS = env_int("RECONSENT_DUE_DAYS", 30, minimum=1)
# Sites written per batch by a ClinicalTrials.gov import (progress is reported per batch).
CTGOV_IMPORT_BATCH_SIZE = env_int("CTGOV_IMPORT_BATCH_SIZE", 200, minimum=1)
# A confirmed import no worker has taken after this long is published again (Redis was down).
CTGOV_IMPORT_REDISPATCH_AFTER_SECONDS = env_int("CTGOV_IMPORT_REDISPATCH_AFTER_SECONDS", 120,
                                                minimum=1)
# List exports (`?export=csv|xlsx`) of more rows than this run as a background job on the
# `exports` queue, with a progress bar and a download link; smaller ones stream at once.
EXPORT_SYNC_MAX_ROWS = env_int("EXPORT_SYNC_MAX_ROWS", 5000, minimum=1)
# A finished export file is kept this many hours for its download, then removed.
EXPORT_KEEP_HOURS = env_int("EXPORT_KEEP_HOURS", 24, minimum=1)
# Every list's table (django-tables2) renders through the house template (croportal/lists).
DJANGO_TABLES2_TEMPLATE = "lists/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "striped"}

# Celery: Redis when REDIS_URL is set, otherwise Kombu's filesystem transport (no server),
# whose folders under VAR_DIR/broker are made where they are used (croportal/broker.py).
REDIS_URL = env_redis("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    _queue, _done, _control = (str(_broker_dir / n) for n in ("queue", "processed", "control"))
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": _queue, "data_folder_out": _queue,
                                       "processed_folder": _done, "control_folder": _control,
                                       "store_processed": False}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
# Queues by kind of work (DESIGN §2), so a long import never delays the minute sweep; every
# queue needs a worker (`make run`, docker-compose.yml). The prefix gives tests and benchmarks
# throwaway queues on a shared Redis.
CELERY_QUEUE_PREFIX = env_str("CELERY_QUEUE_PREFIX", "")
WORKER_QUEUES = {kind: CELERY_QUEUE_PREFIX + kind
                 for kind in ("celery", "reminders", "imports", "exports")}
CELERY_TASK_DEFAULT_QUEUE = WORKER_QUEUES["celery"]
# Each queue bound by its own name (else all share the default key, and get every message);
# a worker started without -Q consumes them all.
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in WORKER_QUEUES.values()]
CELERY_TASK_ROUTES = {  # by task name; anything else goes to the default queue
    "reminders.tasks.reminders_sweep": {"queue": WORKER_QUEUES["reminders"]},
    "reminders.tasks.reminder_deliver": {"queue": WORKER_QUEUES["reminders"]},
    "reminders.tasks.digests_send": {"queue": WORKER_QUEUES["reminders"]},
    "trials.ctgov_import_run": {"queue": WORKER_QUEUES["imports"]},
    "trials.ctgov_imports_redispatch": {"queue": WORKER_QUEUES["imports"]},
    "reminders.tasks.exports_redispatch": {"queue": WORKER_QUEUES["exports"]},
    "*_export": {"queue": WORKER_QUEUES["exports"]},  # exports to come: `<app>.tasks.<x>_export`
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one declaration of the periodic tasks: migrate writes it to django-celery-beat's table
# (reminders/schedule.py), which beat reads. Each run expires (expire_seconds) before the next
# is due, so a backlog never runs stale sweeps.
CELERY_BEAT_SCHEDULE = {
    "reminders-sweep": {"task": "reminders.tasks.reminders_sweep", "schedule": float(
        REMINDER_SWEEP_SECONDS), "options": {"expire_seconds": REMINDER_SWEEP_SECONDS}},
    "digests-send": {"task": "reminders.tasks.digests_send", "schedule": 900.0,
                     "options": {"expire_seconds": 840}},
    "assignments-apply-dates": {"task": "staffing.tasks.assignments_apply_dates",
                                "schedule": 3600.0, "options": {"expire_seconds": 3000}},
    "consent-versions-apply": {"task": "sites.tasks.consent_versions_apply",
                               "schedule": 3600.0, "options": {"expire_seconds": 3000}},
    "dsur-deadlines-open": {"task": "safety.tasks.dsur_deadlines_open", "schedule": 86400.0,
                            "options": {"expire_seconds": 82800}},
    # Imports confirmed while the broker was down (or whose message was lost) are sent again.
    "ctgov-imports-redispatch": {"task": "trials.ctgov_imports_redispatch", "schedule": 60.0,
                                 "options": {"expire_seconds": 55}},
    # Big list exports no worker took are sent again; old export files are removed.
    "exports-redispatch": {"task": "reminders.tasks.exports_redispatch", "schedule": 60.0,
                           "options": {"expire_seconds": 55}},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    # JSON bodies too deep, with NUL or lone surrogates, or with huge numbers are a 400.
    "DEFAULT_PARSER_CLASSES": [
        "croportal.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "staffing.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "croportal.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "croportal.api.KnownQueryParameters",  # an unknown query parameter is a 400
        "django_filters.rest_framework.DjangoFilterBackend",
        "croportal.api.StrictOrdering",  # ?ordering=field,-other
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "croportal.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth_token": env_str("API_TOKEN_THROTTLE", "10/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRO Portal API",
    "DESCRIPTION": "REST API v1 of CRO Portal (contract in API.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CausalityEnum": "safety.models.Causality",
        "TrialStatusEnum": "trials.models.TrialStatus",
        "SiteStatusEnum": "sites.models.SiteStatus",
        "SubjectStatusEnum": "sites.models.SubjectStatus",
        "DocumentStatusEnum": "sites.models.DocumentStatus",
    },
}

CACHES = {
    "default": (
        # Redis down: throttling counts go on in process memory rather than failing (a 500).
        {"BACKEND": "croportal.cache_fallback.FallbackRedisCache", "LOCATION": REDIS_URL,
         "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
        if REDIS_URL and env_bool("CACHE_USE_REDIS", default=False)
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Production hardening: on whenever DEBUG is off (manage.py check --deploy is clean).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files — no
# inline script, handler or style anywhere (templates use json_script for data; htmx's own
# indicator styles are off, see base.html); the API docs load their script as a separate file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
SILENCED_SYSTEM_CHECKS = [
    # Lock-out is per account, as wanted: rotating user agents or cookies does not reset it,
    # and locking whole IP addresses would lock out a site's shared network.
    "axes.W006",
    *(["security.W021"] if not SECURE_HSTS_PRELOAD else []),
]

# The shipped CTCAE v5 facts table and, where an operator has it, NCI's full file.
CTCAE_FACTS_FILE = BASE_DIR / "safety" / "data" / "ctcae_v5_facts.csv"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
