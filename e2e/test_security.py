"""In Chromium with the Content-Security-Policy on: pages render and htmx works with no
violation; "Mot de passe oublié ?" through the real mail; a signed-out tab is signed out."""

import re

from playwright.sync_api import expect

from e2e.helpers import body_text, login
from e2e.test_ber_creneaux import FRIDAY, FRIDAY_UNITS, choose_school, open_week, unit_name


def watch_csp(page) -> list[str]:
    """Every CSP violation and console error of the page, as text."""
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.add_init_script("""document.addEventListener('securitypolicyviolation', e =>
        console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))""")
    return problems


def test_pages_and_htmx_work_under_the_csp(page):
    problems = watch_csp(page)
    page.goto("/connexion")
    expect(page.get_by_role("link", name="Mot de passe oublié ?")).to_be_visible()
    login(page, "ber011@example.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Planifier les activités des IPCSR")
    open_week(page)
    # htmx swaps (a unit, the panel, the suggestions) and the keyboard handler of the
    # suggestions, moved from hx-on into app.js
    start, end = FRIDAY_UNITS[0]
    box = page.get_by_role("checkbox", name=unit_name(FRIDAY, start, end, "Dispo AE"),
                           exact=True)
    box.check()
    expect(box).to_be_checked()
    choose_school(page, "Allia", "Alliance Auto-Ecole — Aurige ID : auto-ecole-aurige-1",
                  keyboard=True)
    assert problems == []


def test_forgotten_password_through_the_mail(page, mail_sink):
    problems = watch_csp(page)
    page.goto("/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("Adresse électronique").fill("alliance@example.test")
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Si un compte existe")
    [mail] = mail_sink.wait_for(lambda m: "mot de passe" in m["Subject"])
    link = re.search(r"http://\S+/mot-de-passe/reinitialisation/\S+", body_text(mail)).group(0)
    page.goto(link)
    page.get_by_label("Nouveau mot de passe", exact=True).fill("alliance-nouveau-2026")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("alliance-nouveau-2026")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Votre mot de passe a été modifié")
    page.get_by_label("Adresse électronique").fill("alliance@example.test")
    page.get_by_label("Mot de passe").fill("alliance-nouveau-2026")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes examens programmés")
    page.goto(link)  # once only
    expect(page.get_by_test_id("banner")).to_contain_text("plus valable")
    assert [p for p in problems if "CSP" in p] == []  # the used link's 400 is expected


def test_a_cookie_copied_before_sign_out_is_dead_after_it(new_page):
    page = new_page()
    login(page, "ber011@example.test")
    thief = new_page()
    thief.context.add_cookies(page.context.cookies())
    thief.goto("/ber/creneaux")
    expect(thief.get_by_role("heading", level=1)).to_have_text("Gérer les plannings IPCSR")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/connexion"))
    thief.reload()
    expect(thief).to_have_url(re.compile(r"/connexion"))
