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

from flask import current_app, has_request_context, request
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import String, bindparam, cast, delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from . import history, notify, tokens
from .dates import utcnow
from .errors import DomainError
from .extensions import db, write_transaction
from .models import (
    AutoEcole,
    Department,
    FavouriteInspector,
    OutboxMail,
    SignInSession,
    User,
)

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
RESET_MAX_AGE = 3600  # seconds: the link of "Mot de passe oublié ?" is valid 1 hour
ACTIVATION_MAX_AGE = 48 * 3600  # the link of "Activez votre compte RdvPermis": 48 hours
RESET_MAILS_PER_HOUR = 3  # more requests for one account in an hour send nothing more
# last_seen_at is written at most this often, so that a busy page costs no write per request.
LAST_SEEN_EVERY = dt.timedelta(minutes=1)


class PasswordRefused(DomainError):
    """A new password that breaks the rules, or a wrong current password."""

    def __init__(self, message: str):
        super().__init__(message, title="Mot de passe refusé")


class WrongCurrentPassword(PasswordRefused):
    """"Changer mon mot de passe" with a wrong current password (throttled by the view)."""


class ResetLinkInvalid(DomainError):
    status_code = 400

    def __init__(self):
        super().__init__(
            "Ce lien n'est plus valable : il a déjà servi, il a expiré (il est valable 1 heure) "
            "ou il est incomplet. Demandez un nouveau lien depuis « Mot de passe oublié ? ».",
            title="Lien expiré",
        )


class ActivationLinkInvalid(DomainError):
    """An activation link that cannot serve: the page says why (used, expired, broken)."""

    status_code = 400
    MESSAGES = {
        "used": ("Lien déjà utilisé",
                 "Ce lien d'activation a déjà servi : votre mot de passe est choisi. Connectez-"
                 "vous avec votre adresse électronique et ce mot de passe (en cas d'oubli : "
                 "« Mot de passe oublié ? » sur la page de connexion)."),
        "expired": ("Lien expiré",
                    "Ce lien d'activation a expiré : il est valable 48 heures. Demandez à votre "
                    "BER (ou à l'administrateur de RdvPermis) de vous envoyer un nouveau lien."),
        "invalid": ("Lien invalide",
                    "Ce lien d'activation est incomplet ou ne correspond à aucun compte actif. "
                    "Vérifiez que vous avez copié le lien entier depuis l'e-mail reçu."),
    }

    def __init__(self, reason: str):
        title, message = self.MESSAGES[reason]
        super().__init__(message, title=title)
        self.reason = reason


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
    # A deactivated account is refused like a wrong password, after the same work.
    return user if user is not None and matches and user.active else None


# --- sign-in sessions ------------------------------------------------------------------------

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
    token, token_digest = tokens.new_token()
    db.session.add(SignInSession(token_hash=token_digest, user_id=user.id, created_at=now,
                                 last_seen_at=now))
    db.session.commit()
    user.session_token = token
    return token


@functools.cache
def _session_query():
    """load_session's statement, built once per process (every request runs it: building it
    each time cost more than running it). The user's school and department are columns of
    the same row, joined once (a school user's department is its school's): loaded that way
    rather than through nested joinedloads, whose aliasing cost more than the query itself."""
    favourites = (
        select(func.aggregate_strings(cast(FavouriteInspector.inspector_id, String), ","))
        .where(FavouriteInspector.user_id == User.id)
        .scalar_subquery()
    )
    return (
        select(SignInSession.id, SignInSession.last_seen_at, SignInSession.revoked_at, User,
               AutoEcole, Department, favourites.label("favourites"))
        .join(User, User.id == SignInSession.user_id)
        .outerjoin(AutoEcole, AutoEcole.id == User.auto_ecole_id)
        .outerjoin(Department, Department.id == func.coalesce(User.department_id,
                                                              AutoEcole.department_id))
        .where(SignInSession.token_hash == bindparam("digest"))
    )


def load_session(token: str | None, *, touch: bool = True) -> User | None:
    """The user of a live sign-in session (not revoked, used within the idle limit), else
    None. Marks the session as used (at most once a minute) unless ``touch`` is False (a
    request the page made by itself, such as a live grid's poll: no activity of the user's)."""
    if not token or len(token) > 128:
        return None
    # One statement for the session, its user and the user's department or school (every
    # page names them; the department's grid revision keys the cached grids, grid_cache.py).
    # The agent's favourite inspectors come in the same statement (they choose the inspector
    # shown by default and the order of the planning grids, and so key the cached grids).
    row = db.session.execute(_session_query(), {"digest": tokens.digest(token)}).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.last_seen_at < now - _idle_limit():
        return None
    user, school, department = row.User, row.AutoEcole, row.Department
    set_committed_value(user, "department", department if user.department_id else None)
    set_committed_value(user, "auto_ecole", school)
    if school is not None:
        set_committed_value(school, "department", department)
    if touch and now - row.last_seen_at >= LAST_SEEN_EVERY:
        write_transaction()  # a GET reads in a DEFERRED transaction: take the write lock first
        db.session.execute(update(SignInSession).where(
            SignInSession.id == row.id, SignInSession.last_seen_at < now - LAST_SEEN_EVERY,
        ).values(last_seen_at=now))
        db.session.commit()  # the user is reloaded at its next use, under the new transaction
    if not user.active:  # deactivation revokes too; belt and braces
        return None
    user.session_token = token
    user.favourite_ids = frozenset(int(i) for i in (row.favourites or "").split(",") if i)
    if has_request_context():
        request.environ["rdvpl.user_loaded"] = True  # grid_cache.LOADED_IN_REQUEST
    return user


def favourite_ids(user: User) -> frozenset[int]:
    """The inspectors ``user`` marked as favourites: read with the sign-in session
    (accounts.load_session), else one SQL statement."""
    if user.favourite_ids is not None:
        return user.favourite_ids
    return frozenset(db.session.scalars(
        select(FavouriteInspector.inspector_id).where(FavouriteInspector.user_id == user.id)))


def end_session(token: str | None) -> None:
    """Sign-out: this browser's session is revoked (the others of the user stay)."""
    if token:
        db.session.execute(update(SignInSession).where(
            SignInSession.token_hash == tokens.digest(token), SignInSession.revoked_at.is_(None),
        ).values(revoked_at=utcnow()))
        db.session.commit()


def revoke_sessions(user: User, *, keep_token: str | None = None) -> None:
    """Revoke every session of ``user`` but ``keep_token``'s (the caller commits). For a
    password change or reset, and when the account is deactivated."""
    query = update(SignInSession).where(SignInSession.user_id == user.id,
                                        SignInSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(SignInSession.token_hash != tokens.digest(keep_token))
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
        raise WrongCurrentPassword("Le mot de passe actuel est incorrect.")
    check_new_password(password, confirm)
    user.set_password(password)
    revoke_sessions(user, keep_token=user.session_token)
    history.record(user, "user.password_changed", "user", user.id,
                   department_id=user.department_id)
    db.session.commit()


# One mechanism for both mailed links ("Mot de passe oublié ?" and "Activez votre compte"):
# a token signed with SECRET_KEY (a salt per purpose, so that one kind of link cannot be used
# as the other), carrying the user and a fingerprint of the password hash, valid for the
# purpose's duration. Choosing a password changes the hash: the link then works no more.
LINK_PURPOSES = {
    "reset": ("rdvpl.password-reset", RESET_MAX_AGE),
    "activation": ("rdvpl.account-activation", ACTIVATION_MAX_AGE),
}


def _serializer(purpose: str = "reset") -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"],
                                  salt=LINK_PURPOSES[purpose][0])


def _fingerprint(user: User) -> str:
    """Changes with the password: a link made before a change no longer matches, so it works
    once. A digest, because the token is signed, not encrypted: the hash itself stays home."""
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:32]


def link_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"u": user.id, "p": _fingerprint(user)})


def reset_token(user: User) -> str:
    return link_token(user, "reset")


def activation_token(user: User) -> str:
    return link_token(user, "activation")


def user_for_link(token: str, purpose: str) -> tuple[User | None, str]:
    """(user, "ok") for a live link of ``purpose``; else (None or the user, the reason:
    "expired", "used" — the password changed since — or "invalid")."""
    try:
        data = _serializer(purpose).loads(token, max_age=LINK_PURPOSES[purpose][1])
    except SignatureExpired:
        return None, "expired"
    except BadData:
        return None, "invalid"
    user_id = data.get("u") if isinstance(data, dict) else None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        return None, "invalid"
    if not hmac.compare_digest(str(data.get("p")), _fingerprint(user)):
        return user, "used"
    return user, "ok"


def request_password_reset(email: str | None, link_for: Callable[[str], str]) -> None:
    """"Mot de passe oublié ?": mail a one-time link valid 1 hour through the outbox if the
    e-mail has an account; nothing otherwise (the page says the same either way)."""
    user = find_user(email)
    if user is None or not user.active:
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
    user, state = user_for_link(token, "reset")
    if state != "ok":
        raise ResetLinkInvalid()
    return user


def reset_password(token: str, password: str, confirm: str) -> User:
    """Set the new password chosen through a reset link; the link dies with the old password
    and every sign-in session of the user ends."""
    user = user_for_reset(token)
    check_new_password(password, confirm)
    user.set_password(password)
    user.activated_at = user.activated_at or utcnow()
    revoke_sessions(user)
    history.record(user, "user.password_reset", "user", user.id,
                   department_id=user.department_id)
    db.session.commit()
    return user


# --- account activation ----------------------------------------------------------------------

def queue_activation_mail(user: User, link_for: Callable[[str], str]) -> None:
    """"Activez votre compte RdvPermis": a one-time link valid 48 hours to choose a password,
    through the outbox (the caller commits, with the change that promised it)."""
    notify.activation_email(user, link_for(activation_token(user)))


def user_for_activation(token: str) -> User:
    """The account an activation link was made for, if the link still serves (48 hours, no
    password chosen since); else ActivationLinkInvalid saying why."""
    user, state = user_for_link(token, "activation")
    if state != "ok":
        raise ActivationLinkInvalid(state)
    return user


def activate_account(token: str, password: str, confirm: str) -> User:
    """The person chooses a password through the activation link: the account is activated
    and the link dies with the unusable password it was bound to."""
    user = user_for_activation(token)
    check_new_password(password, confirm)
    user.set_password(password)
    user.activated_at = user.activated_at or utcnow()
    revoke_sessions(user)
    history.record(user, "user.activated", "user", user.id, department_id=department_of(user))
    db.session.commit()
    return user


def department_of(user: User) -> int | None:
    """The department an account belongs to: its own (BER) or its school's (AE)."""
    if user.auto_ecole_id is not None:
        return user.auto_ecole.department_id
    return user.department_id
