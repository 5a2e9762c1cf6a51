"""Cutroom settings: every value comes from the environment (see the table in README.md)."""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from studio.env import (
    bucket_origin,
    env_bool,
    env_choice,
    env_decimal,
    env_int,
    env_list,
    env_path,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Data directory: the SQLite database, uploaded media and the generated secret key. ---
# All of it is the studio user's alone (folders 0700, files 0600): the database holds live
# session keys, and the secret key signs them. `make run` also starts everything with umask
# 077; these explicit modes hold however the processes are started, and repair an install
# made before (whose files were 0644 in a 0755 folder).


def _private(path: Path, mode: int) -> None:
    """Give `path` exactly `mode` when it has more; a path we do not own is left as it is."""
    try:
        if path.stat().st_mode & 0o777 & ~mode:
            path.chmod(mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        pass  # another user's folder (a shared mount): its owner decides


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _private(path, 0o700)
    return path


def _private_sqlite(path: Path) -> Path:
    """SQLite makes its -wal and -shm files with the database file's mode: so the database
    file is made 0600 before the first connection, and an existing one (with its -wal and
    -shm) is made 0600 too. An empty file is a valid empty SQLite database."""
    with suppress(FileExistsError, FileNotFoundError):  # no folder: SQLite will say so
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        _private(path.with_name(path.name + suffix), 0o600)
    return path


DATA_DIR = _private_dir(env_path("STUDIO_DATA_DIR", BASE_DIR / "var"))


DEBUG = env_bool("STUDIO_DEBUG", False)
# Words that mark a key copied from an example rather than generated.
PLACEHOLDER_KEY_WORDS = ("changeme", "change-me", "change_me", "insecure", "secret-key", "your-")


def _weak_secret_key(key: str) -> bool:
    """Django's own test (check security.W009: under 50 characters, under 5 different ones, or
    Django's throwaway prefix), plus the placeholders people copy from examples."""
    lowered = key.lower()
    return (
        len(key) < 50
        or len(set(key)) < 5
        or lowered.startswith("django-insecure-")
        or any(word in lowered for word in PLACEHOLDER_KEY_WORDS)
    )


def _secret_key() -> str:
    """Use SECRET_KEY from the environment, else one generated once and kept in the data dir.

    Outside debug, a weak configured key stops start-up: every session, password-reset link and
    signed media link could be forged with it.
    """
    configured = env_str("SECRET_KEY", "")
    if configured and not DEBUG and _weak_secret_key(configured):
        raise ImproperlyConfigured(
            "SECRET_KEY is not safe for production: it is shorter than 50 characters, has "
            "fewer than 5 different characters, or is a placeholder. Set it to a long random "
            "value, e.g. the output of python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(50))', or unset it to use the key Cutroom generates in "
            "STUDIO_DATA_DIR/secret_key. (STUDIO_DEBUG=true accepts any key, for development.)"
        )
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    if not path.exists():
        # Web and worker start together: write a private temporary file and link it into place,
        # so whichever process wins, both read the same complete key.
        temporary = DATA_DIR / f".secret_key.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    _private(path, 0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Content credentials: the operator's signing chain (leaf first) and its key, each a file path or
# the PEM text. Empty: the instance signs with its own certificate, made once in DATA_DIR.
C2PA_CERT = env_str("STUDIO_C2PA_CERT", "")
C2PA_KEY = env_str("STUDIO_C2PA_KEY", "")
ALLOWED_HOSTS = env_list("STUDIO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("STUDIO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "accounts",
    "studio",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django_q",
    "axes",
    "django_ratelimit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files keep its caching); sees every other answer last.
    "studio.core.http.PrivateByDefaultMiddleware",
    # Before anything reads the body (CSRF reads the POST data).
    "studio.library.uploads.ChunkedUploadMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes must come last: it turns a locked-out login into our lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

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
                "django.template.context_processors.csp",
                "accounts.context_processors.teams",
                "accounts.context_processors.signup",
                "studio.takes.context_processors.provider_notice",
                "studio.review.context_processors.inbox",
            ],
        },
    },
]

# --- Database: SQLite in the data dir, or PostgreSQL when DATABASE_URL is set. ---
_database_url = env_str("DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": parse_database_url(_database_url)}
else:
    # WAL lets the web server read while the worker writes; IMMEDIATE transactions take the
    # write lock up front, so two writers queue on the timeout instead of failing with
    # "database is locked" when a read transaction tries to upgrade.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _private_sqlite(env_path("STUDIO_DATABASE_FILE", DATA_DIR / "cutroom.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory, so tests can run a real qcluster against the test database.
            "TEST": {"NAME": DATA_DIR / "test-cutroom.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and login hardening. ---
# Who may make an account (docs/governance.md "Who may join"): by invitation (default), anyone,
# or addresses at STUDIO_SIGNUP_DOMAINS. The administration page can change both; its choice wins.
SIGNUP = env_choice("STUDIO_SIGNUP", "invite", ("invite", "open", "domain"))
SIGNUP_DOMAINS = [d.lower().lstrip("@") for d in env_list("STUDIO_SIGNUP_DOMAINS", [])]
# The operator's monthly limit on provider spend for the whole instance (USD; 0: none). The
# administration page can change it.
INSTANCE_BUDGET_USD = env_decimal("STUDIO_INSTANCE_BUDGET_USD", "0")
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# Lock a username only from the address that failed (locking by username alone would let
# anyone lock a victim out), and let the lock expire on its own.
AXES_FAILURE_LIMIT = env_int("STUDIO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("STUDIO_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# And, next to it (accounts.views.auth.LoginView), failed sign-ins from one address across all
# accounts, counted in a fixed window of the same length: one address may not try a password
# against every account. High enough for an office behind one address.
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("STUDIO_LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.auth.locked_out"
AXES_USERNAME_CALLABLE = "accounts.views.auth.login_username"
# How many reverse proxies in front of gunicorn append to X-Forwarded-For (0: none, trust
# REMOTE_ADDR only). It also makes Django trust X-Forwarded-Proto from that proxy.
# accounts.http.client_address is the one reading of it, for sign-in lock-outs and for the
# rate limits alike.
PROXY_COUNT = env_int("STUDIO_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "accounts.http.client_address"
AXES_VERBOSE = False

# --- E-mail: SMTP when a host is configured. Without one, no mail can be sent, and the pages
# that would send one say so (accounts/mail.py); mail is printed to the console only with
# STUDIO_DEBUG, because a printed reset or sign-up link in a server's log is a way in. ---
_email_host = env_str("STUDIO_EMAIL_HOST", "")
if _email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env_int("STUDIO_EMAIL_PORT", 587, minimum=1, maximum=65535),
                "username": env_str("STUDIO_EMAIL_USER", ""),
                "password": env_str("STUDIO_EMAIL_PASSWORD", ""),
                "use_tls": env_bool("STUDIO_EMAIL_TLS", True),
                "timeout": 20,
            },
        }
    }
elif DEBUG:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}
DEFAULT_FROM_EMAIL = env_str("STUDIO_EMAIL_FROM", "Cutroom <cutroom@localhost>")

# --- Caches. The default one is files in the data dir (django-q2's statistics). Rate limits
# are counted in the database, which every web process and host shares and which, unlike the
# file cache, can count atomically (see accounts/limits.py). `migrate` creates its table.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": DATA_DIR / "cache",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
    "ratelimit": {
        "BACKEND": "accounts.limits.AtomicDatabaseCache",
        "LOCATION": "cutroom_rate_limits",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_IP_META_KEY = "accounts.http.client_address"
# django-ratelimit warns about any cache it does not know; this one is atomic (and tested).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# --- Static and media files. ---
STATIC_URL = "static/"
STATIC_ROOT = _private_dir(DATA_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env_path("STUDIO_MEDIA_DIR", DATA_DIR / "media")
# Uploads stream to a temporary file next to the media (so storing one is a rename), hashed and
# size-capped chunk by chunk by studio.library.uploads; the web process never holds a file in
# memory.
MAX_UPLOAD_BYTES = env_int("STUDIO_MAX_UPLOAD_MB", 1024, minimum=1) * 1024 * 1024
MAX_SOURCE_SECONDS = env_int("STUDIO_MAX_SOURCE_SECONDS", 600, minimum=2)
FILE_UPLOAD_HANDLERS = ["studio.library.uploads.CappedUploadHandler"]
FILE_UPLOAD_TEMP_DIR = _private_dir(DATA_DIR / "uploads-tmp")
# Every file and folder the storage writes (uploads and the worker's results, posters and
# proxies), whatever the process's umask.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Object storage (STUDIO_STORAGE=s3): every stored file lives in an S3-compatible bucket (AWS S3,
# MinIO, Cloudflare R2, Ceph) through django-storages, so web and worker hosts share nothing but
# the database and the bucket. Uploads still stream to FILE_UPLOAD_TEMP_DIR, then go up in
# multipart parts; workers copy what PyAV reads to a scratch folder and remove it. Media is
# served by a redirect, after the access check, to a presigned address that expires.
STORAGE = env_choice("STUDIO_STORAGE", "local", ("local", "s3"))
S3_BUCKET = env_str("STUDIO_S3_BUCKET", "")
S3_ENDPOINT_URL = env_str("STUDIO_S3_ENDPOINT_URL", "").rstrip("/")
S3_REGION = env_str("STUDIO_S3_REGION", "us-east-1")
S3_PATH_STYLE = env_bool("STUDIO_S3_PATH_STYLE", bool(S3_ENDPOINT_URL))
S3_PREFIX = env_str("STUDIO_S3_PREFIX", "").strip("/")
# How long a presigned address works: media people open (players re-ask when it runs out)...
S3_URL_SECONDS = env_int("STUDIO_S3_URL_SECONDS", 300, minimum=10, maximum=7 * 24 * 3600)
# ...share media (a revoked link's addresses stop within this)...
S3_SHARE_URL_SECONDS = min(S3_URL_SECONDS, env_int("STUDIO_S3_SHARE_URL_SECONDS", 60, minimum=10))
# ...and input files the provider fetches (MODELLIX_MEDIA_MODE=url), queued at its end for a while.
S3_PROVIDER_URL_SECONDS = env_int("STUDIO_S3_PROVIDER_URL_SECONDS", 6 * 3600, minimum=60)
if STORAGE == "s3":
    if not S3_BUCKET:
        raise ImproperlyConfigured("STUDIO_STORAGE=s3 needs STUDIO_S3_BUCKET.")
    from boto3.s3.transfer import TransferConfig

    def transfer_config(kind: Any) -> Any:
        config = kind(multipart_threshold=16 << 20, multipart_chunksize=5 << 20, max_concurrency=2)
        config.max_in_memory_upload_chunks = 2  # not a constructor argument
        return config

    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": S3_REGION,
            # Empty: boto3 finds credentials itself (AWS_* variables, an instance role).
            "access_key": env_str("STUDIO_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("STUDIO_S3_SECRET_ACCESS_KEY", "") or None,
            "addressing_style": "path" if S3_PATH_STYLE else "virtual",
            "signature_version": "s3v4",
            "location": S3_PREFIX,
            "default_acl": None,  # private objects: the bucket's own policy decides
            "querystring_auth": True,
            "querystring_expire": S3_URL_SECONDS,
            "file_overwrite": False,  # never replace an object under a name already taken
            "object_parameters": {"CacheControl": "private, max-age=86400"},
            # Files of 16 MB and more go up in 5 MB parts, two at a time and two in memory, so
            # a process holds a few parts whatever the file's size (bench/upload.py --s3);
            # boto3's defaults keep ten 8 MB parts in memory.
            "transfer_config": transfer_config(TransferConfig),
        },
    }
    # Browsers load media straight from the bucket: its origin (and nothing else) is allowed.
    S3_MEDIA_ORIGIN = env_str("STUDIO_S3_MEDIA_ORIGIN", "") or bucket_origin(
        S3_ENDPOINT_URL, S3_BUCKET, S3_REGION, path_style=S3_PATH_STYLE
    )
else:
    S3_MEDIA_ORIGIN = ""

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("STUDIO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Security headers. ---
HTTPS = env_bool("STUDIO_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 30 if HTTPS else 0
if PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS for subdomains and the browsers' preload list depend on the whole domain, which only its
# owner can judge (and preloading is hard to undo): both are opt-in. Their deploy warnings are
# silenced because the choice is made here, through these variables.
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env_bool("STUDIO_HSTS_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = HTTPS and env_bool("STUDIO_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS += ["security.W005", "security.W021"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: they send the token from the form's hidden field.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A strict policy: scripts and styles only from our own origin, never inline.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:", *filter(None, [S3_MEDIA_ORIGIN])],
    "media-src": [CSP.SELF, "blob:", *filter(None, [S3_MEDIA_ORIGIN])],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# --- Background work: django-q2 on the ORM broker (see shared reliability notes). ---
Q_CLUSTER = {
    "name": "cutroom",
    # Set explicitly: without "orm", django-q2 falls back to Redis, which loses a task when a
    # worker dies mid-task.
    "orm": "default",
    "workers": env_int("STUDIO_WORKERS", 2, minimum=1, maximum=32),
    "queue_limit": 2,
    "bulk": 1,
    # A proxy of a 10-minute 4K clip can take many minutes on two cores. Work is guarded by
    # leases in the database (studio.library.models.ProcessedMedia), not by this timeout.
    "timeout": 1800,
    # retry must exceed timeout so a slow task is not handed to a second worker while it runs.
    "retry": 1860,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "poll": 0.5,
    "recycle": 100,
    "max_rss": 600_000,
    "guard_cycle": 0.5,
    "label": "Background tasks",
}
# The worker writes a heartbeat; /healthz reports the worker dead when it is older than this.
WORKER_STALE_AFTER = timedelta(seconds=env_int("STUDIO_WORKER_STALE_SECONDS", 120, minimum=4))
# For this long after the web server starts, a worker or scheduler not heard from since is
# "starting" (/healthz 200), not missing: `make run` starts them side by side.
START_GRACE = timedelta(seconds=env_int("STUDIO_START_GRACE_SECONDS", 60, minimum=0))

# --- Edit provider (used by the edit features). ---
STUDIO_PROVIDER = env_choice("STUDIO_PROVIDER", "local", ("local", "modellix"))
MODELLIX_API_KEY = env_str("MODELLIX_API_KEY", "")
MODELLIX_BASE_URL = env_str("MODELLIX_BASE_URL", "https://api.modellix.ai").rstrip("/")
# Every call to Modellix or a result host has an overall deadline, not only limits between bytes
# (a host that sends one byte every few seconds would otherwise hold a worker for ever):
# connecting, the longest wait for an answer (a submit that times out is uncertain), a whole
# status check, a whole media upload, and a whole result download with its longest silence.
MODELLIX_CONNECT_TIMEOUT = env_int("MODELLIX_CONNECT_TIMEOUT", 5, minimum=1)
MODELLIX_READ_TIMEOUT = env_int("MODELLIX_READ_TIMEOUT", 30, minimum=1)
MODELLIX_STATUS_TIMEOUT = env_int("MODELLIX_STATUS_TIMEOUT", 10, minimum=1)
MODELLIX_UPLOAD_TIMEOUT = env_int("MODELLIX_UPLOAD_TIMEOUT", 600, minimum=1)
DOWNLOAD_TIMEOUT = env_int("STUDIO_DOWNLOAD_TIMEOUT", 300, minimum=1)
DOWNLOAD_STALL_SECONDS = env_int("STUDIO_DOWNLOAD_STALL_SECONDS", 30, minimum=1)
# Status checks run on this many threads of the scheduler, so a slow answer about one take never
# holds up the others, nor admission and repair.
STATUS_THREADS = env_int("STUDIO_STATUS_THREADS", 8, minimum=1, maximum=64)
# The docs post to .../async; the newest official CLI drops the suffix. Both work at the fake.
MODELLIX_SUBMIT_PATH = env_str("MODELLIX_SUBMIT_PATH", "/api/v1/alibaba/wan2.7-videoedit/async")
# How the provider gets our input files: upload to Modellix's media endpoint, a signed URL on
# this server (needs STUDIO_PUBLIC_URL), or inline base64 (small clips only).
MODELLIX_MEDIA_MODE = env_choice("MODELLIX_MEDIA_MODE", "upload", ("upload", "url", "base64"))
PUBLIC_URL = env_str("STUDIO_PUBLIC_URL", "").rstrip("/")
EDIT_DEADLINE = timedelta(minutes=env_int("STUDIO_EDIT_DEADLINE_MINUTES", 30, minimum=1))
MAX_ACTIVE_EDITS = env_int("STUDIO_MAX_ACTIVE_EDITS", 2, minimum=1, maximum=1000)
# Takes of one team at the provider at once (0: no limit beyond MAX_ACTIVE_EDITS); the
# administrator may set another limit per team.
TEAM_MAX_ACTIVE = env_int("STUDIO_TEAM_MAX_ACTIVE", 0, minimum=0, maximum=1000)
# Result downloads: https to public addresses only, unless this allows plain http to 127.0.0.1
# (tests and the fake provider). STUDIO_RESULT_HOSTS optionally lists the only hosts allowed.
DOWNLOAD_ALLOW_LOOPBACK = env_bool("STUDIO_DOWNLOAD_ALLOW_LOOPBACK", False)
RESULT_HOSTS = env_list("STUDIO_RESULT_HOSTS", [])
MAX_RESULT_BYTES = env_int("STUDIO_MAX_RESULT_MB", 500, minimum=1) * 1024 * 1024
# /healthz reports not ok when a folder Cutroom writes to (studio.storage.disks) has less free
# space than this.
MIN_FREE_BYTES = env_int("STUDIO_MIN_FREE_MB", 500, minimum=0) * 1024 * 1024
# Estimated price per output second (USD), shown before submitting; the real charge is stored
# when the provider reports it. Defaults: reseller prices in the provider notes.
PRICE_PER_SECOND = {
    "720P": env_decimal("STUDIO_PRICE_720P", "0.07055"),
    "1080P": env_decimal("STUDIO_PRICE_1080P", "0.11645"),
}
# How long a worker keeps retrying a database write that records a paid task's id while the
# database cannot be reached (studio/takes/journal.py); the id waits in its journal meanwhile.
DATABASE_RETRY = timedelta(seconds=env_int("STUDIO_DATABASE_RETRY_SECONDS", 600, minimum=1))
# How long a worker may hold a take's step before another may take over (a worker that died).
# A step renews its lease every quarter lease while it runs, so a dead worker is noticed within
# one lease and a long live one is never taken over. Shortened only by crash tests.
TAKE_LEASE = timedelta(seconds=env_int("STUDIO_TAKE_LEASE_SECONDS", 60, minimum=1))
# The scheduler (manage.py scheduler) holds its role with a lease renewed every fifth of it:
# when the active scheduler dies, another one takes over within about this long.
SCHEDULER_LEASE = timedelta(seconds=env_int("STUDIO_SCHEDULER_LEASE_SECONDS", 10, minimum=1))
# Requests per minute the Modellix account allows (its smallest entitlement: 100, shared by every
# key of the team). Cutroom keeps submits, status reads and media uploads of every process and
# host within it (studio.providers.request_budget), so it never causes a 429.
MODELLIX_RPM = env_int("MODELLIX_RPM", 100, minimum=10, maximum=100_000)
# Compresses the app's polling clock for the polling benchmark (1 = real time).
TIME_SCALE = float(env_decimal("STUDIO_TIME_SCALE", "1", minimum="0.001"))

# Every handler redacts tokens from URLs in its lines (studio/core/logs.py). Django's own loggers go
# through these handlers too: "django" (request warnings such as "Not Found: /s/<token>/") loses the
# extra handlers Django gives it, and runserver's "django.server" gets a redacting handler of its
# own. gunicorn's access and error logs are redacted by studio.core.logs.GunicornLogger.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "studio.core.logs.RedactingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("STUDIO_LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

FORM_RENDERER = "studio.core.forms_renderer.FormRenderer"
