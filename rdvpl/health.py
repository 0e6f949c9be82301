"""``/sante``: is this instance healthy? For monitoring (public, JSON, no personal data)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .access import public
from .extensions import db
from .notify import outbox_health

bp = Blueprint("sante", __name__)


@bp.get("/sante")
@public
def sante():
    """200 with the outbox figures when the database answers, 503 when it does not."""
    try:
        figures = outbox_health()
    except SQLAlchemyError:
        db.session.rollback()
        response = jsonify(statut="indisponible", base_de_donnees="injoignable")
        response.status_code = 503
    else:
        response = jsonify(statut="ok", base_de_donnees="ok", **figures)
    response.headers["Cache-Control"] = "no-store"
    return response
