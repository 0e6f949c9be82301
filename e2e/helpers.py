"""Helpers shared by the e2e tests (sign-in, reading e-mails)."""

from __future__ import annotations

from tests.mailsink import body_html, body_text  # noqa: F401

PASSWORDS = {
    "ber011@example.test": "demo-ber-011",
    "ber034@example.test": "demo-ber-034",
    "alliance@example.test": "demo-ae-alliance",
    "herault@example.test": "demo-ae-herault",
    "admin@example.test": "demo-admin",
}


def login(page, email: str):
    """Sign in through the login form, as a user would."""
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORDS[email])
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion" not in url)
