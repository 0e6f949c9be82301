"""Blueprint "Gérer les référentiels" and "Suivi des e-mails": a BER agent for its own
department, the admin for every one (rule STAFF in rdvpl/access.py)."""

from flask import Blueprint

bp = Blueprint("referentiels", __name__)

from . import routes, routes_mails  # noqa: E402,F401
