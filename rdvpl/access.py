"""Who may reach which endpoint. Checked for every request before any view runs.

Each blueprint declares its role in BLUEPRINT_ROLES; a view outside them must be marked
``@public`` or ``@signed_in``. An endpoint with no rule is refused loudly (500 and a log line),
so a new route cannot silently skip authorization; tests/test_access.py walks the URL map.
"""

from __future__ import annotations

from flask import abort, current_app, request
from flask_login import current_user

from .extensions import login_manager
from .models import Role

# Reference data, accounts and the e-mail follow-up: a BER agent (whose views load every
# object through its own department, else 404) or the admin (every department).
STAFF = "staff"

BLUEPRINT_ROLES: dict[str, Role | str] = {
    "ber": Role.BER,
    "ae": Role.AE,
    "admin": Role.ADMIN,
    "referentiels": STAFF,
}


def public(view):
    """Reachable without signing in (login page, static files)."""
    view._access = "public"
    return view


def signed_in(view):
    """Reachable by any signed-in user, whatever the role."""
    view._access = "signed_in"
    return view


def background(view):
    """A request the page makes by itself (a live grid asking whether anything changed): it
    does not count as the user's activity, so an open page left alone still signs out after
    the idle limit (SESSION_IDLE_MINUTES)."""
    view._background = True
    return view


def is_background() -> bool:
    """True while serving a view marked ``@background``."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "_background", False))


def rule_for(endpoint: str) -> str | None:
    """The access rule of an endpoint: 'public', 'signed_in', a role value, or None (missing)."""
    if endpoint == "static":
        return "public"
    view = current_app.view_functions.get(endpoint)
    marked = getattr(view, "_access", None)
    if marked:
        return marked
    blueprint = endpoint.rpartition(".")[0]
    role = BLUEPRINT_ROLES.get(blueprint)
    return str(role) if role else None


def check_access():
    """before_request hook: sign-in, role and (for BER/AE) an attached department or school."""
    if request.endpoint is None:  # unknown URL: let the 404 handler answer
        return None
    rule = rule_for(request.endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s has no access rule", request.endpoint)
        abort(500)
    if rule == "public":
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if rule == "signed_in":
        return None
    if rule == STAFF:
        if current_user.role == Role.ADMIN or (
                current_user.role == Role.BER and current_user.department_id is not None):
            return None
        abort(403)
    if current_user.role != rule:
        abort(403)
    if rule == Role.BER and current_user.department_id is None:
        abort(403)
    if rule == Role.AE and current_user.auto_ecole_id is None:
        abort(403)
    return None
