"""Passwords (SPEC Part 2 "Accounts and sign-in"): "Mot de passe oublié ?" sends a one-time
link valid 1 hour through the outbox, the same answer whether the e-mail is known or not;
"Changer mon mot de passe"; at least 12 characters for a new password."""

from __future__ import annotations

import re
import time

import sqlalchemy as sa
from itsdangerous import TimestampSigner

from rdvpl.extensions import db
from rdvpl.models import History, OutboxMail
from rdvpl.seed import PASSWORDS
from tests.conftest import user_by_email
from tests.mailsink import body_text

BER = "ber011@example.test"
NEW = "un-nouveau-mot-de-passe"
EXPIRED = "est plus valable : il a déjà servi, il a expiré"
SAME_ANSWER = "Si un compte existe pour cette adresse"


def reset_mails(app, to=BER):
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxMail).where(
            OutboxMail.kind == "password_reset", OutboxMail.recipients == to)
            .order_by(OutboxMail.id)))


def ask_for_link(client, email=BER) -> str | None:
    response = client.post("/mot-de-passe-oublie", data={"email": email})
    assert response.status_code == 200 and SAME_ANSWER in response.get_data(as_text=True)
    return response


def link_path(mail: OutboxMail | str) -> str:
    text = mail if isinstance(mail, str) else mail.body_text
    url = re.search(r"http://localhost(/mot-de-passe/reinitialisation/\S+)", text)
    assert url, text
    return url.group(1)


def choose(client, path, password=NEW, confirm=None):
    return client.post(path, data={"password": password, "confirm": confirm or password})


def can_sign_in(app, email, password) -> bool:
    response = app.test_client().post("/connexion", data={"email": email, "password": password})
    return response.status_code == 302


def test_the_login_page_offers_the_forgotten_password_page(demo, client):
    page = client.get("/connexion").get_data(as_text=True)
    assert 'href="/mot-de-passe-oublie"' in page and "Mot de passe oublié ?" in page


def test_same_answer_for_a_known_and_an_unknown_email(demo, client):
    known = ask_for_link(client, BER).get_data(as_text=True)
    unknown = ask_for_link(client, "personne@example.test").get_data(as_text=True)
    strip = re.compile(r'name="csrf_token"[^>]*|value="[^"]*"')
    assert strip.sub("", known) == strip.sub("", unknown)
    assert len(reset_mails(demo)) == 1
    assert reset_mails(demo, "personne@example.test") == []
    # hostile input gets the same answer, never a 500
    ask_for_link(client, "ber011\x00@example.test")


def test_the_reset_link_arrives_and_works_once(demo, client, smtp):
    ask_for_link(client)
    [mail] = smtp.wait_for(count=1, timeout=5)
    assert mail["To"] == BER and "valable 1 heure" in body_text(mail)
    path = link_path(body_text(mail))
    assert "Choisir un nouveau mot de passe" in client.get(path).get_data(as_text=True)
    response = choose(client, path)
    assert response.status_code == 302 and response.location == "/connexion"
    assert "Votre mot de passe a été modifié" in client.get("/connexion").get_data(as_text=True)
    assert can_sign_in(demo, BER, NEW)
    assert not can_sign_in(demo, BER, PASSWORDS[BER])
    with demo.app_context():
        actions = db.session.scalars(sa.select(History.action).where(
            History.object_type == "user")).all()
    assert actions == ["user.password_reset"]
    # used twice: refused in French, the password unchanged
    again = choose(client, path, password="encore-un-autre-mot-de-passe")
    assert again.status_code == 400 and EXPIRED in again.get_data(as_text=True)
    assert client.get(path).status_code == 400
    assert can_sign_in(demo, BER, NEW)


def test_the_reset_link_lives_one_hour(demo, client, monkeypatch):
    def issued(seconds_ago):
        monkeypatch.setattr(TimestampSigner, "get_timestamp",
                            lambda self: int(time.time()) - seconds_ago)
        ask_for_link(client)
        monkeypatch.undo()
        return link_path(reset_mails(demo)[-1])

    old = issued(3601)
    refused = client.get(old)
    assert refused.status_code == 400 and EXPIRED in refused.get_data(as_text=True)
    assert choose(client, old).status_code == 400
    assert can_sign_in(demo, BER, PASSWORDS[BER])
    assert choose(client, issued(3500)).status_code == 302
    assert can_sign_in(demo, BER, NEW)


def test_a_tampered_link_is_refused(demo, client):
    ask_for_link(client)
    path = link_path(reset_mails(demo)[0])
    head, signature = path.rsplit(".", 1)
    # The signature's first character: the last one holds padding bits that decoding drops.
    response = client.get(f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}")
    assert response.status_code == 400 and EXPIRED in response.get_data(as_text=True)


def test_a_reset_ends_every_session_of_the_user(demo, client, auth):
    auth.login()
    ask_for_link(demo.test_client())
    choose(demo.test_client(), link_path(reset_mails(demo)[0]))
    assert client.get("/ber/planification").status_code == 302


def test_new_passwords_have_at_least_12_characters(demo, client):
    ask_for_link(client)
    path = link_path(reset_mails(demo)[0])
    short = choose(client, path, password="onze-caract")  # 11 characters
    assert short.status_code == 422
    assert "au moins 12 caractères" in short.get_data(as_text=True)
    different = choose(client, path, password=NEW, confirm=NEW + "x")
    assert different.status_code == 422
    assert "ne sont pas identiques" in different.get_data(as_text=True)
    assert can_sign_in(demo, BER, PASSWORDS[BER])
    assert choose(client, path, password="douze-caract").status_code == 302  # 12: accepted


def test_reset_mails_for_one_account_are_capped(demo, client):
    for _ in range(5):
        ask_for_link(client)
    assert len(reset_mails(demo)) == 3


def change(client, current=PASSWORDS[BER], password=NEW, confirm=None):
    return client.post("/mot-de-passe", data={"current": current, "password": password,
                                               "confirm": confirm or password})


def test_change_my_password(demo, client, auth):
    other_device = demo.test_client()
    other_device.post("/connexion", data={"email": BER, "password": PASSWORDS[BER]})
    auth.login()
    page = client.get("/mot-de-passe").get_data(as_text=True)
    assert "Changer mon mot de passe" in page
    response = change(client)
    assert response.status_code == 302
    assert "Votre mot de passe a été modifié" in client.get("/mot-de-passe").get_data(
        as_text=True)
    assert can_sign_in(demo, BER, NEW) and not can_sign_in(demo, BER, PASSWORDS[BER])
    assert client.get("/ber/planification").status_code == 200  # this device stays
    assert other_device.get("/ber/planification").status_code == 302  # the others end
    with demo.app_context():
        row = db.session.scalar(sa.select(History).where(History.object_type == "user"))
        assert row.action == "user.password_changed" and row.actor.email == BER
        assert row.before is None and row.after is None  # never a hash in the history


def test_change_my_password_refusals_change_nothing(demo, client, auth):
    auth.login()
    with demo.app_context():
        before = user_by_email(BER).password_hash
    cases = [
        (change(client, current="pas-le-bon-mot-de-passe"), "Le mot de passe actuel est incorrect"),
        (change(client, password="trop-court"), "au moins 12 caractères"),
        (change(client, confirm=NEW + "!"), "ne sont pas identiques"),
    ]
    for response, message in cases:
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    with demo.app_context():
        assert user_by_email(BER).password_hash == before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(History)) == 0


def test_the_header_links_to_change_my_password(demo, client, auth):
    auth.login()
    page = client.get("/ber/planification").get_data(as_text=True)
    assert 'href="/mot-de-passe"' in page


def test_wrong_current_passwords_are_throttled_per_account(demo, client, auth):
    """Guessing the current password of a session left open is capped like sign-in: after
    five wrong ones in 15 minutes even the right one is refused, and nothing changes."""
    auth.login()
    for _ in range(5):
        assert change(client, current="pas-le-bon-mot-de-passe").status_code == 422
    response = change(client)
    assert response.status_code == 429
    assert "Trop de tentatives. Réessayez dans 15 minutes." in response.get_data(as_text=True)
    assert can_sign_in(demo, BER, PASSWORDS[BER]) and not can_sign_in(demo, BER, NEW)


def test_a_right_current_password_is_not_counted(demo, client, auth):
    auth.login()
    for i in range(6):
        password = f"{NEW}-{i}"
        assert change(client, current=PASSWORDS[BER] if i == 0 else f"{NEW}-{i - 1}",
                      password=password).status_code == 302
    assert can_sign_in(demo, BER, f"{NEW}-5")


def test_the_forgotten_password_form_is_capped_per_address(demo, client):
    """Ten requests an hour from one address, whatever the e-mails: no mass probing of which
    addresses have an account, no mailbox flooding from one machine."""
    for i in range(10):
        ask_for_link(client, email=f"inconnu{i}@example.test")
    response = client.post("/mot-de-passe-oublie", data={"email": BER})
    assert response.status_code == 429
    assert "Trop de demandes. Réessayez dans une heure." in response.get_data(as_text=True)
    assert reset_mails(demo) == []
