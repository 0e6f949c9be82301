"""Helpers shared by the e2e tests (sign-in, reading e-mails)."""

from __future__ import annotations

from rdvpl.seed import PASSWORDS
from tests.mailsink import body_html, body_text  # noqa: F401


def login(page, email: str):
    """Sign in through the login form, as a user would."""
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORDS[email])
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion" not in url)


def settled(page):
    """Wait until htmx has no request in flight and has settled what it swapped in, so that
    the next action works on the newest content (a person is never that quick; a test is)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-added, .htmx-settling')")
