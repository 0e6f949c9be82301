"""A new department set up through the screens alone (SPEC Part 2 "Reference data and
accounts", "Follow-up"), in Chromium at tablet size: the admin adds a department and its BER
agent; the agent activates the account from the e-mail and signs in, adds a centre, an
inspector and a school with its AE account, plans a day and reserves units for the school,
reads the figures on "Suivre l'activité" (DSFR charts under the app's CSP) and prints the day
sheet (one A4 page)."""

from __future__ import annotations

import datetime as dt
import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from e2e.helpers import body_text, login, open_menu, settled
from rdvpl import dates

DAY = dates.monday_of(dates.today()) + dt.timedelta(weeks=2, days=1)  # a Tuesday
HOURS = ["08:00 - 10:00", "10:00 - 12:00", "13:00 - 15:00", "15:00 - 17:00"]
PASSWORD = "mot-de-passe-du-nouvel-agent"
AGENT = "agent066@example.test"
SCHOOL = "ecole-perpignan@example.test"


def banner(page):
    return page.get_by_test_id("banner")


def small_buttons(page) -> list[str]:
    """Buttons and fields of the page's content smaller than 44x44 CSS pixels."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'main button, main input, main select, main a.fr-btn')]
      .filter(e => e.type !== 'hidden' && e.getClientRects().length)
      .map(e => [e, e.getBoundingClientRect()])
      .filter(([e, r]) => r.width < 44 || r.height < 44)
      .map(([e, r]) => `${e.textContent.trim() || e.name} ${r.width}x${r.height}`)""")


def link_in(mail, path: str) -> str:
    found = re.search(r"https?://\S+(" + re.escape(path) + r"\S+)", body_text(mail))
    assert found, body_text(mail)
    return found.group(1)


def test_a_new_department_from_the_screens_to_the_day_sheet(new_page, mail_sink):
    # The admin: a department and its BER agent.
    admin = new_page()
    login(admin, "admin@example.test")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Gérer les référentiels")
    admin.get_by_label("Code du département").fill("066")
    admin.get_by_label("Nom du département").fill("Pyrénées-Orientales")
    admin.get_by_label("Boîte électronique du BER").fill("pl.ber066@example.test")
    admin.get_by_role("button", name="Ajouter le département").click()
    expect(banner(admin)).to_contain_text("Le département 066 — Pyrénées-Orientales est ajouté.")
    admin.get_by_label("Adresse électronique").fill(AGENT)
    admin.get_by_label("Prénom").fill("Paul")
    admin.get_by_label("Nom", exact=True).fill("Roig")
    admin.get_by_role("button", name="Créer le compte").click()
    expect(banner(admin)).to_contain_text(f"Le compte {AGENT} est créé")
    expect(admin.get_by_role("row", name=re.compile(AGENT))).to_contain_text(
        "En attente d'activation")

    # The agent: the e-mail, the link, a password, sign-in.
    [mail] = mail_sink.wait_for(lambda m: m["To"] == AGENT)
    assert mail["Subject"] == "Activez votre compte RdvPermis"
    agent = new_page()
    agent.goto(link_in(mail, "/compte/activation/"))
    expect(agent.get_by_role("heading", level=1)).to_have_text("Activez votre compte RdvPermis")
    agent.get_by_label("Nouveau mot de passe", exact=True).fill(PASSWORD)
    agent.get_by_label("Confirmez le nouveau mot de passe").fill(PASSWORD)
    agent.get_by_role("button", name="Activer mon compte").click()
    expect(banner(agent)).to_contain_text("Votre compte est activé.")
    agent.get_by_label("Adresse électronique").fill(AGENT)
    agent.get_by_label("Mot de passe").fill(PASSWORD)
    agent.get_by_role("button", name="Se connecter").click()
    expect(agent.get_by_test_id("user-name")).to_contain_text("Paul ROIG — BER 066")

    # Gérer les référentiels: a centre, an inspector, a school and its account.
    agent.get_by_role("link", name="Gérer les référentiels").click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text("066 Pyrénées-Orientales")
    agent.get_by_label("Nom du centre d'examen").fill("Perpignan")
    agent.get_by_role("button", name="Ajouter le centre").click()
    expect(banner(agent)).to_contain_text("Le centre PERPIGNAN est ajouté.")
    agent.get_by_label("Nom", exact=True).fill("Vidal")
    agent.get_by_label("Prénom").fill("Jeanne")
    agent.get_by_label("Matricule").fill("6601")
    agent.get_by_label("Centre de rattachement").select_option(label="PERPIGNAN")
    agent.get_by_role("button", name="Ajouter l'inspecteur").click()
    expect(banner(agent)).to_contain_text("L'inspecteur VIDAL Jeanne (matricule 6601) est ajouté.")
    assert small_buttons(agent) == []
    agent.get_by_label("Raison sociale").fill("Auto-école du Roussillon")
    agent.get_by_label("ID Aurige").fill("aurige-66-1")
    agent.get_by_label("Adresse électronique de l'auto-école").fill(SCHOOL)
    agent.get_by_role("button", name="Ajouter l'auto-école").click()
    expect(banner(agent)).to_contain_text("L'auto-école Auto-école du Roussillon est ajoutée.")
    agent.get_by_label("Adresse électronique", exact=True).fill("secretariat@roussillon.test")
    agent.get_by_role("button", name="Créer le compte").click()
    expect(banner(agent)).to_contain_text("Le compte secretariat@roussillon.test est créé")
    [school_mail] = mail_sink.wait_for(lambda m: m["To"] == "secretariat@roussillon.test")
    assert "auto-école Auto-école du Roussillon" in body_text(school_mail)

    # Plan a full day, then reserve the 10:00 session for the school.
    open_menu(agent, "Planification des sessions")
    field = agent.get_by_label("À partir de (jj/mm/aaaa)")
    field.fill(dates.ddmmyyyy(DAY))
    field.press("Enter")
    monday = DAY - dt.timedelta(days=1)
    expect(agent.get_by_role("heading", name=f"Semaine du {dates.ddmmyyyy(monday)}")
           ).to_be_visible()
    settled(agent)
    for hours in HOURS:
        agent.get_by_role("checkbox", name=f"VIDAL Jeanne, {dates.jour_date(DAY)}, {hours}",
                          exact=True).check()
    expect(agent.locator("#panel")).to_contain_text("4 session(s) sélectionnée(s)")
    agent.get_by_role("button", name="Planifier ces sessions").click()
    expect(banner(agent)).to_contain_text("4 session(s) de permis CE planifiée(s) sur le centre "
                                          "PERPIGNAN")

    agent.get_by_role("link", name="Gérer les créneaux").click()
    agent.get_by_label("À partir de (jj/mm/aaaa)").fill(dates.ddmmyyyy(DAY))
    agent.get_by_role("button", name="Afficher").click()
    settled(agent)
    for start, end in [("10:00", "10:30"), ("10:30", "11:00"), ("11:00", "11:30")]:
        agent.get_by_role("checkbox", name=f"VIDAL Jeanne, {dates.jour_date(DAY)}, "
                                           f"{start} - {end}, Dispo AE", exact=True).check()
    expect(agent.locator("#panel")).to_contain_text("3 unités sélectionnées")
    agent.get_by_label("Raison sociale de l'auto-école ou ID Aurige").press_sequentially("rous")
    option = agent.get_by_role("option", name=re.compile("Auto-école du Roussillon"))
    expect(option).to_be_visible()
    settled(agent)
    option.click()
    # The choice swaps the panel, its button included: validate on the panel that holds it.
    expect(agent.get_by_text("Auto-école choisie")).to_contain_text("Auto-école du Roussillon")
    agent.get_by_role("button", name="Valider la place d'examen").click()
    expect(banner(agent)).to_contain_text("Réservation enregistrée !")
    mail_sink.wait_for(lambda m: m["To"] == SCHOOL)

    # Suivre l'activité: the figures, the charts under the CSP.
    refused = []
    agent.on("console", lambda m: refused.append(m.text)
             if "Content Security Policy" in m.text else None)
    agent.get_by_role("link", name="Suivre l'activité").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Suivre l'activité")
    expect(agent.get_by_test_id("activity-summary")).to_contain_text(
        "4 session(s) planifiée(s), 16 unité(s) offerte(s), 3 réservée(s), 13 restée(s) Dispo "
        "AE, 0 annulée(s) par le BER, 0 par une auto-école")
    expect(agent.get_by_role("table", name="Par inspecteur").get_by_role(
        "row", name=re.compile("VIDAL Jeanne"))).to_contain_text("4")
    expect(agent.locator("bar-chart canvas").first).to_be_visible()
    expect(agent.locator("bar-chart canvas")).to_have_count(4)
    # The chart's own stylesheet reached its shadow root (app.js): its legend is drawn.
    assert agent.evaluate("""() => document.querySelector('bar-chart').shadowRoot
        .querySelector('.legende_dot').getBoundingClientRect().width""") > 0
    assert refused == []

    # Consulter les examens, then the day sheet printed on one A4 page.
    agent.get_by_role("link", name="Consulter les examens").click()
    expect(agent.get_by_test_id("exam-count")).to_contain_text("3 examen(s) réservé(s)")
    agent.get_by_role("link", name=f"Feuille du jour de VIDAL Jeanne, {dates.jour_date(DAY)}"
                      ).click()
    expect(agent.get_by_role("heading", level=1)).to_have_text(
        f"Feuille du jour — {dates.jour_date_cap(DAY)}")
    expect(agent.locator(".day-sheet__table")).to_have_count(4)
    pdf = PdfReader(io.BytesIO(agent.pdf(format="A4")))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "VIDAL Jeanne" in text and "Auto-école du Roussillon" in text
    assert "Se déconnecter" not in text  # only the sheet is printed
