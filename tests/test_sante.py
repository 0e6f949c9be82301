"""/sante: the health endpoint for monitoring (public, JSON, no personal data)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from rdvpl import create_app
from rdvpl.dates import utcnow
from rdvpl.extensions import db
from rdvpl.models import OutboxMail
from rdvpl.notify import queue_mail


def test_sante_answers_with_the_outbox_figures(app, client):
    with app.test_request_context():
        for i in range(4):
            queue_mail("test", [f"ecole{i}@example.test"], f"Sujet {i}", "_test", message="x")
        db.session.commit()
        oldest, _, failed, sent = db.session.scalars(
            sa.select(OutboxMail).order_by(OutboxMail.id)).all()
        oldest.created_at = utcnow() - dt.timedelta(minutes=10)
        failed.status, failed.last_error = "failed", "554 refusé"
        sent.status, sent.sent_at = "sent", utcnow()
        db.session.commit()

    response = client.get("/sante")
    assert response.status_code == 200 and response.is_json
    figures = response.get_json()
    assert figures["statut"] == "ok" and figures["base_de_donnees"] == "ok"
    assert figures["mails_en_attente"] == 2 and figures["mails_en_echec"] == 1
    assert 600 <= figures["attente_max_secondes"] < 3600
    body = response.get_data(as_text=True)
    assert "ecole" not in body and "Sujet" not in body  # no personal data, no mail content
    assert response.headers["Cache-Control"] == "no-store"


def test_sante_with_an_empty_outbox(client):
    figures = client.get("/sante").get_json()
    assert figures == {"statut": "ok", "base_de_donnees": "ok", "mails_en_attente": 0,
                       "mails_en_echec": 0, "attente_max_secondes": 0}


def test_sante_is_public_for_htmx_too(client):
    assert client.get("/sante", headers={"HX-Request": "true"}).status_code == 200


def test_sante_answers_503_when_the_database_is_unreachable(tmp_path):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'absent' / 'rdvpl.sqlite'}",
        "MAIL_DELIVERY": "sync",
    })
    response = app.test_client().get("/sante")
    assert response.status_code == 503
    assert response.get_json() == {"statut": "indisponible", "base_de_donnees": "injoignable"}
