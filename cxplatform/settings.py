"""One settings module for every environment; environments differ only by variables.

The demo (no variables at all) runs on a SQLite file, executes Celery tasks in-process and
delivers email into the database mailbox. Production sets DEBUG=false, SECRET_KEY,
DATABASE_URL, REDIS_URL, EMAIL_URL, SITE_URL and ALLOWED_HOSTS.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # The demo makes a key for itself once and keeps it, so sessions survive restarts.
    key_file = BASE_DIR / ".demo-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "cxplatform",
    "journeys",
    "feedback",
    "scorecards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cxplatform.tenancy.OrganizationMiddleware",
    "cxplatform.middleware.HtmxMessagesMiddleware",
]

ROOT_URLCONF = "cxplatform.urls"
WSGI_APPLICATION = "cxplatform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cxplatform.context_processors.tenancy",
            ],
        },
    },
]

# Every form widget gets its Bootstrap classes in one place (cxplatform.forms).
FORM_RENDERER = "cxplatform.forms.BootstrapFormRenderer"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# WAL + a busy timeout let the in-process worker thread and the web server share the file.
# IMMEDIATE: a transaction takes the write lock when it begins, so two requests writing at
# once wait their turn; a deferred one that read first fails at its first write ("database
# is locked", at once) when another request wrote meanwhile.
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
# A read replica for the dashboards (cxplatform.db): optional, PostgreSQL streaming
# replication of the default database.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"].setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["cxplatform.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
FORMAT_MODULE_PATH = ["cxplatform.formats"]  # one date format everywhere: see the package
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Third-party front-end files come from npm (node_modules, never committed).
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/sortablejs", NODE_MODULES / "sortablejs"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = BASE_DIR / "media"

# Email: EMAIL_URL (django-environ form) or, absent, the demo mailbox in the database.
# Django 6.1 configures mail through MAILERS; EMAIL_* settings must not be set as well.
_email_url = env("EMAIL_URL", default="")
if _email_url:
    _email = environ.Env.email_url_config(_email_url)
    MAILERS = {
        "default": {
            "BACKEND": _email["EMAIL_BACKEND"],
            "OPTIONS": {
                key: value
                for key, value in {
                    "host": _email.get("EMAIL_HOST"),
                    "port": _email.get("EMAIL_PORT"),
                    "username": _email.get("EMAIL_HOST_USER") or None,
                    "password": _email.get("EMAIL_HOST_PASSWORD") or None,
                    "use_tls": _email.get("EMAIL_USE_TLS", False),
                    "use_ssl": _email.get("EMAIL_USE_SSL", False),
                    "timeout": env.int("EMAIL_TIMEOUT", default=30),
                }.items()
                if value is not None
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "cxplatform.mail.MailboxBackend"}}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="CX Platform <feedback@cx.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: REDIS_URL makes it a real broker; absent, tasks run in-process (the demo).
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="cx")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# The beat schedule lives here, in code; each entry enqueues a thin task.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "heartbeat": {"task": "cxplatform.tasks.heartbeat", "schedule": 60.0},
    # Responses (feedback): complete abandoned scored responses.
    "responses-sweep": {"task": "feedback.tasks.responses.responses_sweep", "schedule": 120.0},
    # The after-response pipeline: re-pend rows of lost workers, pass what a lost message
    # left pending; prune old done rows.
    "pipeline-sweep": {
        "task": "feedback.tasks.pipeline.pipeline_sweep",
        "schedule": env.float("CX_PIPELINE_SWEEP_SECONDS", default=30.0),
    },
    "pipeline-prune": {"task": "feedback.tasks.pipeline.pipeline_prune", "schedule": 3600.0},
    # Campaign delivery (feedback): the sweep re-enqueues claimable invitations (a lost
    # broker message loses nothing); scheduled launches, reminders and link expiry.
    "delivery-sweep": {
        "task": "feedback.tasks.delivery.delivery_sweep",
        "schedule": env.float("CX_DELIVERY_SWEEP_SECONDS", default=30.0),
    },
    "campaigns-launch-due": {
        "task": "feedback.tasks.campaigns.campaigns_launch_due",
        "schedule": env.float("CX_CAMPAIGNS_LAUNCH_DUE_SECONDS", default=60.0),
    },
    "campaign-reminders": {"task": "feedback.tasks.campaigns.reminders_send", "schedule": 900.0},
    "invitations-expire": {
        "task": "feedback.tasks.campaigns.invitations_expire",
        "schedule": 3600.0,
    },
    # Contact imports (feedback): re-enqueue an upload whose message was lost or whose
    # worker died; the rerun resumes after the last committed batch.
    "contact-imports-sweep": {
        "task": "feedback.tasks.contacts.contact_import_sweep",
        "schedule": 300.0,
    },
}
CELERY_TIMEZONE = "UTC"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cxplatform.rest.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cxplatform.rest.OrganizationPermission"],
    "DEFAULT_PAGINATION_CLASS": "cxplatform.rest.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cxplatform.rest.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"respondent": "120/min"},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CX Platform API",
    "DESCRIPTION": (
        "Journeys, surveys, campaigns, responses and the closed loop. Authenticate with "
        "`Authorization: Bearer <api key>`; every row is scoped to the key's organization."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cxplatform.rest.document_error_responses",
    ],
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    # Several models have a "channel"; name each choice set after its owner.
    "ENUM_NAME_OVERRIDES": {
        "TouchpointChannelEnum": "journeys.models.Channel",
        "ResponseChannelEnum": "feedback.models.ResponseChannel",
        "QuestionTypeEnum": "feedback.scoring.QuestionType",
        "LocaleEnum": LANGUAGES,  # organization, survey and response languages alike
    },
}

# Security: production (DEBUG off) gets the strict set; `check --deploy` is clean there.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads no cookie (the token goes in hx-headers) but forms may
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusal_one_line": {"()": "cxplatform.logfilters.RefusalWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["refusal_one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own default config gives "django" a console handler of its own (with
        # DEBUG on): with propagation to root, every line printed twice. Root prints it.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Product settings
CX_INVITATION_TTL = timedelta(days=env.int("CX_INVITATION_TTL_DAYS", default=30))
# The embedded demo (no broker) imports CSV files in a thread, so their progress shows.
CX_IMPORT_IN_THREAD = env.bool("CX_IMPORT_IN_THREAD", default=False)
CX_API_KEY_PREFIX = "cx_"
# The after-response pipeline (steps: feedback/pipeline.py; running: feedback.services.
# pipeline). A claimed row is re-pended by the sweep once its lease expires; a pass hands
# on to a new task after PASS_SECONDS; done rows are pruned after KEEP_DONE_DAYS.
CX_PIPELINE_BATCH_SIZE = env.int("CX_PIPELINE_BATCH_SIZE", default=100)
CX_PIPELINE_LEASE_SECONDS = env.float("CX_PIPELINE_LEASE_SECONDS", default=300.0)
CX_PIPELINE_PASS_SECONDS = env.float("CX_PIPELINE_PASS_SECONDS", default=60.0)
CX_PIPELINE_KEEP_DONE = timedelta(days=env.int("CX_PIPELINE_KEEP_DONE_DAYS", default=7))
# A response with its score but no Send is completed (and counted) after this idle time.
CX_PARTIAL_COMPLETE_AFTER = timedelta(minutes=env.int("CX_PARTIAL_COMPLETE_MINUTES", default=30))
# Campaign delivery (feedback.services.outbox and transport). Rate limit in emails per second, shared
# by all workers through Redis (0: no limit). A pass hands on to a new task after
# PASS_SECONDS; PARALLEL passes start per kick so several workers share a big send.
CX_DELIVERY_BATCH_SIZE = env.int("CX_DELIVERY_BATCH_SIZE", default=100)
CX_DELIVERY_LEASE_SECONDS = env.float("CX_DELIVERY_LEASE_SECONDS", default=300.0)
CX_DELIVERY_MAX_ATTEMPTS = env.int("CX_DELIVERY_MAX_ATTEMPTS", default=8)
CX_DELIVERY_BACKOFF_SECONDS = env.float("CX_DELIVERY_BACKOFF_SECONDS", default=60.0)
CX_DELIVERY_BACKOFF_MAX_SECONDS = env.float("CX_DELIVERY_BACKOFF_MAX_SECONDS", default=6 * 3600.0)
CX_DELIVERY_RATE_LIMIT = env.float("CX_DELIVERY_RATE_LIMIT", default=0.0)
CX_DELIVERY_PARALLEL = env.int("CX_DELIVERY_PARALLEL", default=2)
CX_DELIVERY_PASS_SECONDS = env.float("CX_DELIVERY_PASS_SECONDS", default=120.0)
# A bigger audience is materialised by a worker rather than in the launch request.
CX_CAMPAIGN_INLINE_LAUNCH_MAX = env.int("CX_CAMPAIGN_INLINE_LAUNCH_MAX", default=5000)
