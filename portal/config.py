"""Settings, each read from an environment variable with a safe default."""

from __future__ import annotations

import os

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 (refused in production)


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def from_environment(environ=os.environ) -> dict:
    """Build the config dict from environment variables."""
    return {
        "ENV_NAME": environ.get("PORTAL_ENV", "development"),
        "SECRET_KEY": environ.get("SECRET_KEY", DEV_SECRET_KEY),
        # None means: a SQLite file in the instance folder, filled in by create_app.
        "SQLALCHEMY_DATABASE_URI": environ.get("DATABASE_URL") or None,
        "PUBLIC_URL": environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "SITE_NAME": environ.get("SITE_NAME", "Social Owners"),
        "MAX_CONTENT_LENGTH": _int(environ.get("MAX_CONTENT_LENGTH"), 8 * 1024 * 1024),
        "RESPONSE_DAYS": _int(environ.get("RESPONSE_DAYS"), 14),
        # Rendered public pages each web worker keeps in memory (0: none).
        "PAGE_CACHE_SIZE": _int(environ.get("PAGE_CACHE_SIZE"), 1000),
        # How long a worker trusts its last look at whether anything public changed.
        "PAGE_CACHE_CHECK_SECONDS": float(environ.get("PAGE_CACHE_CHECK_SECONDS") or 1),
        # Flask-Mail. An empty MAIL_SERVER means "no SMTP server": emails stay in
        # the outbox and are logged.
        "MAIL_SERVER": environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int(environ.get("MAIL_PORT"), 25),
        "MAIL_USE_TLS": _bool(environ.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(environ.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": environ.get(
            "MAIL_DEFAULT_SENDER", "Social Owners <editors@localhost>"
        ),
        # Never suppressed in tests either: the suite talks to a real SMTP server.
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_TIMEOUT": _int(environ.get("MAIL_TIMEOUT"), 10),
        "MAIL_BATCH_SIZE": _int(environ.get("MAIL_BATCH_SIZE"), 20),
        "MAIL_MAX_ATTEMPTS": _int(environ.get("MAIL_MAX_ATTEMPTS"), 8),
        "MAIL_LEASE_SECONDS": _int(environ.get("MAIL_LEASE_SECONDS"), 600),
        "MAIL_BACKOFF_SECONDS": _int(environ.get("MAIL_BACKOFF_SECONDS"), 60),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PHOTO_DIR": environ.get("PHOTO_DIR") or None,
        "PROXY_COUNT": _int(environ.get("PROXY_COUNT"), 0),
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_LIMIT_PER_ADDRESS": environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 10 minutes"),
        "LOGIN_LIMIT_PER_ACCOUNT": environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 10 minutes"),
        "APPLY_LIMIT_PER_ADDRESS": environ.get("APPLY_LIMIT_PER_ADDRESS", "5 per hour"),
        "SPAM_MIN_SECONDS": _int(environ.get("SPAM_MIN_SECONDS"), 5),
        "SPAM_MAX_LINKS": _int(environ.get("SPAM_MAX_LINKS"), 8),
        "SPAM_BLOCKLIST": environ.get(
            "SPAM_BLOCKLIST",
            "casino,viagra,cialis,porn,xxx,escort,onlyfans,payday loan,backlinks,"
            "seo services,guest post,crypto giveaway,forex signals,buy followers",
        ),
        "SITE_TIMEZONE": environ.get("SITE_TIMEZONE", "Europe/London"),
        "QUEUE_FLAG_DAYS": _int(environ.get("QUEUE_FLAG_DAYS"), 7),
        "SQLITE_BUSY_TIMEOUT_MS": _int(environ.get("SQLITE_BUSY_TIMEOUT_MS"), 15000),
    }


class ConfigError(RuntimeError):
    """The configuration is unsafe to run with."""


def check(config) -> None:
    """Refuse to run production with the development secret key."""
    if config.get("ENV_NAME") == "production":
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY:
            raise ConfigError(
                "SECRET_KEY is unset or the development default; "
                "set a long random SECRET_KEY before running in production."
            )
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
