"""BER 4-5 e-mails through a real SMTP server: the reservation (one per validation, the guide's
text plus the units) and the BER cancellation; SMTP down during a reservation."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl import booking, dates
from rdvpl.extensions import db
from rdvpl.models import AutoEcole, Inspector, OutboxMail, Session, Unit, UnitStatus
from rdvpl.notify import deliver_pending
from rdvpl.seed import seed_demo
from tests.conftest import user_by_email
from tests.mailsink import body_html, body_text

NEXT_MONDAY = dates.monday_of(dates.today()) + dt.timedelta(days=7)
FRIDAY = NEXT_MONDAY + dt.timedelta(days=4)

GUIDE_SENTENCES = [
    "Madame, Monsieur,",
    "Des places d'examens pratiques du permis de conduire groupe lourd viennent d'être "
    "réservées au nom de Alliance Auto-Ecole.",
    "Pour toute autre demande, vous pouvez consulter notre aide en ligne, ou, le cas échéant, "
    "contacter votre BER.",
    "Pour rappel, le jour de l'examen, vos candidats doivent présenter :",
    "- un titre d'identité en cours de validité : Carte nationale d'identité, Passeport ou "
    "Titre de séjour",
    "- leur permis de conduire.",
    "Attention : l'absence ou la non-validité d'un des documents exigés ci-dessus entraîne le "
    "report de l'examen pour les candidats concernés.",
]


@pytest.fixture
def setup(app, smtp):
    with app.app_context():
        seed_demo()
    smtp.clear()
    with app.app_context():
        yield app, smtp


def friday_units() -> list[Unit]:
    return db.session.scalars(
        sa.select(Unit).join(Unit.session).join(Session.inspector)
        .where(Inspector.last_name == "DUMAS", Session.date == FRIDAY,
               Unit.start_time >= dt.time(15, 30)).order_by(Unit.start_time)).all()


def alliance() -> AutoEcole:
    return db.session.scalar(sa.select(AutoEcole).where(
        AutoEcole.aurige_id == "auto-ecole-aurige-1"))


def test_one_reservation_mail_for_four_units(setup):
    app, smtp = setup
    ber = user_by_email("ber011@example.test")
    booking.reserve_units(ber, [u.id for u in friday_units()], alliance().id)
    [message] = smtp.wait_for(count=1, timeout=5)
    assert smtp.wait_for(count=2, timeout=0.5) == [message]  # one e-mail, not one per unit
    assert message["To"] == "alliance@example.test"
    assert message["Subject"] == "Réservation d'examens pratiques du permis de conduire"
    body = body_text(message)
    for sentence in GUIDE_SENTENCES:
        assert sentence in body
    day = dates.jour_date(FRIDAY)
    for start, end in (("15:30", "16:00"), ("16:00", "16:30"), ("16:30", "17:00"),
                       ("17:00", "17:30")):
        assert (f"- {day}, de {start} à {end}, centre CARCASSONNE, catégorie CE, "
                "Inspecteur 2488") in body
    assert "Les 4 places d'examens réservées :" in body
    # Schools see the inspector's matricule, never the name.
    assert "DUMAS" not in body and "Anna" not in body
    page = body_html(message)
    assert "4 places d'examens" in page and page.count("CARCASSONNE") == 4
    assert "15:30 → 16:00" in page and "DUMAS" not in page


def test_ber_cancellation_mail_names_the_unit(setup):
    app, smtp = setup
    ber = user_by_email("ber011@example.test")
    unit = friday_units()[0]
    booking.reserve_units(ber, [unit.id], alliance().id)
    smtp.wait_for(count=1, timeout=5)
    smtp.clear()
    booking.cancel_unit_by_ber(ber, unit.id)
    [message] = smtp.wait_for(count=1, timeout=5)
    assert message["To"] == "alliance@example.test"
    assert message["Subject"] == "Annulation d'examens pratiques du permis de conduire"
    body = body_text(message)
    assert ("La place d'examen pratique du permis de conduire groupe lourd suivante, réservée "
            "au nom de Alliance Auto-Ecole, a été annulée par votre Bureau d'Éducation "
            "Routière (BER) :") in body
    assert (f"- {dates.jour_date(FRIDAY)}, de 15:30 à 16:00, centre CARCASSONNE, catégorie CE, "
            "Inspecteur 2488") in body
    assert "Cette place ne figure plus dans vos examens programmés" in body
    assert "DUMAS" not in body


def test_cancellation_template_lists_several_units(setup):
    """The session deletion (BER 2) reuses the template with several units."""
    from flask import render_template

    units = [{"date": FRIDAY, "start": dt.time(8), "end": dt.time(8, 30),
              "centre": "CARCASSONNE", "category": "CE"},
             {"date": FRIDAY, "start": dt.time(8, 30), "end": dt.time(9),
              "centre": "CARCASSONNE", "category": "CE"}]
    body = render_template("email/cancel_by_ber.txt", school=alliance(), units=units)
    assert "Les 2 places d'examens pratiques du permis de conduire groupe lourd suivantes" in body
    assert f"- {dates.jour_date(FRIDAY)}, de 08:30 à 09:00, centre CARCASSONNE, catégorie CE\n" \
        in body
    assert "Inspecteur" not in body


def test_smtp_down_reservation_stands_and_mail_arrives_once_later(setup):
    app, smtp = setup
    port = smtp.port
    smtp.stop()  # the mail server is down
    ber = user_by_email("ber011@example.test")
    ids = [u.id for u in friday_units()]
    booking.reserve_units(ber, ids, alliance().id)

    db.session.expire_all()
    assert {u.status for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))} == {
        UnitStatus.RESERVED}
    row = db.session.scalar(sa.select(OutboxMail))
    assert row.kind == "reservation" and row.status == "pending"
    assert row.attempts == 0 and row.last_error  # an outage is not the mail's failure
    db.session.commit()  # end this read transaction (on SQLite it holds the write lock)

    smtp.__init__(port)
    smtp.start()  # the server is back
    assert deliver_pending(app) == {"sent": 1, "failed": 0}
    assert deliver_pending(app) == {"sent": 0, "failed": 0}
    messages = smtp.wait_for(count=1, timeout=5)
    assert len(messages) == 1 and smtp.wait_for(count=2, timeout=0.5) == messages
    assert messages[0]["Subject"] == "Réservation d'examens pratiques du permis de conduire"
    db.session.expire_all()
    assert db.session.scalar(sa.select(OutboxMail.status)) == "sent"
