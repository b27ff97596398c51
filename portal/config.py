"""Settings, each read from an environment variable with a safe default.

A value that is set but can't be used stops start-up with one line naming the
variable, the value and what was expected: never a traceback, never a quiet
fallback to the default."""

from __future__ import annotations

import math
import os
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 (refused in production)
SECRET_KEY_MIN = 32


class ConfigError(SystemExit):
    """A setting that can't be used. Raised at start-up: as a SystemExit, the
    process stops with this one line on stderr and no traceback."""

    def __init__(self, message: str):
        super().__init__(f"Configuration error: {message}")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bad(name: str, value: str, expected: str) -> ConfigError:
    return ConfigError(f"{name}={value!r} is not valid: expected {expected}.")


def _bool(environ, name: str, default: bool = False) -> bool:
    value = (environ.get(name) or "").strip().lower()
    if not value:
        return default
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise _bad(name, environ[name], "one of 1/0, true/false, yes/no, on/off")


def _int(environ, name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    value = (environ.get(name) or "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        upper = f" and {maximum}" if maximum is not None else ""
        within = f"between {minimum}{upper}" if maximum is not None else f"{minimum} or more"
        raise _bad(name, environ[name], f"a whole number {within}")
    return number


def _float(environ, name: str, default: float, minimum: float = 0.0) -> float:
    value = (environ.get(name) or "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number < minimum:
        raise _bad(name, environ[name], f"a number of seconds, {minimum:g} or more")
    return number


def _url(environ, name: str, default: str) -> str:
    value = (environ.get(name) or default).strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise _bad(name, environ[name], "an address like https://interviews.example.com")
    return value


def _timezone(environ, name: str, default: str) -> str:
    value = (environ.get(name) or default).strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad(name, environ[name], "a time zone name like Europe/London") from None
    return value


def _limit(environ, name: str, default: str) -> str:
    value = (environ.get(name) or default).strip()
    try:
        parse_many(value)
    except ValueError:
        raise _bad(name, environ[name], "a rate like '20 per 10 minutes'") from None
    return value


def _choice(environ, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (environ.get(name) or default).strip()
    if value not in allowed:
        raise _bad(name, environ[name], " or ".join(allowed))
    return value


def _storage(environ, name: str, default: str) -> str:
    value = (environ.get(name) or default).strip()
    if urlsplit(value).scheme not in ("memory", "redis", "rediss", "redis+unix", "memcached"):
        raise _bad(name, environ[name], "memory:// or a redis://host:port/db address")
    return value


def _database(environ, name: str) -> str | None:
    value = (environ.get(name) or "").strip()
    if not value:
        return None
    try:
        make_url(value)
    except ArgumentError:
        raise _bad(name, value, "a database URL like postgresql+psycopg://user@host/db") from None
    return value


def from_environment(environ=os.environ) -> dict:
    """Build the config dict from environment variables."""
    return {
        "ENV_NAME": _choice(environ, "PORTAL_ENV", "development", ("development", "production")),
        "SECRET_KEY": environ.get("SECRET_KEY", DEV_SECRET_KEY),
        # None means: a SQLite file in the instance folder, filled in by create_app.
        "SQLALCHEMY_DATABASE_URI": _database(environ, "DATABASE_URL"),
        "PUBLIC_URL": _url(environ, "PUBLIC_URL", "http://127.0.0.1:5000"),
        "SITE_NAME": environ.get("SITE_NAME", "Social Owners"),
        "MAX_CONTENT_LENGTH": _int(environ, "MAX_CONTENT_LENGTH", 8 * 1024 * 1024, minimum=1024),
        "RESPONSE_DAYS": _int(environ, "RESPONSE_DAYS", 14, minimum=1),
        # How long a status link keeps working after it was last used.
        "STATUS_LINK_DAYS": _int(environ, "STATUS_LINK_DAYS", 90, minimum=1),
        "DIGEST_UNSUBSCRIBE_DAYS": _int(environ, "DIGEST_UNSUBSCRIBE_DAYS", 60, minimum=1),
        # The newsletter: a subscription not confirmed within this many days is
        # forgotten; the weekly digest leaves on this day (0: Monday) at this
        # hour, site time; a mail worker writes this many copies a transaction.
        "NEWSLETTER_CONFIRM_DAYS": _int(environ, "NEWSLETTER_CONFIRM_DAYS", 7, minimum=1),
        "NEWSLETTER_WEEKLY_DAY": _int(environ, "NEWSLETTER_WEEKLY_DAY", 0, minimum=0, maximum=6),
        "NEWSLETTER_WEEKLY_HOUR": _int(environ, "NEWSLETTER_WEEKLY_HOUR", 8, minimum=0, maximum=23),
        "NEWSLETTER_BATCH": _int(environ, "NEWSLETTER_BATCH", 1000, minimum=1),
        # Reads of interviews: counted (off: nothing is counted), and written
        # from each web process's memory at most this often.
        "READ_COUNTING": _bool(environ, "READ_COUNTING", True),
        "READ_FLUSH_SECONDS": _float(environ, "READ_FLUSH_SECONDS", 10.0),
        # Links made before then stop working this long after the interview goes live.
        "STATUS_LINK_DAYS_AFTER_PUBLICATION": _int(
            environ, "STATUS_LINK_DAYS_AFTER_PUBLICATION", 30, minimum=1
        ),
        # Rendered public pages each web worker keeps in memory (0: none).
        "PAGE_CACHE_SIZE": _int(environ, "PAGE_CACHE_SIZE", 1000),
        # How long a worker trusts its last look at whether anything public changed.
        "PAGE_CACHE_CHECK_SECONDS": _float(environ, "PAGE_CACHE_CHECK_SECONDS", 1.0),
        "METRICS_TOKEN": environ.get("METRICS_TOKEN", ""),
        "LOG_FORMAT": _choice(environ, "LOG_FORMAT", "text", ("text", "json")),
        "PROXY_CACHE_SECONDS": _int(environ, "PROXY_CACHE_SECONDS", 5, minimum=0),
        # Flask-Mail. An empty MAIL_SERVER means "no SMTP server": emails stay in
        # the outbox and are logged.
        "MAIL_SERVER": environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int(environ, "MAIL_PORT", 25, minimum=1, maximum=65535),
        "MAIL_USE_TLS": _bool(environ, "MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool(environ, "MAIL_USE_SSL"),
        "MAIL_USERNAME": environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": environ.get(
            "MAIL_DEFAULT_SENDER", "Social Owners <editors@localhost>"
        ),
        # Never suppressed in tests either: the suite talks to a real SMTP server.
        "MAIL_SUPPRESS_SEND": False,
        # Where replies go (empty: to the sender); the domain of Message-IDs.
        "MAIL_REPLY_TO": environ.get("MAIL_REPLY_TO", ""),
        "MAIL_MESSAGE_ID_DOMAIN": environ.get("MAIL_MESSAGE_ID_DOMAIN", ""),
        "MAIL_TIMEOUT": _int(environ, "MAIL_TIMEOUT", 10, minimum=1),
        "MAIL_BATCH_SIZE": _int(environ, "MAIL_BATCH_SIZE", 20, minimum=1),
        # A temporarily failing email is given up once it is this old (an outage
        # costs no tries, so only age can tell that it is time to stop).
        "MAIL_EXPIRE_DAYS": _int(environ, "MAIL_EXPIRE_DAYS", 3, minimum=1),
        "MAIL_LEASE_SECONDS": _int(environ, "MAIL_LEASE_SECONDS", 600, minimum=0),
        "MAIL_ALERT_MINUTES": _int(environ, "MAIL_ALERT_MINUTES", 60, minimum=1),
        "ALARM_CHECK_SECONDS": _int(environ, "ALARM_CHECK_SECONDS", 60, minimum=0),
        "MAIL_BACKOFF_SECONDS": _int(environ, "MAIL_BACKOFF_SECONDS", 60, minimum=1),
        # Werkzeug's scrypt. Not read from the environment: only the test suite,
        # which hashes hundreds of throwaway passwords, sets a cheaper one.
        "PASSWORD_HASH_METHOD": "scrypt",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SHARE_FONT": environ.get("SHARE_FONT", ""),
        "PROXY_COUNT": _int(environ, "PROXY_COUNT", 0),
        "RATELIMIT_STORAGE_URI": _storage(
            environ, "RATELIMIT_STORAGE_URI", environ.get("REDIS_URL") or "memory://"
        ),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis away: count in each process meanwhile (and say so in the log),
        # rather than refuse every login and application.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        "LOGIN_LIMIT_PER_ADDRESS": _limit(environ, "LOGIN_LIMIT_PER_ADDRESS", "20 per 10 minutes"),
        "LOGIN_LIMIT_PER_ACCOUNT": _limit(environ, "LOGIN_LIMIT_PER_ACCOUNT", "10 per 10 minutes"),
        # Second-step codes typed for one account (a 6-digit code: keep it low).
        "TWO_FACTOR_LIMIT": _limit(environ, "TWO_FACTOR_LIMIT", "5 per 10 minutes"),
        "APPLY_LIMIT_PER_ADDRESS": _limit(environ, "APPLY_LIMIT_PER_ADDRESS", "5 per hour"),
        "SUBSCRIBE_LIMIT_PER_ADDRESS": _limit(
            environ, "SUBSCRIBE_LIMIT_PER_ADDRESS", "10 per hour"
        ),
        # Emails a visitor can make us send to an address they typed (apply, save,
        # resend): per recipient and per client address.
        "EMAIL_LIMIT_PER_RECIPIENT": _limit(environ, "EMAIL_LIMIT_PER_RECIPIENT", "5 per hour"),
        "EMAIL_LIMIT_PER_CLIENT": _limit(environ, "EMAIL_LIMIT_PER_CLIENT", "20 per hour"),
        "SPAM_MIN_SECONDS": _int(environ, "SPAM_MIN_SECONDS", 5),
        "SPAM_MAX_LINKS": _int(environ, "SPAM_MAX_LINKS", 8),
        "SPAM_BLOCKLIST": environ.get(
            "SPAM_BLOCKLIST",
            "casino,viagra,cialis,porn,xxx,escort,onlyfans,payday loan,backlinks,"
            "seo services,guest post,crypto giveaway,forex signals,buy followers",
        ),
        "SITE_TIMEZONE": _timezone(environ, "SITE_TIMEZONE", "Europe/London"),
        "QUEUE_FLAG_DAYS": _int(environ, "QUEUE_FLAG_DAYS", 7, minimum=1),
        "SQLITE_BUSY_TIMEOUT_MS": _int(environ, "SQLITE_BUSY_TIMEOUT_MS", 15000),
    }


def check(config) -> None:
    """Refuse to run production with the development secret key or a weak one."""
    if config.get("ENV_NAME") == "production":
        key = config.get("SECRET_KEY") or ""
        if not key or key == DEV_SECRET_KEY:
            raise ConfigError(
                "SECRET_KEY is unset or the development default; "
                "set a long random SECRET_KEY before running in production."
            )
        if len(key) < SECRET_KEY_MIN or len(set(key)) < SECRET_KEY_MIN // 2:
            raise ConfigError(
                f"SECRET_KEY is too short or too plain: use at least {SECRET_KEY_MIN} random "
                "characters, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))'."
            )
        host = urlsplit(config.get("PUBLIC_URL") or "").hostname or ""
        if host in ("127.0.0.1", "localhost", "::1") or host.endswith(".localhost"):
            raise ConfigError(
                f"PUBLIC_URL={config.get('PUBLIC_URL')!r} is not valid in production: every "
                "emailed link would point at this machine; set the site's public address."
            )
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
