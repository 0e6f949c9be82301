"""Settings read from the environment (SPEC "Running it"); SQLite under instance/ by default."""

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


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
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-change-me"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
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
        # Named by the footer's pages (mentions légales, accessibilité); None: "non renseigné".
        "LEGAL_PUBLISHER": os.environ.get("LEGAL_PUBLISHER") or None,
        "LEGAL_HOST": os.environ.get("LEGAL_HOST") or None,
        "LEGAL_CONTACT_EMAIL": os.environ.get("LEGAL_CONTACT_EMAIL") or None,
    }
