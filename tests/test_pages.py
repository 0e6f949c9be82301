"""The footer's mandatory pages (DSFR, RGAA): reachable by anyone from every page, and true
about what the app does (the cookies it sets)."""

from __future__ import annotations

import re

import pytest

from rdvpl.pages import ACCESSIBILITY_STATUS, COOKIES

PAGES = {
    "/accessibilite": "Déclaration d'accessibilité",
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Données personnelles",
    "/cookies": "Gestion des cookies",
}
FOOTER_LINKS = [f"Accessibilité : {ACCESSIBILITY_STATUS}", "Mentions légales",
                "Données personnelles", "Gestion des cookies"]
INSTITUTIONAL = ["info.gouv.fr", "service-public.fr", "legifrance.gouv.fr", "data.gouv.fr"]


def _footer(html: str) -> str:
    return html[html.index('<footer'):html.index("</footer>")]


def _links(html: str) -> dict[str, str]:
    """Visible text -> href of every link."""
    return {re.sub(r"\s+", " ", text).strip(): href
            for href, text in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)}


@pytest.mark.parametrize("url", list(PAGES))
def test_each_page_is_public_with_its_title(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(rf"<h1>{re.escape(PAGES[url])}</h1>", html.replace("&#39;", "'"))


@pytest.mark.parametrize("who", [None, "ber011@example.test", "alliance@example.test"])
def test_the_footer_links_to_them_and_to_the_institutional_sites(demo, client, auth, who):
    if who:
        auth.login(who)
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    links = _links(_footer(html))
    assert [links[text] for text in FOOTER_LINKS] == list(PAGES)
    assert [links[site] for site in INSTITUTIONAL] == [f"https://{s}" for s in INSTITUTIONAL]


def test_the_accessibility_statement_has_the_rgaa_sections(client):
    html = client.get("/accessibilite").get_data(as_text=True).replace("&#39;", "'")
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == ["État de conformité", "Résultats des tests", "Contenus non accessibles",
                        "Établissement de cette déclaration", "Retour d'information et contact",
                        "Voies de recours"]
    assert f"<strong>{ACCESSIBILITY_STATUS}</strong>" in html
    assert "Défenseur des droits" in html


def test_the_contact_and_publisher_come_from_the_configuration(app, client):
    app.config.update(LEGAL_PUBLISHER="Ministère de l'Exemple", LEGAL_HOST="Hébergeur SA",
                      LEGAL_CONTACT_EMAIL="accessibilite@example.test")
    legal = client.get("/mentions-legales").get_data(as_text=True).replace("&#39;", "'")
    assert "Ministère de l'Exemple" in legal and "Hébergeur SA" in legal
    statement = client.get("/accessibilite").get_data(as_text=True)
    assert 'href="mailto:accessibilite@example.test"' in statement


def _set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_the_app_sets_only_the_cookies_the_cookie_page_names(demo, client, auth):
    """Every response of a signed-in visit and of a failed sign-in: only COOKIES, and each is
    a session cookie (no Expires/Max-Age), as the page says."""
    headers = []
    headers += _set_cookies(client.get("/connexion"))
    headers += _set_cookies(client.post("/connexion", data={"email": "x@example.test",
                                                            "password": "nope"}))
    headers += _set_cookies(auth.login("alliance@example.test"))
    headers += _set_cookies(client.get("/ae/examens"))
    headers += _set_cookies(auth.logout())
    assert headers, "the visit set no cookie at all: this test would prove nothing"
    names = {h.split("=", 1)[0] for h in headers}
    assert names <= set(COOKIES)
    for header in headers:
        if "=;" in header or "Expires=Thu, 01 Jan 1970" in header:  # a cookie being deleted
            continue
        assert not re.search(r"(?i)expires=|max-age=", header), header
    page = client.get("/cookies").get_data(as_text=True)
    for name in COOKIES:
        assert f"<code>{name}</code>" in page


def test_the_accessibility_statement_says_what_was_tested_and_what_is_known(client):
    html = client.get("/accessibilite").get_data(as_text=True).replace("&#39;", "'")
    assert ACCESSIBILITY_STATUS == "non conforme"  # RGAA: no audit, no other status
    assert "aucun audit de conformité RGAA" in html
    for tested in ("axe-core 4.14.1", "clavier seul", "écran tactile"):
        assert tested in html
    assert "Aucun défaut n'est connu" not in html
    assert "Défauts et écarts connus à ce jour" in html and "lecteur d'écran" in html
