"""BER screens. Access (role BER, own department) is declared in rdvpl/access.py."""

from flask import Blueprint

bp = Blueprint("ber", __name__)

from . import routes_creneaux, routes_demands, routes_planning, routes_suivi  # noqa: E402,F401
