"""The footer's mandatory pages (DSFR, RGAA): accessibility statement, legal notice, personal
data, cookies. Public: they must be readable before signing in."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from .access import public

bp = Blueprint("pages", __name__)

# RGAA: a service is "partiellement conforme" only after a conformity audit of its 106 criteria
# found at least half of them met; without such an audit it must be declared "non conforme".
# rdvpl has automated checks (axe-core) and scripted keyboard and touch tests (e2e), no screen
# reader test and no RGAA audit: change this, and the statement, when an audit is carried out.
ACCESSIBILITY_STATUS = "non conforme"

# Every cookie the app sets, as the "Gestion des cookies" page lists them
# (tests/test_pages.py checks that the app sets no other).
COOKIES = {
    "session": "Garde votre connexion ouverte et le jeton qui protège vos formulaires contre la "
               "falsification de requêtes (CSRF). Signé par le serveur, il ne contient aucune "
               "donnée lisible par un tiers.",
}


@bp.app_context_processor
def _footer():
    return {"accessibility_status": ACCESSIBILITY_STATUS}


def _render(template: str):
    return render_template(template, publisher=current_app.config["LEGAL_PUBLISHER"],
                           host=current_app.config["LEGAL_HOST"],
                           contact=current_app.config["LEGAL_CONTACT_EMAIL"],
                           status=ACCESSIBILITY_STATUS, cookies=COOKIES)


@bp.get("/accessibilite")
@public
def accessibility():
    """Déclaration d'accessibilité (RGAA 4.1)."""
    return _render("pages/accessibilite.html")


@bp.get("/mentions-legales")
@public
def legal():
    """Mentions légales: publisher, host, licence."""
    return _render("pages/mentions_legales.html")


@bp.get("/donnees-personnelles")
@public
def personal_data():
    """Données personnelles: what the app keeps about whom, why, how long, your rights."""
    return _render("pages/donnees_personnelles.html")


@bp.get("/cookies")
@public
def cookies():
    """Gestion des cookies: the one strictly necessary cookie, no consent banner needed."""
    return _render("pages/cookies.html")
