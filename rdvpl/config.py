"""Settings read from the environment (SPEC "Running it"); SQLite under instance/ by default."""

import logging
import os
import secrets
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"

# Keys anyone can read in this repository's history: signing cookies with one of them lets
# anybody forge an admin session.
KNOWN_KEYS = {"dev-only-change-me", "change-me", "secret", "dev"}

log = logging.getLogger(__name__)


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    """Return the Flask configuration taken from environment variables."""
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'rdvpl.sqlite'}"
    if database_url.startswith("postgres://"):  # Heroku-style URLs
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Connections idle a few seconds are checked before use (extensions.ping_idle_connections),
        # not every one on every request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "RdvPermis <ne-pas-repondre@rdvpermis.example.test>"
        ),
        # "thread": each process's delivery loop sends the outbox, woken by each commit that
        # queued a mail and every MAIL_LOOP_SECONDS; "sync": deliver before the response
        # returns (tests); "off": only the CLI delivers.
        "MAIL_DELIVERY": os.environ.get("MAIL_DELIVERY", "thread"),
        "MAIL_LOOP_SECONDS": float(os.environ.get("MAIL_LOOP_SECONDS", "15")),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),  # SMTP socket, seconds
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE"),
        "WTF_CSRF_TIME_LIMIT": None,
        # Behind a reverse proxy (TLS ended there): the number of proxies whose
        # X-Forwarded-For/-Proto/-Host headers are trusted (werkzeug ProxyFix). 0: none.
        "PROXY_FIX": int(os.environ.get("PROXY_FIX") or 0),
        # A signed-in browser unused for this long must sign in again (SPEC: 2 hours).
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES") or 120),
        # Sign-in throttling (Flask-Limiter): Redis shared by every worker in production,
        # e.g. redis://127.0.0.1:6379; memory:// (one process) by default. If the storage is
        # unreachable, each process falls back to its own memory and logs a warning.
        # Explicit: Flask-Limiter's init_app would otherwise inherit the value a previous app
        # of the same process gave its module-level limiter (tests build several apps).
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_KEY_PREFIX": "rdvpl",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Rendered grid rows (rdvpl/grid_cache.py): an LRU in each process by default; Redis
        # shared by the workers with GRID_CACHE_URL (or REDIS_URL), e.g.
        # redis://127.0.0.1:6379/1, behind each process' LRU; "off" renders every grid from the
        # database. The LRU holds at most GRID_CACHE_SIZE entries and GRID_CACHE_MAX_MB of HTML.
        "GRID_CACHE_URL": os.environ.get("GRID_CACHE_URL") or os.environ.get("REDIS_URL") or "",
        "GRID_CACHE_SIZE": int(os.environ.get("GRID_CACHE_SIZE") or 2048),
        "GRID_CACHE_MAX_MB": float(os.environ.get("GRID_CACHE_MAX_MB") or 64),
        # Named by the footer's pages (mentions légales, accessibilité); None: "non renseigné".
        "LEGAL_PUBLISHER": os.environ.get("LEGAL_PUBLISHER") or None,
        "LEGAL_HOST": os.environ.get("LEGAL_HOST") or None,
        "LEGAL_CONTACT_EMAIL": os.environ.get("LEGAL_CONTACT_EMAIL") or None,
    }


def check_secret_key(config: dict, *, debug: bool) -> None:
    """Refuse to run without a real SECRET_KEY, except in debug and tests, which get a random
    one per process (sessions then end with the process)."""
    key = config.get("SECRET_KEY")
    if key and key not in KNOWN_KEYS:
        return
    if debug or config.get("TESTING"):
        if not config.get("TESTING"):
            log.warning("SECRET_KEY not set: debug mode signs cookies with a random key "
                        "that dies with this process.")
        config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise RuntimeError(
        "SECRET_KEY is not set (or is a published example value): rdvpl refuses to start, "
        "because anyone could forge a session cookie. Set SECRET_KEY to a long random value, "
        "the same for every worker, e.g. "
        "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))'). "
        "Only debug mode (FLASK_DEBUG=1) and the tests run without one."
    )
