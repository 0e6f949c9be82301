"""rdvpl/request_memo.py: the verified session cookies and the signed form tokens kept per
process must behave exactly as verifying and signing on every request would."""

from __future__ import annotations

import re
import time

from itsdangerous import TimestampSigner

from rdvpl import request_memo

PAGE = "/ber/planification"  # served from the grid cache (grid_cache.page)


def form_token_of(response) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                     response.get_data(as_text=True)).group(1)


def test_a_cookie_changed_by_one_character_is_no_session_even_after_the_genuine_one(demo,
                                                                                     client,
                                                                                     auth):
    auth.login()
    assert client.get(PAGE).status_code == 200  # the genuine cookie, now verified and kept
    genuine = client.get_cookie("session").value
    payload, stamp, signature = genuine.rsplit(".", 2)
    # The first character: all its six bits are signature. The last one of a 20-byte HMAC's
    # 27 characters holds two padding bits that decoding drops, so "B", "C" or "D" in place of
    # an "A" there is the same signature (that made this test fail once in 16).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    client.set_cookie("session", f"{payload}.{stamp}.{flipped}")
    refused = client.get(PAGE)
    assert refused.status_code == 302 and "/connexion" in refused.location
    client.set_cookie("session", genuine)
    assert client.get(PAGE).status_code == 200


def test_a_kept_cookie_still_expires_at_its_age_limit(demo, client, auth, monkeypatch):
    auth.login()
    assert client.get(PAGE).status_code == 200
    demo.permanent_session_lifetime = 60
    assert client.get(PAGE).status_code == 200
    now = time.time
    monkeypatch.setattr(time, "time", lambda: now() + 61)  # the cookie is now too old
    response = client.get(PAGE)
    assert response.status_code == 302 and "/connexion" in response.location


def test_messages_of_one_request_do_not_leak_into_another_sent_with_the_same_cookie(demo,
                                                                                   client,
                                                                                   auth):
    """flash() appends to the list it reads from the session: the content kept for a cookie
    must not grow with the messages of a request that sent it."""
    auth.login("admin@example.test")
    created = client.post("/admin/departements", data={
        "code": "066", "name": "Pyrénées-Orientales", "ber_email": "pl.ber066@example.test"})
    with_message = client.get_cookie("session").value  # holds "est ajouté"
    assert "est ajouté" in client.get(created.location).get_data(as_text=True)
    client.set_cookie("session", with_message)  # e.g. a second tab, or the back button
    client.post(created.location, data={"name": "Pyrénées-Orientales",
                                        "ber_email": "ber66@example.test"})  # flashes again
    client.set_cookie("session", with_message)
    page = client.get(created.location).get_data(as_text=True)
    assert "Le département 066 — Pyrénées-Orientales est ajouté" in page
    assert "Le département est enregistré." not in page


def test_the_signed_form_token_is_reused_for_a_minute_and_accepted(demo, client, auth,
                                                                   monkeypatch):
    auth.login()
    client.get(PAGE)  # the first page after the sign-in puts the form token in the session
    first = form_token_of(client.get(PAGE))
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) + 30)
    assert form_token_of(client.get(PAGE)) == first  # within the minute: the same
    monkeypatch.setattr(request_memo, "FORM_TOKEN_SECONDS", 0.0)
    renewed = form_token_of(client.get(PAGE))
    assert renewed != first
    demo.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/deconnexion", data={"csrf_token": "faux"}).status_code == 400
    signed_out = client.post("/deconnexion", data={"csrf_token": renewed})
    assert signed_out.status_code == 302
    assert client.get(PAGE).status_code == 302


def test_each_browser_gets_its_own_form_token(demo, client, auth, app):
    auth.login()
    other = app.test_client()
    other.post("/connexion", data={"email": "ber011@example.test", "password": "demo-ber-011"})
    assert form_token_of(client.get(PAGE)) != form_token_of(other.get(PAGE))
