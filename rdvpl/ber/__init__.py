"""Blueprint of the ber screens; access is declared in rdvpl/access.py (BLUEPRINT_ROLES)."""

from flask import Blueprint

bp = Blueprint("ber", __name__)

from . import routes  # noqa: E402,F401
