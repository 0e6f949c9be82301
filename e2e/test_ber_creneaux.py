"""BER 4-5 in Chromium at tablet size (guide p.15-24): reserve four units for Alliance
Auto-Ecole and read the e-mail; cancel an exam and switch a unit's status; two agents racing
for one unit."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from e2e.helpers import body_text, login, settled
from rdvpl import create_app, creneaux, dates
from rdvpl.extensions import db
from rdvpl.models import Tranche
from tests.helpers import AGENT_PASSWORD, department_with

NEXT_MONDAY = dates.monday_of(dates.today()) + dt.timedelta(days=7)
THURSDAY = NEXT_MONDAY + dt.timedelta(days=3)
FRIDAY = NEXT_MONDAY + dt.timedelta(days=4)
FRIDAY_UNITS = [("15:30", "16:00"), ("16:00", "16:30"), ("16:30", "17:00"), ("17:00", "17:30")]
BLUE = "rgb(0, 0, 145)"  # DSFR blue-france: the reserved units' school name


def unit_name(day, start, end, state=None, who="DUMAS Anna"):
    """A unit's accessible name: "DUMAS Anna, vendredi 11/02/2022, 15:30 - 16:00, Dispo AE"."""
    name = f"{who}, {dates.jour_date(day)}, {start} - {end}"
    return f"{name}, {state}" if state else name


def open_week(page, inspector="Anna DUMAS"):
    """The screen as a BER agent reaches it: tab, date, category, inspector."""
    page.get_by_role("link", name="Gérer les créneaux").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gérer les plannings IPCSR")
    page.get_by_label("À partir de (jj/mm/aaaa)").fill(FRIDAY.strftime("%d/%m/%Y"))
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("heading", name=re.compile("Semaine du"))).to_have_text(
        f"Semaine du {NEXT_MONDAY:%d/%m/%Y} au {NEXT_MONDAY + dt.timedelta(days=5):%d/%m/%Y}")
    settled(page)
    page.get_by_label("Catégorie de permis").select_option("CE")
    expect(page).to_have_url(re.compile(r"categorie=CE"))
    settled(page)
    page.get_by_label("Inspecteur").select_option(label=inspector)
    expect(page).to_have_url(re.compile(r"inspecteur=\d+"))
    settled(page)


def small_tap_targets(page) -> list[str]:
    """The visible controls of the screen smaller than 44x44 CSS pixels."""
    return page.evaluate("""() => [...document.querySelectorAll(
        '#results button, #results a[href], #results input, #results select, #dialog button')]
      .filter(e => e.type !== 'hidden' && e.getClientRects().length)
      .map(e => [e, e.getBoundingClientRect()])
      .filter(([e, r]) => r.width < 44 || r.height < 44)
      .map(([e, r]) => `${e.getAttribute('aria-label') || e.textContent.trim()}`
                       + ` ${r.width}x${r.height}`)""")


def choose_school(page, typed, option, *, keyboard=False):
    field = page.get_by_label("Raison sociale de l'auto-école ou ID Aurige")
    field.press_sequentially(typed)
    choice = page.get_by_role("option", name=option)
    expect(choice).to_be_visible()
    settled(page)  # no newer list of suggestions on its way
    if keyboard:  # the suggestions are reachable without touching the screen (a combobox)
        field.press("ArrowDown")
        expect(field).to_have_attribute("aria-activedescendant", choice.get_attribute("id"))
        field.press("Enter")
    else:
        choice.click()
    expect(page.get_by_text("Auto-école choisie")).to_contain_text(option.split(" — ")[0])


def test_ber_reserves_four_units_for_alliance(page, mail_sink):
    login(page, "ber011@example.test")
    open_week(page)
    expect(page.get_by_text(re.compile(r"\d+ unité\(s\) CE non attribuée\(s\) sur l'ensemble "
                                       r"des inspecteurs cette semaine"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ unité\(s\) CE - Anna DUMAS$"))).to_be_visible()
    before = int(re.match(r"(\d+)", page.locator("#summary-total").inner_text()).group(1))
    # Tablet: big enough targets, and only the grid may scroll sideways.
    assert small_tap_targets(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 768

    for start, end in FRIDAY_UNITS:
        box = page.get_by_role("checkbox", name=unit_name(FRIDAY, start, end, "Dispo AE"),
                               exact=True)
        box.check()
        expect(box).to_be_checked()
    panel = page.locator("#panel")
    expect(panel.get_by_text("4 unités sélectionnées")).to_be_visible()
    expect(panel.get_by_role("heading", name=dates.jour_date(FRIDAY).upper())).to_be_visible()
    expect(panel.get_by_text("15:30 → 16:00")).to_be_visible()
    expect(panel.get_by_role("listitem").first).to_contain_text("CARCASSONNE")

    page.get_by_label("Raison sociale de l'auto-école ou ID Aurige").press_sequentially("aut")
    option = page.get_by_role("option", name="Alliance Auto-Ecole — Aurige ID : "
                                              "auto-ecole-aurige-1")
    expect(option).to_be_visible()
    # Only the department's schools (the Hérault school's name also contains "aut").
    expect(page.get_by_role("listbox", name="Auto-écoles correspondantes").get_by_role(
        "option")).to_have_count(4)
    assert small_tap_targets(page) == []
    option.click()
    expect(page.get_by_text("Auto-école choisie")).to_contain_text("Alliance Auto-Ecole")
    page.get_by_role("button", name="Valider la place d'examen").click()

    banner = page.get_by_test_id("banner")
    expect(banner).to_contain_text("Réservation enregistrée !")
    expect(banner).to_be_in_viewport()  # the panel pressed is at the bottom of the page
    expect(banner).to_contain_text("Les places d'examens ont été enregistrées avec succès et "
                                   "l'auto-école a été informée par e-mail de ces réservations.")
    for start, end in FRIDAY_UNITS:
        unit = page.get_by_role("button", name=unit_name(FRIDAY, start, end,
                                                         "Alliance Auto-Ecole"), exact=True)
        expect(unit).to_contain_text(f"{start} - {end}")
        expect(unit.locator(".cunit__state")).to_have_text("Alliance Auto-Ecole")
        expect(unit.locator(".cunit__state")).to_have_css("color", BLUE)
    # The pressed button is gone: the focus is on the first unit just reserved.
    expect(page.get_by_role("button", name=unit_name(FRIDAY, *FRIDAY_UNITS[0],
                                                     "Alliance Auto-Ecole"), exact=True)
           ).to_be_focused()
    expect(page.locator("#panel")).to_contain_text("Aucune unité sélectionnée")
    expect(page.locator("#summary-total")).to_contain_text(f"{before - 4} unité(s) CE")

    [message] = mail_sink.wait_for(lambda m: m["To"] == "alliance@example.test", count=1)
    assert message["Subject"] == "Réservation d'examens pratiques du permis de conduire"
    body = body_text(message)
    assert ("Des places d'examens pratiques du permis de conduire groupe lourd viennent d'être "
            "réservées au nom de Alliance Auto-Ecole.") in body
    assert "vos candidats doivent présenter" in body
    for start, end in FRIDAY_UNITS:
        assert (f"- {dates.jour_date(FRIDAY)}, de {start} à {end}, centre CARCASSONNE, "
                "catégorie CE, Inspecteur 2488") in body
    assert len(mail_sink.wait_for(count=2, timeout=1)) == 1  # one e-mail for the four units


def test_ber_cancels_an_exam_then_switches_the_status(page, mail_sink):
    login(page, "ber011@example.test")
    open_week(page)
    reserved = page.get_by_role("button", name=unit_name(THURSDAY, "10:00", "10:30",
                                                         "Alliance Auto-Ecole"), exact=True)
    reserved.click()
    dialog = page.get_by_role("dialog", name="Détail de l'examen")
    expect(dialog).to_be_visible()
    for words in (dates.jour_date_cap(THURSDAY), "10:00 → 10:30", "Anna DUMAS", "CARCASSONNE",
                  "Alliance Auto-Ecole"):
        expect(dialog).to_contain_text(words)
    dialog.get_by_role("button", name="Annuler l'examen").click()
    expect(dialog).to_contain_text("Vous êtes sur le point d'annuler une place d'examen. "
                                   "Confirmez-vous ?")
    assert small_tap_targets(page) == []
    dialog.get_by_role("button", name="Annuler l'examen").click()

    banner = page.get_by_test_id("banner")
    expect(banner).to_contain_text("Annulation enregistrée !")
    expect(banner).to_contain_text("L'examen de votre candidat a bien été annulé et le créneau "
                                   "est passé automatiquement au statut indisponible.")
    expect(page.get_by_role("dialog")).to_have_count(0)
    indispo = page.get_by_role("button", name=unit_name(THURSDAY, "10:00", "10:30", "Indispo"),
                               exact=True)
    expect(indispo).to_contain_text("Indispo")
    expect(indispo).to_be_focused()  # the dialog's opener was replaced: focus on the new unit
    [message] = mail_sink.wait_for(
        lambda m: m["Subject"] == "Annulation d'examens pratiques du permis de conduire")
    assert message["To"] == "alliance@example.test"
    assert f"- {dates.jour_date(THURSDAY)}, de 10:00 à 10:30, centre CARCASSONNE" in body_text(
        message)

    # Statut de la place: the Indispo unit is offered to schools again...
    indispo.click()
    dialog = page.get_by_role("dialog", name="Statut de la place")
    expect(dialog).to_contain_text("Attribuer un statut")
    expect(dialog).to_contain_text("examen de Alliance Auto-Ecole annulé")  # its history
    dialog.get_by_role("button", name="Disponible aux auto-écoles").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Statut enregistré !")
    box = page.get_by_role("checkbox", name=unit_name(THURSDAY, "10:00", "10:30", "Dispo AE"),
                           exact=True)
    expect(box).to_be_enabled()
    # ...and back to Indispo through its "Statut de la place" button.
    page.get_by_role("button", name="Statut de la place : " + unit_name(
        THURSDAY, "10:00", "10:30"), exact=True).click()
    page.get_by_role("dialog", name="Statut de la place").get_by_role(
        "button", name="Indisponible").click()
    expect(page.get_by_role("button", name=unit_name(THURSDAY, "10:00", "10:30", "Indispo"),
                            exact=True)).to_be_visible()
    expect(box).to_have_count(0)


def test_two_agents_race_for_one_unit(new_page):
    pages = [new_page(), new_page()]
    for page in pages:
        login(page, "ber011@example.test")
        open_week(page)
    name = unit_name(FRIDAY, "15:30", "16:00", "Dispo AE")
    choices = [("auto-ecole", "Alliance Auto-Ecole — Aurige ID : auto-ecole-aurige-1", False),
               ("du 011", "Alliance du 011 — Aurige ID : auto-ecole-aurige-11", True)]
    for page, (typed, school, keyboard) in zip(pages, choices, strict=True):
        page.get_by_role("checkbox", name=name, exact=True).check()
        expect(page.locator("#panel")).to_contain_text("1 unité sélectionnée")
        choose_school(page, typed, school, keyboard=keyboard)

    # Both validate at once.
    for page in pages:
        page.get_by_role("button", name="Valider la place d'examen").click()
    texts = []
    for page in pages:
        banner = page.get_by_test_id("banner")
        expect(banner).to_contain_text(re.compile("Réservation enregistrée !|Réservation "
                                                  "impossible"))
        texts.append(banner.inner_text())
    won = [i for i, t in enumerate(texts) if "Réservation enregistrée !" in t]
    assert len(won) == 1, texts
    winner, loser = pages[won[0]], pages[1 - won[0]]
    winner_school = ["Alliance Auto-Ecole", "Alliance du 011"][won[0]]
    refusal = texts[1 - won[0]]
    assert (f"L'unité du {dates.jour_date(FRIDAY)} de 15:30 à 16:00 (DUMAS Anna) vient d'être "
            f"attribuée à une autre auto-école ({winner_school})") in refusal
    # The loser's grid was refreshed: it shows the winner's school on the unit.
    taken = unit_name(FRIDAY, "15:30", "16:00", winner_school)
    expect(loser.get_by_role("button", name=taken, exact=True)).to_be_visible()
    for page in pages:
        page.reload()
        expect(page.get_by_role("button", name=taken, exact=True)).to_be_visible()
        expect(page.get_by_role("checkbox", name=name, exact=True)).to_have_count(0)
    assert winner is not loser


def test_all_inspectors_load_as_the_agent_scrolls_to_the_end(page, server_env):
    """A department of 15 inspectors: "Tous les inspecteurs" shows the first ones, the others
    arrive as the agent scrolls, down to the last one."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": server_env["DATABASE_URL"],
                      "SECRET_KEY": server_env["SECRET_KEY"], "MAIL_DELIVERY": "off"})
    count = creneaux.CHUNK * 2 + 3
    with app.app_context():
        email = department_with(count, "906", [(FRIDAY, t) for t in Tranche])
        db.engine.dispose()
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion" not in url)
    page.get_by_role("link", name="Gérer les créneaux").click()
    page.get_by_label("À partir de (jj/mm/aaaa)").fill(FRIDAY.strftime("%d/%m/%Y"))
    page.get_by_role("button", name="Afficher").click()
    first = page.get_by_role("heading", name=re.compile(r"^Prénom NOM000\b"))
    expect(first).to_be_visible()  # one inspector by default: the first by name
    expect(page.locator(".creneaux-inspector")).to_have_count(1)
    settled(page)

    page.get_by_label("Inspecteur").select_option(label="Tous les inspecteurs")
    expect(page).to_have_url(re.compile(r"inspecteur=tous"))
    expect(page.locator(".creneaux-inspector")).to_have_count(creneaux.CHUNK)
    last = page.get_by_role("heading", name=re.compile(rf"^Prénom NOM{count - 1:03d}\b"))
    expect(last).to_have_count(0)  # not loaded before the agent scrolls
    for _ in range(20):  # a bounded number of flicks down the page
        if last.count():
            break
        page.mouse.wheel(0, 3000)
        settled(page)
    expect(last).to_be_visible()
    expect(page.locator(".creneaux-inspector")).to_have_count(count)
    expect(page.locator(".creneaux-more")).to_have_count(0)
    # The last inspector's units are named and usable like the first ones'.
    box = page.get_by_role("checkbox", name=unit_name(FRIDAY, "08:00", "08:30", "Dispo AE",
                                                      who=f"NOM{count - 1:03d} Prénom"),
                           exact=True)
    box.check()
    expect(page.locator("#panel")).to_contain_text("1 unité sélectionnée")
