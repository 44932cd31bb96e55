"""Django settings for Assay.

The database is SQLite by default — a file chosen by the command line next to the programme file
(``ASSAY_SQLITE_PATH``) — and PostgreSQL when ``ASSAY_DATABASE_URL`` is set. No secret is stored
here: the web app's session key comes from ``ASSAY_SECRET_KEY`` or a key file ``assay serve``
creates beside the signing key. The same settings serve the command line and the web app, so
both see one database with the same tables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


def database_from_url(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for ``postgresql://user:password@host:port/name``.

    A ``?host=/path`` query names a Unix socket directory instead of a network host.
    """
    parsed = urlparse(url)
    socket_dir = parse_qs(parsed.query).get("host", [""])[0]
    if parsed.scheme not in {"postgres", "postgresql"}:
        from assay.errors import InputError

        raise InputError(
            "ASSAY_DATABASE_URL", f"unsupported scheme '{parsed.scheme}'; use postgresql://"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": socket_dir or parsed.hostname or "",
        "PORT": str(parsed.port or ""),
    }


def _default_database() -> dict[str, Any]:
    url = os.environ.get("ASSAY_DATABASE_URL")
    if url:
        return database_from_url(url)
    path = os.environ.get("ASSAY_SQLITE_PATH") or str(Path.cwd() / ".assay" / "assay.sqlite3")
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}


DATABASES = {"default": _default_database()}
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "assay.monitor",
    "assay.evidence",
    "assay.checks",
    "assay.inventory",
    "assay.audit",
    "assay.registers",
    "assay.web",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
SECRET_KEY = os.environ.get("ASSAY_SECRET_KEY", "assay-cli-has-no-sessions")
DEBUG = os.environ.get("ASSAY_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"] + [
    host for host in os.environ.get("ASSAY_ALLOWED_HOSTS", "").split(",") if host
]
ROOT_URLCONF = "assay.web.urls"
WSGI_APPLICATION = "assay.web.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The web app's templates first: its allauth/layouts/base.html puts allauth's pages in
        # Assay's frame (nav, sign-out, CSS); by app order alone allauth's own would win.
        "DIRS": [Path(__file__).resolve().parents[1] / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "autoescape": True,
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "assay.web.navigation.context",
            ],
        },
    }
]
MIDDLEWARE = [
    "assay.web.middleware.server_timing",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "assay.web.middleware.security_headers",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "assay.web.middleware.AccessPolicy",
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# One cache for every worker process, so login throttling and lock-out hold across them.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "assay_cache",
    }
}
STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("ASSAY_STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # static files straight from the installed packages: no collect step
# Uploads (owner evidence): a file larger than this waits in a temporary file, not in memory, and
# a request's other fields (a note, a policy's body) stay under the second limit. The limit of a
# file (25 MiB) is the owner-evidence service's; the web app checks it before reading a file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 20
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Cookies: never readable by scripts, never sent cross-site with a form, HTTPS only (browsers
# count loopback as secure, so a local `assay serve` works over plain HTTP).
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # Lax, not Strict: the SSO provider redirects back by GET
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = None

# Sign-in (django-allauth): e-mail and password, TOTP or a passkey as a second factor, and SSO
# by OpenID Connect. Nobody signs themselves up: an admin adds people (`assay users add`), or the
# company's identity provider vouches for them.
ACCOUNT_ADAPTER = "assay.web.signin.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "assay.web.signin.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS = {
    # Lock-out: five failed sign-ins for one address in 15 minutes stop further tries for it.
    "login_failed": "20/15m/ip,5/15m/key",
    "login": "30/m/ip",
}
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False  # the provider's tokens are secrets: never in the database
SOCIALACCOUNT_LOGIN_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = "Assay"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}
