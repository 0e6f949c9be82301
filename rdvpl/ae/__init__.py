"""Blueprint of the ae screens; access is declared in rdvpl/access.py (BLUEPRINT_ROLES)."""

from flask import Blueprint

bp = Blueprint("ae", __name__)

from . import routes, routes_agenda, routes_candidates, routes_demands  # noqa: E402,F401
