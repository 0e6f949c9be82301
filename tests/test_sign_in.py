"""Sign-in as a state service has it (SPEC Part 2 "Accounts and sign-in", issue 8 §4):
throttling, the same work for unknown and known e-mails, sessions that end on the server,
idle expiry, rotation, and hostile input that never gives a 500."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa

from rdvpl import accounts, create_app
from rdvpl.dates import utcnow
from rdvpl.extensions import db, limiter
from rdvpl.models import SignInSession
from rdvpl.seed import PASSWORDS
from tests.conftest import user_by_email

BER = "ber011@example.test"
PLANNING = "/ber/planification"
TOO_MANY = "Trop de tentatives de connexion. Réessayez dans 15 minutes."
INCORRECT = "Adresse électronique ou mot de passe incorrect."


def attempt(client, email=BER, password="wrong-password", ip="10.0.0.1", next_url=None):
    url = "/connexion" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def signed_in(client) -> bool:
    return client.get(PLANNING).status_code == 200


# --- throttling ------------------------------------------------------------------------------

def test_five_failures_for_one_account_block_it_even_with_the_right_password(demo, client):
    for _ in range(5):
        assert attempt(client).status_code == 422
    response = attempt(client, password=PASSWORDS[BER])
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert TOO_MANY in page and 'name="password"' in page  # shown on the login page
    assert not signed_in(client)
    # the lock is per account: another account from the same address still signs in
    assert attempt(client, email="ber034@example.test",
                   password=PASSWORDS["ber034@example.test"]).status_code == 302


def test_the_account_limit_holds_from_any_address_and_any_spelling(demo, client):
    for i in range(5):
        attempt(client, email=" BER011@Example.test " if i % 2 else BER, ip=f"10.0.1.{i}")
    assert attempt(client, password=PASSWORDS[BER], ip="10.0.2.1").status_code == 429


def test_a_throttled_attempt_does_not_check_the_password(demo, client, monkeypatch):
    for _ in range(5):
        attempt(client)
    checked = []
    monkeypatch.setattr(accounts, "check_password_hash",
                        lambda *a: checked.append(a) or True)
    assert attempt(client, password=PASSWORDS[BER]).status_code == 429
    assert checked == []


def test_twenty_failures_from_one_address_block_it(demo, client):
    for i in range(20):
        assert attempt(client, email=f"nobody{i}@example.test").status_code == 422
    response = attempt(client, email="alliance@example.test",
                       password=PASSWORDS["alliance@example.test"])
    assert response.status_code == 429 and TOO_MANY in response.get_data(as_text=True)
    # another address is not concerned
    assert attempt(client, email="alliance@example.test", ip="10.9.9.9",
                   password=PASSWORDS["alliance@example.test"]).status_code == 302


def test_successes_are_not_counted(demo, client):
    for _ in range(8):
        assert attempt(client, password=PASSWORDS[BER]).status_code == 302
        client.post("/deconnexion")
    for _ in range(4):
        attempt(client)
    assert attempt(client, password=PASSWORDS[BER]).status_code == 302


def test_throttling_needs_no_redis_by_default(demo, client):
    assert demo.config["RATELIMIT_STORAGE_URI"] == "memory://"
    for _ in range(5):
        attempt(client)
    assert attempt(client, password=PASSWORDS[BER]).status_code == 429


def test_an_unreachable_redis_falls_back_to_memory_with_a_log_line(_schema, caplog,
                                                                   monkeypatch):
    """Redis configured but down: no 500, throttling still holds (per process), and a warning
    says so."""
    # Alembic's fileConfig (the _schema fixture) disabled the loggers that existed then.
    monkeypatch.setattr(limiter.logger, "disabled", False)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _schema,
                      "WTF_CSRF_ENABLED": False, "MAIL_DELIVERY": "sync",
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1"})
    from rdvpl.seed import seed_demo
    from tests.conftest import _empty_all_tables

    try:
        with app.app_context():
            _empty_all_tables()
            seed_demo()
        client = app.test_client()
        with caplog.at_level(logging.WARNING):
            statuses = [attempt(client).status_code for _ in range(5)]
            blocked = attempt(client, password=PASSWORDS[BER])
        assert statuses == [422] * 5
        assert blocked.status_code == 429
        assert any("falling back to in-memory" in r.getMessage() for r in caplog.records)
    finally:
        limiter._storage_dead = False  # the extension object outlives this app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- the same work and the same answer for unknown and known e-mails -------------------------

def test_unknown_and_known_emails_cost_one_hash_check_of_the_same_kind(demo, client,
                                                                      monkeypatch):
    checks = []
    real = accounts.check_password_hash

    def spy(stored, password):
        checks.append(stored.split("$", 1)[0])  # the method and its cost, e.g. scrypt:32768:8:1
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", spy)
    known = attempt(client, email=BER)
    known_checks, checks[:] = list(checks), []
    unknown = attempt(client, email="personne@example.test")
    with demo.app_context():
        method = user_by_email(BER).password_hash.split("$", 1)[0]
    assert known_checks == [method] and checks == [method]
    assert known.status_code == unknown.status_code == 422
    assert INCORRECT in known.get_data(as_text=True)
    assert INCORRECT in unknown.get_data(as_text=True)


def test_a_nul_byte_in_the_email_is_an_incorrect_sign_in(demo, client):
    response = attempt(client, email="ber011\x00@example.test", password=PASSWORDS[BER])
    assert response.status_code == 422
    assert INCORRECT in response.get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "/ber/creneaux%0d%0aSet-Cookie:%20x=1",
    "/ber/creneaux%0aX",
    "https://evil.example/",
    "//evil.example/",
    "/%5Cevil.example/",
    "/ber/%00",
])
def test_a_hostile_next_is_ignored(demo, client, target):
    response = attempt(client, password=PASSWORDS[BER], next_url=target)
    assert response.status_code == 302
    assert response.location == PLANNING
    assert signed_in(client)


def test_a_local_next_is_followed(demo, client):
    response = attempt(client, password=PASSWORDS[BER], next_url="/ber/creneaux?date=01/12/2026")
    assert response.location == "/ber/creneaux?date=01/12/2026"


# --- sessions that end on the server ---------------------------------------------------------

def copy_of_session_cookie(client, app):
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_a_cookie_copied_before_sign_out_no_longer_works(demo, client, auth):
    auth.login()
    thief = copy_of_session_cookie(client, demo)
    assert signed_in(thief)
    auth.logout()
    response = thief.get(PLANNING)
    assert response.status_code == 302 and "/connexion" in response.location
    htmx = thief.get(PLANNING, headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and "/connexion" in htmx.headers["HX-Redirect"]


def test_signing_out_on_one_device_keeps_the_others(demo, client, auth):
    other = demo.test_client()
    attempt(other, password=PASSWORDS[BER])
    auth.login()
    auth.logout()
    assert signed_in(other)


def set_last_seen(app, ago: dt.timedelta):
    with app.app_context():
        db.session.execute(sa.update(SignInSession).values(last_seen_at=utcnow() - ago))
        db.session.commit()


def test_an_idle_session_expires_after_two_hours(demo, client, auth):
    auth.login()
    set_last_seen(demo, dt.timedelta(hours=2, minutes=1))
    response = client.get(PLANNING)
    assert response.status_code == 302 and "/connexion" in response.location


def test_an_active_session_lives_on_and_is_marked_as_seen(demo, client, auth):
    auth.login()
    set_last_seen(demo, dt.timedelta(hours=1, minutes=59))
    assert signed_in(client)
    with demo.app_context():
        seen = db.session.scalar(sa.select(SignInSession.last_seen_at))
    assert utcnow() - seen < dt.timedelta(minutes=1)


def test_last_seen_is_written_at_most_once_a_minute(demo, client, auth):
    auth.login()
    set_last_seen(demo, dt.timedelta(seconds=30))
    with demo.app_context():
        before = db.session.scalar(sa.select(SignInSession.last_seen_at))
    assert signed_in(client)
    with demo.app_context():
        assert db.session.scalar(sa.select(SignInSession.last_seen_at)) == before


def test_the_session_rotates_at_sign_in(demo, client, auth):
    with client.session_transaction() as before:
        before["planted"] = "by someone else"  # e.g. a fixated session
    auth.login()
    with client.session_transaction() as after:
        first_id = after["_user_id"]
        assert "planted" not in after
    auth.logout()
    auth.login()
    with client.session_transaction() as again:
        assert again["_user_id"] != first_id
    with demo.app_context():
        assert accounts.load_session(first_id) is None
        assert accounts.load_session(again["_user_id"]).email == BER


def test_only_a_digest_of_the_session_token_is_stored(demo, client, auth):
    auth.login()
    with client.session_transaction() as s:
        token = s["_user_id"]
    with demo.app_context():
        stored = db.session.scalar(sa.select(SignInSession.token_hash))
    assert token not in stored and len(token) >= 40


def test_a_user_id_in_the_cookie_is_not_a_session(demo, client, auth):
    """The cookie used to hold the user id: a validly signed old-style cookie is refused."""
    with demo.app_context():
        user_id = str(user_by_email("admin@example.test").id)
    with client.session_transaction() as s:
        s["_user_id"] = user_id
        s["_fresh"] = True
    assert client.get("/admin/referentiels").status_code == 302


def test_the_limits_apply_to_these_endpoints_and_the_others_skip_the_limiter(app):
    """Sign-in, forgotten and changed passwords, the calendar feed: the endpoints that declare
    a limit (their throttles are tested above and in test_passwords, test_agenda). Every other
    request skips Flask-Limiter (extensions.note_rate_limited)."""
    assert app.extensions["rdvpl.rate_limited_endpoints"] == {
        "auth.login", "auth.forgot_password", "auth.change_password", "ae.agenda_feed"}


def test_only_the_limited_endpoints_run_the_limiter(app, client, monkeypatch):
    from rdvpl.extensions import limiter

    consulted = []
    identify = limiter.identify_request
    monkeypatch.setattr(limiter, "identify_request", lambda: consulted.append(1) or identify())
    assert client.get("/sante").status_code == 200
    assert client.get("/ber/planification").status_code == 302  # to the sign-in
    assert client.get("/nulle-part").status_code == 404
    assert consulted == []
    client.post("/connexion", data={"email": "x@example.test", "password": "faux"})
    assert consulted  # the sign-in's POST is counted
