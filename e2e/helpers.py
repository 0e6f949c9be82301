"""Helpers shared by the e2e tests (sign-in, reading e-mails)."""

from __future__ import annotations

from playwright.sync_api import expect

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


PLANIFIER = "Planifier les activités"  # the BER menu's sub-menu (DSFR fr-nav__btn + fr-menu)


def open_menu(page, entry: str, under: str | None = PLANIFIER):
    """Go to a page through the main menu, as a user would: open the sub-menu ``under`` first
    (None: a top-level entry), then tap the entry."""
    nav = page.get_by_role("navigation", name="Menu principal")
    if under:
        button = nav.get_by_role("button", name=under)
        button.click()
        expect(button).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name=entry, exact=True).click()
