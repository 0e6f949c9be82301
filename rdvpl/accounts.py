"""Accounts: sign-in, server-side sign-in sessions, password reset and change (SPEC Part 2
"Accounts and sign-in"). Plain functions: the routes pass values and render the outcome.

Sign-in sessions: the cookie (signed by Flask) carries a random token; the table
``sign_in_session`` keeps its SHA-256, the user, and when it was last used. Sign-out revokes
the row, so a copied cookie no longer works; a row unused for SESSION_IDLE_MINUTES (2 hours)
no longer signs in; each sign-in creates a new row (the session rotates).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from . import history, notify
from .dates import utcnow
from .errors import DomainError
from .extensions import db
from .models import OutboxMail, SignInSession, User

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
RESET_MAX_AGE = 3600  # seconds: the link of "Mot de passe oublié ?" is valid 1 hour
RESET_MAILS_PER_HOUR = 3  # more requests for one account in an hour send nothing more
# last_seen_at is written at most this often, so that a busy page costs no write per request.
LAST_SEEN_EVERY = dt.timedelta(minutes=1)


class PasswordRefused(DomainError):
    """A new password that breaks the rules, or a wrong current password."""

    def __init__(self, message: str):
        super().__init__(message, title="Mot de passe refusé")


class ResetLinkInvalid(DomainError):
    status_code = 400

    def __init__(self):
        super().__init__(
            "Ce lien n'est plus valable : il a déjà servi, il a expiré (il est valable 1 heure) "
            "ou il est incomplet. Demandez un nouveau lien depuis « Mot de passe oublié ? ».",
            title="Lien expiré",
        )


# --- sign-in ---------------------------------------------------------------------------------

def normalize_email(email: str | None) -> str | None:
    """The lookup form of an address, or None when it cannot be anyone's (control characters
    such as NUL, which PostgreSQL refuses in a query, or an absurd length)."""
    address = (email or "").strip().lower()
    if not address or len(address) > 254 or any(ord(c) < 32 or ord(c) == 127 for c in address):
        return None
    return address


def find_user(email: str | None) -> User | None:
    address = normalize_email(email)
    if address is None:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == address))


@functools.cache
def _dummy_hash() -> str:
    """A hash made like the users' (same algorithm and cost), checked when nobody has the
    e-mail, so that an unknown address costs the same work as a known one."""
    return generate_password_hash(secrets.token_hex(16))


def authenticate(email: str | None, password: str) -> User | None:
    """The user with this e-mail and password, else None. Exactly one password-hash check
    whether the account exists or not: the answer time does not tell who has an account."""
    user = find_user(email)
    matches = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    return user if user is not None and matches else None


# --- sign-in sessions ------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _idle_limit() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config.get("SESSION_IDLE_MINUTES", 120))


def start_session(user: User) -> str:
    """A new sign-in session for ``user``; returns its token (what the cookie carries)."""
    now = utcnow()
    # Forget this user's dead rows while we are here, so that the table stays small.
    db.session.execute(delete(SignInSession).where(
        SignInSession.user_id == user.id,
        or_(SignInSession.revoked_at.is_not(None),
            SignInSession.last_seen_at < now - _idle_limit())))
    token = secrets.token_urlsafe(32)
    db.session.add(SignInSession(token_hash=_digest(token), user_id=user.id, created_at=now,
                                 last_seen_at=now))
    db.session.commit()
    user.session_token = token
    return token


def load_session(token: str | None) -> User | None:
    """The user of a live sign-in session (not revoked, used within the idle limit), else
    None. Marks the session as used (at most once a minute)."""
    if not token or len(token) > 128:
        return None
    row = db.session.execute(
        select(SignInSession.id, SignInSession.user_id, SignInSession.last_seen_at,
               SignInSession.revoked_at)
        .where(SignInSession.token_hash == _digest(token))).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.last_seen_at < now - _idle_limit():
        return None
    if now - row.last_seen_at >= LAST_SEEN_EVERY:
        db.session.execute(update(SignInSession).where(
            SignInSession.id == row.id, SignInSession.last_seen_at < now - LAST_SEEN_EVERY,
        ).values(last_seen_at=now))
        db.session.commit()
    user = db.session.get(User, row.user_id)
    if user is not None:
        user.session_token = token
    return user


def end_session(token: str | None) -> None:
    """Sign-out: this browser's session is revoked (the others of the user stay)."""
    if token:
        db.session.execute(update(SignInSession).where(
            SignInSession.token_hash == _digest(token), SignInSession.revoked_at.is_(None),
        ).values(revoked_at=utcnow()))
        db.session.commit()


def revoke_sessions(user: User, *, keep_token: str | None = None) -> None:
    """Revoke every session of ``user`` but ``keep_token``'s (the caller commits). For a
    password change or reset, and for a future "deactivate the account"."""
    query = update(SignInSession).where(SignInSession.user_id == user.id,
                                        SignInSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(SignInSession.token_hash != _digest(keep_token))
    db.session.execute(query.values(revoked_at=utcnow()))


# --- passwords -------------------------------------------------------------------------------

def check_new_password(password: str, confirm: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise PasswordRefused(
            f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")
    if password != confirm:
        raise PasswordRefused("Les deux mots de passe saisis ne sont pas identiques.")


def change_password(user: User, current: str, password: str, confirm: str) -> None:
    """"Changer mon mot de passe": the current password, then the new one twice. The user's
    other sign-in sessions end; this one stays."""
    if not check_password_hash(user.password_hash, current or ""):
        raise PasswordRefused("Le mot de passe actuel est incorrect.")
    check_new_password(password, confirm)
    user.set_password(password)
    revoke_sessions(user, keep_token=user.session_token)
    history.record(user, "user.password_changed", "user", user.id,
                   department_id=user.department_id)
    db.session.commit()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="rdvpl.password-reset")


def _fingerprint(user: User) -> str:
    """Changes with the password: a link made before a change no longer matches, so it works
    once. A digest, because the token is signed, not encrypted: the hash itself stays home."""
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:32]


def reset_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "p": _fingerprint(user)})


def request_password_reset(email: str | None, link_for: Callable[[str], str]) -> None:
    """"Mot de passe oublié ?": mail a one-time link valid 1 hour through the outbox if the
    e-mail has an account; nothing otherwise (the page says the same either way)."""
    user = find_user(email)
    if user is None:
        return
    since = utcnow() - dt.timedelta(hours=1)
    recent = db.session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.kind == "password_reset", OutboxMail.recipients == user.email,
        OutboxMail.created_at >= since))
    if recent >= RESET_MAILS_PER_HOUR:  # no mailbox flooding through this form
        log.warning("password reset for user %s: %d links already sent this hour", user.id,
                    recent)
        return
    notify.password_reset_email(user, link_for(reset_token(user)))
    db.session.commit()


def user_for_reset(token: str) -> User:
    """The user a reset link was made for, if it is still valid (signed, under 1 hour old,
    and the password unchanged since); else ResetLinkInvalid."""
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE)
    except BadData:
        raise ResetLinkInvalid() from None
    user_id = data.get("u") if isinstance(data, dict) else None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not hmac.compare_digest(str(data.get("p")), _fingerprint(user)):
        raise ResetLinkInvalid()
    return user


def reset_password(token: str, password: str, confirm: str) -> User:
    """Set the new password chosen through a reset link; the link dies with the old password
    and every sign-in session of the user ends."""
    user = user_for_reset(token)
    check_new_password(password, confirm)
    user.set_password(password)
    revoke_sessions(user)
    history.record(user, "user.password_reset", "user", user.id,
                   department_id=user.department_id)
    db.session.commit()
    return user
