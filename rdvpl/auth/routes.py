from urllib.parse import urlsplit

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from ..access import public, signed_in
from ..extensions import db
from ..models import Role, User
from . import bp
from .forms import LoginForm

HOME_BY_ROLE = {
    Role.BER: "ber.planning",
    Role.AE: "ae.exams",
    Role.ADMIN: "admin.referentiels",
}


def home_url(user) -> str:
    return url_for(HOME_BY_ROLE[Role(user.role)])


def _safe_next(target: str | None) -> str | None:
    """Only a local path may be a post-login destination (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/connexion", methods=["GET", "POST"])
@public
def login():
    """Sign-in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == form.email.data.strip().lower())
        )
        if user and user.check_password(form.password.data):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or home_url(user))
        error = "Adresse électronique ou mot de passe incorrect."
    status = 200 if not form.is_submitted() else 422 if (error or form.errors) else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/deconnexion", methods=["POST"])
@signed_in
def logout():
    """Sign out (POST only, CSRF-checked)."""
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/")
@signed_in
def index():
    """Each role lands on its own first screen."""
    return redirect(home_url(current_user))
