"""Suivi des e-mails: the admin sees every mail, a BER its department's (its mailbox, its
agents, its schools and their accounts), each with its state (envoyé, en attente, en échec
with the server's last answer); "Renvoyer" puts a failed mail back into the outbox and the
delivery sends it (against a real SMTP server)."""

from __future__ import annotations

import datetime as dt
import html
import uuid

import sqlalchemy as sa

from rdvpl.dates import utcnow
from rdvpl.extensions import db
from rdvpl.models import AutoEcole, History, OutboxMail

BER = "ber011@example.test"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def add_mail(to: str, subject: str, status: str = "sent", *, error: str | None = None,
             age: dt.timedelta = dt.timedelta(minutes=5)) -> int:
    mail = OutboxMail(kind="test", message_id=f"<{uuid.uuid4().hex}@example.test>",
                      recipients=to,
                      subject=subject, body_text=f"Corps de {subject}", status=status,
                      last_error=error, created_at=utcnow() - age,
                      sent_at=utcnow() if status == "sent" else None)
    db.session.add(mail)
    db.session.commit()
    return mail.id


def seed_mails(app) -> dict:
    with app.app_context():
        aude = db.session.scalar(sa.text("SELECT id FROM department WHERE code = '011'"))
        db.session.add(AutoEcole(department_id=aude, raison_sociale="École_Sud",
                                 aurige_id="sud", email="ecole_sud@example.test"))
        return {
            "school": add_mail("alliance@example.test", "Réservation 011", "sent"),
            "mailbox": add_mail("pl.ber011@example.test", "Annulation 011", "pending",
                                error="421 4.7.0 Try again later"),
            "failed": add_mail("Alliance002@Example.test", "Échec 011", "failed",
                               error="550 5.1.1 Mailbox unavailable",
                               age=dt.timedelta(days=3)),
            "other": add_mail("herault@example.test", "Réservation 034", "failed",
                              error="550 5.1.1 Unknown"),
            # an address that merely contains one of 011's must not count as 011's
            "lookalike": add_mail("xalliance@example.test", "Sosie", "sent"),
            # nor one that differs where 011's has an "_" (a LIKE wildcard)
            "wildcard": add_mail("ecoleXsud@example.test", "Joker", "sent"),
        }


def test_the_admin_sees_every_mail_and_a_ber_its_departments(demo, client, auth):
    seed_mails(demo)
    auth.login("admin@example.test")
    page = text(client.get("/referentiels/courriels"))
    for subject in ("Réservation 011", "Annulation 011", "Échec 011", "Réservation 034",
                    "Sosie", "Joker"):
        assert subject in page
    auth.logout()
    auth.login(BER)
    page = text(client.get("/referentiels/courriels"))
    assert "Réservation 011" in page and "Annulation 011" in page and "Échec 011" in page
    assert "Réservation 034" not in page and "Sosie" not in page and "Joker" not in page
    assert "en échec" in page and "Dernière réponse du serveur : 550 5.1.1 Mailbox unavailable" \
        in page
    assert "en attente" in page and "421 4.7.0 Try again later" in page
    failed_only = text(client.get("/referentiels/courriels?etat=failed"))
    assert "Échec 011" in failed_only and "Réservation 011" not in failed_only


def test_renvoyer_sends_a_failed_mail_again(demo, client, auth, smtp):
    ids = seed_mails(demo)
    auth.login(BER)
    response = client.post(f"/referentiels/courriels/{ids['failed']}/renvoi")
    assert response.status_code == 302
    assert "est remis en envoi" in text(client.get(response.location))
    # Queued three days ago, yet not given up again: the 48 hours count from the requeue.
    [mail] = smtp.wait_for(lambda m: m["Subject"] == "Échec 011", timeout=5)
    assert mail["To"].lower() == "alliance002@example.test"
    with demo.app_context():
        row = db.session.get(OutboxMail, ids["failed"])
        assert row.status == "sent" and row.requeued_at is not None
        [entry] = db.session.scalars(sa.select(History).where(
            History.action == "mail.requeued")).all()
        assert entry.object_id == ids["failed"]
        assert entry.before["last_error"] == "550 5.1.1 Mailbox unavailable"
    # A second "Renvoyer" (double submit): it is no longer en échec.
    again = client.post(f"/referentiels/courriels/{ids['failed']}/renvoi")
    assert again.status_code == 409 and "n'est pas en échec" in text(again)
    assert len(smtp.wait_for(lambda m: m["Subject"] == "Échec 011", timeout=0.5)) == 1


def test_a_ber_cannot_resend_another_departments_mail(demo, client, auth):
    ids = seed_mails(demo)
    auth.login(BER)
    assert client.post(f"/referentiels/courriels/{ids['other']}/renvoi").status_code == 404
    with demo.app_context():
        assert db.session.get(OutboxMail, ids["other"]).status == "failed"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(History)) == 0
