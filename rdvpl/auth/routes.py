import hashlib
from urllib.parse import urlsplit

from flask import flash, g, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from .. import accounts
from ..access import public, signed_in
from ..errors import DomainError
from ..extensions import limiter
from ..models import Role
from . import bp
from .forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, NewPasswordForm

HOME_BY_ROLE = {
    Role.BER: "ber.planning",
    Role.AE: "ae.exams",
    Role.ADMIN: "admin.referentiels",
}
INCORRECT = "Adresse électronique ou mot de passe incorrect."
TOO_MANY = "Trop de tentatives de connexion. Réessayez dans 15 minutes."
TOO_MANY_CHANGES = "Trop de tentatives. Réessayez dans 15 minutes."
TOO_MANY_RESETS = "Trop de demandes. Réessayez dans une heure."


def home_url(user) -> str:
    return url_for(HOME_BY_ROLE[Role(user.role)])


def _safe_next(target: str | None) -> str | None:
    """Only a local path may be a post-login destination: no open redirect, and nothing a
    Location header cannot carry (CR/LF, control characters)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None  # browsers read "/\\evil.example" as "//evil.example"
    try:
        parts = urlsplit(target)
    except ValueError:
        return None
    return None if parts.scheme or parts.netloc else target


# Throttling counts failed sign-ins only (deduct_when), per account and per address; once a
# limit is reached the attempt is refused before the password is even checked.

def _account_key() -> str:
    """The account an attempt is for, hashed: no e-mail address in the limiter's storage."""
    address = accounts.normalize_email(request.form.get("email")) or ""
    return "account:" + hashlib.sha256(address.encode()).hexdigest()


def _failed(response) -> bool:  # noqa: ARG001
    return g.get("sign_in_failed", False)


def _too_many(limit):  # noqa: ARG001
    form = LoginForm()
    return make_response(render_template("auth/login.html", form=form, error=TOO_MANY), 429)


def _user_key() -> str:
    return f"password-change:{current_user.id}"


def _too_many_changes(limit):  # noqa: ARG001
    form = ChangePasswordForm()
    return make_response(render_template("auth/change_password.html", form=form,
                                         error=TOO_MANY_CHANGES), 429)


def _too_many_resets(limit):  # noqa: ARG001
    form = ForgotPasswordForm()
    return make_response(render_template("auth/forgot_password.html", form=form, sent=False,
                                         error=TOO_MANY_RESETS), 429)


@bp.route("/connexion", methods=["GET", "POST"])
@public
@limiter.limit("20 per 15 minutes", methods=["POST"], deduct_when=_failed, on_breach=_too_many)
@limiter.limit("5 per 15 minutes", key_func=_account_key, methods=["POST"],
               deduct_when=_failed, on_breach=_too_many)
def login():
    """Sign-in with e-mail and password; a new server-side session replaces whatever the
    browser's cookie held."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user:
            target = _safe_next(request.args.get("next")) or home_url(user)
            session.clear()  # rotation: nothing from before the sign-in survives it
            accounts.start_session(user)
            login_user(user)
            return redirect(target)
        g.sign_in_failed = True
        error = INCORRECT
    status = 422 if form.is_submitted() and (error or form.errors) else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/deconnexion", methods=["POST"])
@signed_in
def logout():
    """Sign out (POST only, CSRF-checked): the session ends on the server too."""
    accounts.end_session(current_user.session_token)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", methods=["POST"], on_breach=_too_many_resets)
def forgot_password():
    """"Mot de passe oublié ?": the same answer whether the e-mail has an account or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(
            form.email.data,
            link_for=lambda token: url_for("auth.reset_password", token=token, _external=True))
        return render_template("auth/forgot_password.html", form=form, sent=True)
    status = 422 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form, sent=False), status


@bp.route("/mot-de-passe/reinitialisation/<token>", methods=["GET", "POST"])
@public
def reset_password(token):
    """The page of the mailed link: choose a new password (once, within the hour)."""
    try:
        accounts.user_for_reset(token)
    except accounts.ResetLinkInvalid as refused:
        return render_template("auth/reset_password.html", invalid=refused.message), 400
    form = NewPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data, form.confirm.data)
        except DomainError as refused:
            error = refused.message
        else:
            session.clear()
            flash("Votre mot de passe a été modifié. Connectez-vous avec le nouveau mot de passe.")
            return redirect(url_for("auth.login"))
    status = 422 if form.errors or error else 200
    return render_template("auth/reset_password.html", form=form, error=error), status


@bp.route("/compte/activation/<token>", methods=["GET", "POST"])
@public
def activate(token):
    """The page of "Activez votre compte RdvPermis": choose a password (once, within 48 h);
    a used, expired or broken link says which."""
    try:
        user = accounts.user_for_activation(token)
    except accounts.ActivationLinkInvalid as refused:
        return render_template("auth/activate.html", invalid=refused), 400
    form = NewPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            accounts.activate_account(token, form.password.data, form.confirm.data)
        except DomainError as refused:
            error = refused.message
        else:
            session.clear()
            flash("Votre compte est activé. Connectez-vous avec votre adresse électronique et "
                  "le mot de passe choisi.")
            return redirect(url_for("auth.login"))
    status = 422 if form.errors or error else 200
    return render_template("auth/activate.html", form=form, error=error, user=user), status


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@signed_in
@limiter.limit("5 per 15 minutes", key_func=_user_key, methods=["POST"], deduct_when=_failed,
               on_breach=_too_many_changes)
def change_password():
    """"Changer mon mot de passe": the current one, then the new one twice. Wrong current
    passwords are throttled per account as sign-in is (a session left open on a shared
    tablet must not be a way to guess the password)."""
    form = ChangePasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data,
                                     form.confirm.data)
        except accounts.WrongCurrentPassword as refused:
            g.sign_in_failed = True
            error = refused.message
        except DomainError as refused:
            error = refused.message
        else:
            flash("Votre mot de passe a été modifié. Vos autres connexions ont été fermées.")
            return redirect(url_for("auth.change_password"))
    status = 422 if form.errors or error else 200
    return render_template("auth/change_password.html", form=form, error=error), status


@bp.route("/")
@signed_in
def index():
    """Each role lands on its own first screen."""
    return redirect(home_url(current_user))
