"""Account activation and deactivation (SPEC Part 2 "Reference data and accounts"), end to
end against a real SMTP server: an account is created with an e-mail only, the person
receives "Activez votre compte RdvPermis" with a one-time link valid 48 hours, chooses a
password and signs in; a used or expired link says so; a deactivated account is signed out at
once and can no longer sign in."""

from __future__ import annotations

import html
import re
import time

import sqlalchemy as sa
from itsdangerous import TimestampSigner

from rdvpl import accounts
from rdvpl.extensions import db
from rdvpl.models import History, SignInSession
from tests.conftest import user_by_email
from tests.mailsink import body_html, body_text

ADMIN = "admin@example.test"
BER = "ber011@example.test"
PASSWORD = "un-mot-de-passe-solide"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def link_path(mail) -> str:
    found = re.search(r"http://localhost(/compte/activation/\S+)", body_text(mail))
    assert found, body_text(mail)
    assert found.group(0) in body_html(mail)
    return found.group(1)


def can_sign_in(app, email, password) -> bool:
    response = app.test_client().post("/connexion", data={"email": email, "password": password})
    return response.status_code == 302


def choose(client, path, password=PASSWORD):
    return client.post(path, data={"password": password, "confirm": password})


def department_id(app, code="011") -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT id FROM department WHERE code = :c"),
                                 {"c": code})


def test_a_ber_agent_is_created_activates_the_account_and_signs_in(demo, client, auth, smtp):
    auth.login(ADMIN)
    response = client.post(f"/admin/departements/{department_id(demo)}/agents", data={
        "email": "Nouvel.Agent@example.test", "first_name": "Nina", "last_name": "Martin"})
    assert response.status_code == 302
    assert "Activez votre compte RdvPermis" in text(client.get(response.location))
    [mail] = smtp.wait_for(lambda m: m["To"] == "nouvel.agent@example.test", timeout=5)
    assert mail["Subject"] == "Activez votre compte RdvPermis"
    assert "valable 48 heures" in body_text(mail) and "BER 011" in body_text(mail)
    path = link_path(mail)
    # Before activation nobody can sign in (no password was ever chosen).
    assert not can_sign_in(demo, "nouvel.agent@example.test", "")

    visitor = demo.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "nouvel.agent@example.test" in text(page)
    assert choose(visitor, path, "court").status_code == 422  # 12 characters at least
    response = choose(visitor, path)
    assert response.status_code == 302 and response.location == "/connexion"
    assert "Votre compte est activé" in text(visitor.get("/connexion"))
    assert can_sign_in(demo, "nouvel.agent@example.test", PASSWORD)
    signed_in = demo.test_client()
    signed_in.post("/connexion", data={"email": "nouvel.agent@example.test",
                                       "password": PASSWORD})
    assert signed_in.get("/ber/planification").status_code == 200

    # The link served once.
    again = visitor.get(path)
    assert again.status_code == 400 and "a déjà servi" in text(again)
    assert choose(visitor, path, "encore-un-autre-mot").status_code == 400
    assert can_sign_in(demo, "nouvel.agent@example.test", PASSWORD)
    with demo.app_context():
        agent = user_by_email("nouvel.agent@example.test")
        assert agent.activated_at is not None
        assert db.session.scalars(sa.select(History.action).where(
            History.object_type == "user", History.object_id == agent.id)
            .order_by(History.id)).all() == ["user.created", "user.activated"]


def test_an_expired_or_broken_link_says_so(demo, client, auth, smtp, monkeypatch):
    auth.login(BER)
    with demo.app_context():
        school_id = db.session.scalar(sa.text(
            "SELECT id FROM auto_ecole WHERE aurige_id = 'auto-ecole-aurige-2'"))
    response = client.post(f"/referentiels/auto-ecoles/{school_id}/comptes",
                           data={"email": "ae002@example.test"})
    assert response.status_code == 302
    [mail] = smtp.wait_for(lambda m: m["To"] == "ae002@example.test", timeout=5)
    assert "valable 48 heures" in body_text(mail)
    # The same link, made 48 hours and 1 second ago.
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: int(time.time()) - 48 * 3600 - 1)
    with demo.app_context():
        token = accounts.activation_token(user_by_email("ae002@example.test"))
    path = f"/compte/activation/{token}"
    monkeypatch.undo()
    expired = client.get(path)
    assert expired.status_code == 400 and "a expiré : il est valable 48 heures" in text(expired)
    assert choose(client, path).status_code == 400
    assert not can_sign_in(demo, "ae002@example.test", PASSWORD)
    broken = client.get(path[:-5])
    assert broken.status_code == 400 and "incomplet" in text(broken)
    # A password-reset link is not an activation link (and the other way round).
    with demo.app_context():
        reset = accounts.reset_token(user_by_email("ae002@example.test"))
    assert client.get(f"/compte/activation/{reset}").status_code == 400

    # "Renvoyer le lien d'activation": a new link that works.
    with demo.app_context():
        user_id = user_by_email("ae002@example.test").id
    smtp.clear()
    assert client.post(f"/referentiels/comptes/{user_id}/lien").status_code == 302
    [fresh] = smtp.wait_for(lambda m: m["To"] == "ae002@example.test", timeout=5)
    visitor = demo.test_client()
    assert choose(visitor, link_path(fresh)).status_code == 302
    assert can_sign_in(demo, "ae002@example.test", PASSWORD)
    # Once activated, no more activation links.
    refused = client.post(f"/referentiels/comptes/{user_id}/lien")
    assert refused.status_code == 422 and "déjà activé" in text(refused)


def test_deactivating_an_account_ends_its_sessions_at_once(demo, client, auth, smtp):
    school_user = demo.test_client()
    school_user.post("/connexion", data={"email": "alliance@example.test",
                                         "password": "demo-ae-alliance"})
    assert school_user.get("/ae/examens").status_code == 200
    with demo.app_context():
        user_id = user_by_email("alliance@example.test").id
    auth.login(BER)
    response = client.post(f"/referentiels/comptes/{user_id}/activation", data={"actif": "0"})
    assert response.status_code == 302
    assert "Compte alliance@example.test : désactivé(e)." in text(client.get(response.location))

    # The open session ends: the next request goes to the sign-in page.
    after = school_user.get("/ae/examens")
    assert after.status_code == 302 and "/connexion" in after.location
    with demo.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignInSession).where(
            SignInSession.user_id == user_id, SignInSession.revoked_at.is_(None))) == 0
    # Signing in again is refused like a wrong password; no reset link leaves either.
    refused = demo.test_client().post("/connexion", data={
        "email": "alliance@example.test", "password": "demo-ae-alliance"})
    assert refused.status_code == 422
    assert "Adresse électronique ou mot de passe incorrect." in text(refused)
    demo.test_client().post("/mot-de-passe-oublie", data={"email": "alliance@example.test"})
    assert smtp.wait_for(lambda m: m["To"] == "alliance@example.test", timeout=1) == []

    # Reactivated, the account signs in again with its password.
    assert client.post(f"/referentiels/comptes/{user_id}/activation",
                       data={"actif": "1"}).status_code == 302
    assert can_sign_in(demo, "alliance@example.test", "demo-ae-alliance")
    with demo.app_context():
        assert db.session.scalars(sa.select(History.action).where(
            History.object_type == "user", History.object_id == user_id)
            .order_by(History.id)).all() == ["user.deactivated", "user.reactivated"]


def test_nobody_deactivates_an_account_out_of_reach(demo, client, auth):
    with demo.app_context():
        herault = user_by_email("herault@example.test").id
        colleague = user_by_email("ber034@example.test").id
        admin = user_by_email(ADMIN).id
    auth.login(BER)
    for user_id in (herault, colleague, admin):
        assert client.post(f"/referentiels/comptes/{user_id}/activation",
                           data={"actif": "0"}).status_code == 404
    auth.logout()
    auth.login(ADMIN)
    assert client.post(f"/referentiels/comptes/{admin}/activation",
                       data={"actif": "0"}).status_code == 404
    assert can_sign_in(demo, "herault@example.test", "demo-ae-herault")
    assert can_sign_in(demo, ADMIN, "demo-admin")
