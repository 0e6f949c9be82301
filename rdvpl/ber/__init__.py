"""BER screens. Access (role BER, own department) is declared in rdvpl/access.py."""

from flask import Blueprint

bp = Blueprint("ber", __name__)

from . import (  # noqa: E402,F401
    routes_bulk,
    routes_capacity,
    routes_creneaux,
    routes_demands,
    routes_live,
    routes_planning,
    routes_suivi,
)
