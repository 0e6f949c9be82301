"""The app's own defences (issue 8 §4): no start without a real SECRET_KEY outside debug and
tests, no forged cookie accepted, security headers on every response, no inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface

from rdvpl import accounts, create_app
from rdvpl.extensions import db
from tests.conftest import user_by_email

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


# --- SECRET_KEY ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [None, "", "dev-only-change-me"])
def test_no_start_without_a_real_secret_key_outside_debug_and_tests(monkeypatch, key):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app()


def test_debug_and_tests_get_a_random_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    keys = {create_app({"TESTING": True}).secret_key, create_app({"DEBUG": True}).secret_key,
            create_app({"TESTING": True}).secret_key}
    assert len(keys) == 3 and "dev-only-change-me" not in keys
    assert all(len(k) >= 32 for k in keys)


def test_a_set_secret_key_is_used(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-value")
    assert create_app().secret_key == "a-long-random-production-value"


def cookie_signed_with(app, key: str, data: dict) -> str:
    interface = SecureCookieSessionInterface()
    signing = type("A", (), {"secret_key": key, "config": app.config})()
    return interface.get_signing_serializer(signing).dumps(data)


def test_a_cookie_signed_with_the_old_default_key_is_refused(demo):
    """Even carrying a live session token of the admin, a cookie signed with the published
    key 'dev-only-change-me' is not a session; the same content signed with the app's key
    is (so that this test can fail)."""
    with demo.app_context():
        token = accounts.start_session(user_by_email("admin@example.test"))
    content = {"_user_id": token, "_fresh": True}
    forged = demo.test_client()
    forged.set_cookie("session", cookie_signed_with(demo, "dev-only-change-me", content))
    response = forged.get("/admin/referentiels")
    assert response.status_code == 302 and "/connexion" in response.location
    genuine = demo.test_client()
    genuine.set_cookie("session", cookie_signed_with(demo, demo.secret_key, content))
    assert genuine.get("/admin/referentiels").status_code == 200


# --- headers ---------------------------------------------------------------------------------

def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def assert_security_headers(response):
    policy = csp(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["script-src"] == "script-src 'self'"
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Permissions-Policy"] == "browsing-topics=()"


@pytest.mark.parametrize("htmx", [False, True])
def test_every_page_has_the_security_headers(demo, client, auth, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    anonymous = client.get("/connexion", headers=headers)
    assert_security_headers(anonymous)
    assert anonymous.headers["Cache-Control"] == "no-store"
    auth.login()
    for url in ("/ber/planification", "/ber/creneaux", "/mot-de-passe", "/nulle-part"):
        response = client.get(url, headers=headers)
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", url


def test_static_files_have_the_headers_but_may_be_cached(demo, client):
    response = client.get("/static/app.js")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_the_session_cookie_is_secure_when_configured(demo):
    demo.config["SESSION_COOKIE_SECURE"] = True
    client = demo.test_client()
    response = client.post("/connexion", data={"email": "ber011@example.test",
                                               "password": "demo-ber-011"})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_over_https_with_secure_cookies_browsers_are_told_to_keep_to_https(_schema):
    """HSTS: only on an https request (behind the proxy, PROXY_FIX) and only when the
    deployment says it is served over https (SESSION_COOKIE_SECURE)."""
    for secure in (True, False):
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _schema,
                          "MAIL_DELIVERY": "off", "SESSION_COOKIE_SECURE": secure,
                          "PROXY_FIX": 1})
        client = app.test_client()
        over_https = client.get("/connexion", headers={"X-Forwarded-Proto": "https"})
        assert_security_headers(over_https)
        assert over_https.headers.get("Strict-Transport-Security") == (
            "max-age=31536000; includeSubDomains" if secure else None)
        assert "Strict-Transport-Security" not in client.get("/connexion").headers
        with app.app_context():
            db.engine.dispose()


def test_the_session_cookie_is_not_secure_by_default(demo, client):
    response = client.post("/connexion", data={"email": "ber011@example.test",
                                               "password": "demo-ber-011"})
    assert "Secure" not in response.headers["Set-Cookie"]


def test_behind_a_proxy_links_use_the_public_address(_schema):
    """PROXY_FIX=1: the reset link in the mail names the proxy's https host."""
    from rdvpl.models import OutboxMail
    from rdvpl.seed import seed_demo
    from tests.conftest import _empty_all_tables

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _schema,
                      "WTF_CSRF_ENABLED": False, "MAIL_DELIVERY": "sync", "MAIL_SERVER": None,
                      "PROXY_FIX": 1})
    try:
        with app.app_context():
            _empty_all_tables()
            seed_demo()
        app.test_client().post(
            "/mot-de-passe-oublie", data={"email": "ber011@example.test"},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "rdvpl.example.fr",
                     "X-Forwarded-For": "203.0.113.7"})
        with app.app_context():
            body = db.session.scalar(db.select(OutboxMail.body_text))
        assert "https://rdvpl.example.fr/mot-de-passe/reinitialisation/" in body
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- no inline code in any template ----------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
SCRIPT_WITH_BODY = re.compile(r"<script\b[^>]*>\s*(?!</script)\S", re.IGNORECASE)
HANDLER = re.compile(r"""[\s"']on[a-z]+\s*=|\bhx-on[:-]""", re.IGNORECASE)


def test_no_template_has_inline_script_or_handler():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, SCRIPT_WITH_BODY, HANDLER):
            offenders += [f"{path.relative_to(TEMPLATES)}: {m.group(0)!r}"
                          for m in pattern.finditer(text)]
    assert offenders == []


def test_the_patterns_catch_what_they_must():
    for bad in ('<script>alert(1)</script>', '<button onclick="x()">',
                '<input hx-on:keydown="x()">', '<div hx-on-click="x">',
                '<script src="/a.js">alert(1)</script>'):
        assert any(p.search(bad) for p in (INLINE_SCRIPT, SCRIPT_WITH_BODY, HANDLER)), bad
    assert not any(p.search('<script src="/a.js" defer></script>')
                   for p in (INLINE_SCRIPT, SCRIPT_WITH_BODY, HANDLER))


def test_htmx_runs_without_eval_or_injected_styles():
    base = (TEMPLATES / "base.html").read_text()
    assert '"allowEval": false' in base and '"includeIndicatorStyles": false' in base
