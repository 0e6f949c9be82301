"""Accessibility kept by CI: axe-core (WCAG 2.1 A/AA + best practices) on every screen and
dialog state, in Chromium at tablet size, failing on any serious or critical violation; and
every visible control at least 44 px high."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from e2e.a11y import assert_no_serious_violation, small_tap_targets
from e2e.helpers import login, open_menu, settled
from e2e.test_ber_creneaux import THURSDAY, choose_school, open_week, unit_name
from rdvpl import dates
from rdvpl.capacity import coming_saturdays

EMPTY_WEEK = dates.monday_of(dates.today()) + dt.timedelta(weeks=3)  # no session in the demo
NEXT_THURSDAY = dates.monday_of(dates.today()) + dt.timedelta(weeks=1, days=3)


# ---- Screens and states outside the BER grids ---------------------------------------------

def login_page(page):
    page.goto("/connexion")


def login_error(page):
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill("alliance@example.test")
    page.get_by_label("Mot de passe").fill("not-the-password")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Connexion impossible")


def forgot_password(page):
    page.goto("/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")


def forgot_password_sent(page):
    forgot_password(page)
    page.get_by_label("Adresse électronique").fill("alliance@example.test")
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Demande enregistrée")


def change_password_refused(page):
    login(page, "alliance@example.test")
    page.goto("/mot-de-passe")
    page.get_by_role("button", name="Changer mon mot de passe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Changer mon mot de passe")


def not_found(page):
    page.goto("/nexiste-pas")
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()


def not_found_signed_in(page):
    login(page, "alliance@example.test")
    page.goto("/ae/examens/unites/999999")
    expect(page.get_by_role("heading", name="Introuvable")).to_be_visible()


def forbidden(page):
    login(page, "alliance@example.test")
    page.goto("/ber/planification")
    expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()


def ae_exams(page):
    login(page, "alliance@example.test")
    expect(page.get_by_test_id("exam-row").first).to_be_visible()


def ae_past_exams(page):
    ae_exams(page)
    page.get_by_role("link", name="Voir les examens passés").click()
    expect(page.get_by_role("heading", name="Examens passés")).to_be_visible()
    settled(page)


def _far_row(page):
    """ARNAUD's row in the demo, 9 days ahead or more: the school may cancel it."""
    return page.get_by_role("button", name=re.compile(r"LUCHAPT DU 011, 2 unités$"))


def ae_units_dialog(page):
    ae_exams(page)
    _far_row(page).click()
    expect(page.get_by_role("dialog", name="Unité(s)")).to_be_visible()


def ae_cancel_dialog(page):
    ae_units_dialog(page)
    page.get_by_role("button", name=re.compile("^Annuler l'unité 1")).click()
    expect(page.get_by_role("dialog", name="Unité programmée")).to_be_visible()


def ae_late_cancel_dialog(page):
    ae_exams(page)
    # The soonest row is 2 to 4 days ahead in the demo: too late for the school.
    page.get_by_test_id("exam-row").first.get_by_role("button").click()
    expect(page.get_by_role("dialog", name="Unité(s)").get_by_test_id("late-cancel")
           ).to_be_visible()


def ae_after_cancel(page):
    ae_cancel_dialog(page)
    page.get_by_role("button", name="Confirmer l'annulation").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Annulation enregistrée !")
    settled(page)


def ae_agenda(page):
    login(page, "alliance@example.test")
    page.get_by_role("link", name="Mon agenda").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon agenda")


def ae_agenda_new_link(page):
    ae_agenda(page)
    page.get_by_role("button", name="Générer un nouveau lien").click()
    expect(page.get_by_test_id("feed-url")).to_be_visible()
    settled(page)


def _candidate_button(page):
    """The Thursday 10:00 unit of DUMAS Anna next week, Alliance's in the demo."""
    name = f"Affecter un candidat, {dates.jour_date(THURSDAY)}, 10:00 - 10:30, CARCASSONNE"
    return page.get_by_role("button", name=name)


def ae_candidates(page):
    login(page, "alliance@example.test")
    page.get_by_role("link", name="Mes candidats").click()
    expect(page.get_by_test_id("candidate-row").first).to_be_visible()


def ae_candidate_dialog(page):
    ae_candidates(page)
    _candidate_button(page).click()
    expect(page.get_by_role("dialog", name="Affecter un candidat")).to_be_visible()


def ae_candidate_refused(page):
    ae_candidate_dialog(page)
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Nom", exact=True).fill("Dupont")
    dialog.get_by_label(re.compile("^Numéro NEPH")).fill("12345")
    dialog.get_by_role("button", name="Enregistrer le candidat").click()
    expect(dialog).to_contain_text("Saisissez le prénom du candidat.")
    settled(page)


def ae_after_candidate(page):
    ae_candidate_dialog(page)
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Nom", exact=True).fill("Dupont")
    dialog.get_by_label("Prénom").fill("Jean")
    dialog.get_by_label(re.compile("^Numéro NEPH")).fill("130175123456")
    dialog.get_by_role("button", name="Enregistrer le candidat").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Candidat enregistré !")
    settled(page)


def ber_day_sheet_with_candidate(page):
    ae_after_candidate(page)
    page.get_by_role("button", name="Se déconnecter").click()
    login(page, "ber011@example.test")
    page.goto(f"/ber/examens?du={dates.ddmmyyyy(THURSDAY)}&au={dates.ddmmyyyy(THURSDAY)}")
    page.get_by_role("link", name=re.compile("^Feuille du jour de DUMAS Anna")).click()
    expect(page.locator("main")).to_contain_text("DUPONT Jean — NEPH 130175123456")


def admin(page):
    login(page, "admin@example.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gérer les référentiels")


# ---- The import of a planning (BER 9) ---------------------------------------------------------

def planning_import(page):
    login(page, "ber011@example.test")
    page.goto("/ber/planification")
    page.get_by_role("link", name="Importer un planning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer un planning")


def _upload(page, name: str, data: bytes):
    page.get_by_label("Fichier du planning").set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": data})
    page.get_by_role("button", name="Afficher l'aperçu").click()


def planning_import_preview(page):
    planning_import(page)
    exported = page.request.get(f"/ber/planification/export?date={dates.ddmmyyyy(NEXT_THURSDAY)}"
                                "&semaines=2").body()
    _upload(page, "plannings.xlsx", exported)
    expect(page.get_by_test_id("import-summary")).to_contain_text("déjà planifiée(s)")


def planning_import_refused(page):
    planning_import(page)
    _upload(page, "notes.xlsx", b"Date;Jour;Tranche")
    expect(page.get_by_test_id("banner")).to_contain_text("Fichier refusé")


def _footer_page(link):
    def visit(page):
        page.goto("/connexion")
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    return visit


# ---- Part 2 screens: capacity, demands, référentiels, activity, exams, e-mails ---------------

def _ber(page):
    login(page, "ber011@example.test")
    return page.get_by_role("navigation", name="Menu principal")


def ber_absences(page):
    _ber(page)
    open_menu(page, "Indisponibilités et autres charges")
    expect(page.get_by_role("heading", level=1)).to_have_text("Indisponibilités et autres charges")


def ber_absence_refused(page):
    ber_absences(page)
    page.locator("#absence-du").fill("31/02/2030")
    page.locator("#absence-au").fill("01/03/2030")
    page.get_by_role("button", name="Enregistrer l'indisponibilité").click()
    expect(page.get_by_test_id("banner")).to_contain_text("La date de début est invalide")
    settled(page)
    settled(page)


def ber_absence_sessions_concerned(page):
    ber_absences(page)
    form = page.locator(".absence-form")
    form.get_by_label("Inspecteur").select_option(label="DUMAS Anna")
    form.get_by_label("Motif").select_option("Congé")
    page.locator("#absence-du").fill(dates.ddmmyyyy(THURSDAY))
    page.locator("#absence-au").fill(dates.ddmmyyyy(THURSDAY))
    page.get_by_role("button", name="Enregistrer l'indisponibilité").click()
    expect(page.get_by_role("dialog", name="Sessions concernées")).to_be_visible()
    settled(page)


def ber_saturdays(page):
    _ber(page)
    open_menu(page, "Samedis supplémentaires travaillés")
    expect(page.get_by_role("heading", level=1)).to_have_text("Samedis supplémentaires travaillés")


def ber_saturday_sessions_concerned(page):
    """A worked Saturday with a session planned on it, then "not worked": the dialog."""
    saturday = next(d for d in coming_saturdays()[3:] if not dates.public_holiday(d))
    name = f"MONTEIL Marie, {dates.jour_date(saturday)}"
    ber_saturdays(page)
    page.get_by_role("button", name=f"{name}, non travaillé", exact=True).click()
    expect(page.get_by_role("button", name=f"{name}, travaillé", exact=True)).to_be_visible()
    page.goto(f"/ber/planification?nom=monteil&date={dates.ddmmyyyy(saturday)}")
    page.get_by_role("checkbox", name=f"{name}, 08:00 - 10:00", exact=True).check()
    page.get_by_role("button", name="Planifier ces sessions").click()
    expect(page.get_by_test_id("banner")).to_contain_text("planifiée(s)")
    page.goto("/ber/samedis")
    page.get_by_role("button", name=f"{name}, travaillé", exact=True).click()
    expect(page.get_by_role("dialog", name="Sessions concernées")).to_be_visible()
    settled(page)


def ber_demands(page):
    _ber(page).get_by_role("link", name="Demandes des auto-écoles").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    settled(page)


def ae_demands(page):
    login(page, "alliance@example.test")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Mes demandes").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    settled(page)


def ber_activity(page):
    _ber(page).get_by_role("link", name="Suivre l'activité").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    settled(page)


def ber_exams(page):
    _ber(page).get_by_role("link", name="Consulter les examens").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    settled(page)


def ber_referentiels(page):
    _ber(page).get_by_role("link", name="Gérer les référentiels").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gérer les référentiels")


def _referentiel(link):
    def visit(page):
        ber_referentiels(page)
        page.locator("main").get_by_role("link", name=link).first.click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        settled(page)
    visit.__name__ = f"referentiel_{link.pattern if hasattr(link, 'pattern') else link}"
    return visit


def admin_department(page):
    admin(page)
    page.locator("main").get_by_role("link", name=re.compile("011")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("011")
    settled(page)


SCREENS = {f.__name__: f for f in (
    login_page, login_error, forgot_password, forgot_password_sent, change_password_refused,
    not_found, not_found_signed_in, forbidden, ae_exams, ae_past_exams,
    ae_units_dialog, ae_cancel_dialog, ae_late_cancel_dialog, ae_after_cancel, ae_agenda,
    ae_agenda_new_link, ae_candidates, ae_candidate_dialog, ae_candidate_refused,
    ae_after_candidate, ber_day_sheet_with_candidate, admin,
    ber_absences, ber_absence_refused, ber_absence_sessions_concerned, ber_saturdays,
    ber_saturday_sessions_concerned, ber_demands, ae_demands, ber_activity, ber_exams,
    ber_referentiels, admin_department,
    planning_import, planning_import_preview, planning_import_refused,
)} | {
    "referentiel_centre": _referentiel(re.compile("^Modifier le centre")),
    "referentiel_inspector": _referentiel(re.compile("^Modifier DUMAS")),
    "referentiel_school": _referentiel(re.compile("^Modifier et gérer les comptes")),
    "mail_follow_up": _referentiel("Suivi des e-mails"),
    "accessibility_statement": _footer_page(re.compile("^Accessibilité : ")),
    "legal_notice": _footer_page("Mentions légales"),
    "personal_data": _footer_page("Données personnelles"),
    "cookies": _footer_page("Gestion des cookies"),
}


@pytest.fixture
def audit_page(new_page):
    """A page whose context ignores the app's Content-Security-Policy, so that axe-core can be
    injected (an audit only: the app's own pages never need it)."""
    return new_page(bypass_csp=True)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_axe_finds_no_serious_violation(audit_page, screen):
    SCREENS[screen](audit_page)
    assert_no_serious_violation(audit_page)


# ---- The BER grids: every state, every dialog ------------------------------------------------

def planning(page):
    login(page, "ber011@example.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Planifier les activités des IPCSR")


def planning_with_sessions(page):
    login(page, "ber011@example.test")
    page.goto(f"/ber/planification?date={dates.ddmmyyyy(NEXT_THURSDAY)}")
    expect(page.get_by_role("button", name=re.compile("CE CARCASSONNE$")).first).to_be_visible()


def planning_selection(page):
    login(page, "ber011@example.test")
    page.goto(f"/ber/planification?date={dates.ddmmyyyy(EMPTY_WEEK)}")
    page.locator("#grid input[type=checkbox]:enabled").first.check()
    expect(page.locator("#panel")).to_contain_text("1 session(s) sélectionnée(s)")
    settled(page)


def planning_dialog(page):
    login(page, "ber011@example.test")
    page.goto(f"/ber/planification?date={dates.ddmmyyyy(NEXT_THURSDAY)}")
    page.get_by_role("button", name=re.compile("CE CARCASSONNE$")).first.click()
    expect(page.get_by_role("dialog", name="Session déjà planifiée")).to_be_visible()


def planning_after_banner(page):
    planning_selection(page)
    page.get_by_role("button", name="Planifier ces sessions").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Succès")
    settled(page)


def creneaux(page):
    login(page, "ber011@example.test")
    open_week(page)


def creneaux_selection(page):
    creneaux(page)
    page.locator("#grid input[type=checkbox]:enabled").first.check()
    expect(page.locator("#panel")).to_contain_text("1 unité sélectionnée")
    settled(page)


def creneaux_suggestions(page):
    creneaux_selection(page)
    page.get_by_label("Raison sociale de l'auto-école ou ID Aurige").press_sequentially("aut")
    expect(page.get_by_role("listbox").get_by_role("option").first).to_be_visible()
    settled(page)


def creneaux_unit_dialog(page):
    creneaux(page)
    page.get_by_role("button", name=unit_name(THURSDAY, "10:00", "10:30", "Alliance Auto-Ecole"),
                     exact=True).click()
    expect(page.get_by_role("dialog", name="Détail de l'examen")).to_be_visible()


def creneaux_cancel_confirmation(page):
    creneaux_unit_dialog(page)
    page.get_by_role("dialog").get_by_role("button", name="Annuler l'examen").click()
    expect(page.get_by_role("dialog")).to_contain_text("Confirmez-vous ?")
    settled(page)


def creneaux_status_dialog(page):
    creneaux(page)
    page.get_by_role("button", name=re.compile("^Statut de la place : ")).first.click()
    expect(page.get_by_role("dialog", name="Statut de la place")).to_be_visible()


def creneaux_after_banner(page):
    creneaux_selection(page)
    choose_school(page, "aut", "Alliance Auto-Ecole — Aurige ID : auto-ecole-aurige-1")
    page.get_by_role("button", name="Valider la place d'examen").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Réservation enregistrée !")
    settled(page)


def planning_copy_dialog(page):
    login(page, "ber011@example.test")
    page.goto(f"/ber/planification?date={dates.ddmmyyyy(NEXT_THURSDAY)}")
    page.get_by_label("Sur les N semaines suivantes").select_option("2")
    page.get_by_role("button", name="Recopier cette semaine").click()
    expect(page.get_by_role("dialog", name="Recopier cette semaine")).to_be_visible()
    settled(page)


def planning_after_copy(page):
    planning_copy_dialog(page)
    page.get_by_role("dialog").get_by_role("button", name="Recopier").click()
    expect(page.get_by_test_id("banner")).to_contain_text("recopiée(s)")
    settled(page)


GRID_SCREENS = {f.__name__: f for f in (
    planning, planning_with_sessions, planning_selection, planning_dialog, planning_after_banner,
    planning_copy_dialog, planning_after_copy,
    creneaux, creneaux_selection, creneaux_suggestions, creneaux_unit_dialog,
    creneaux_cancel_confirmation, creneaux_status_dialog, creneaux_after_banner,
)}
@pytest.mark.parametrize("screen", list(GRID_SCREENS))
def test_axe_on_the_grids(audit_page, screen):
    GRID_SCREENS[screen](audit_page)
    assert_no_serious_violation(audit_page)


# Every screen outside the grids, and every dialog (the grids themselves have their own check
# in test_ber_*.py).
TAP_SCOPES = {**{name: "main, #dialog" for name in SCREENS},
              **{name: "#dialog" for name in GRID_SCREENS
                 if "dialog" in name or "confirmation" in name}}


@pytest.mark.parametrize("screen", list(TAP_SCOPES))
def test_every_control_is_big_enough_to_tap(page, screen):
    {**SCREENS, **GRID_SCREENS}[screen](page)
    assert small_tap_targets(page, TAP_SCOPES[screen]) == []


# ---- Headings, skip link, dialog focus, footer ------------------------------------------------

def _heading_levels(page) -> list[int]:
    return page.evaluate("""() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
        .filter(h => h.getClientRects().length).map(h => Number(h.tagName[1]))""")


@pytest.mark.parametrize("screen", list(SCREENS))
def test_one_h1_and_no_heading_level_skipped(audit_page, screen):
    SCREENS[screen](audit_page)
    levels = _heading_levels(audit_page)
    assert levels.count(1) == 1, levels
    skipped = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
    assert skipped == [], levels


def test_the_skip_link_is_seen_when_focused_and_leads_to_the_content(page):
    page.goto("/connexion")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    expect(skip).to_have_css("opacity", "1")
    assert skip.bounding_box()["height"] >= 24
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Adresse électronique")).to_be_focused()


def test_a_dialog_focuses_its_autofocus_control_first(page):
    planning_dialog(page)
    dialog = page.get_by_role("dialog", name="Session déjà planifiée")
    # Not the close button, first in page order: the safe choice the dialog names.
    expect(dialog.get_by_role("button", name="Non, conserver la session")).to_be_focused()


# ---- The school search of "Gérer les créneaux": a WAI-ARIA combobox (issue 10 item 9) --------

def test_the_school_search_is_a_combobox(page):
    creneaux_selection(page)
    field = page.get_by_role("combobox", name="Raison sociale de l'auto-école ou ID Aurige")
    expect(field).to_have_attribute("aria-autocomplete", "list")
    expect(field).to_have_attribute("aria-expanded", "false")
    field.press_sequentially("aut")
    listbox = page.get_by_role("listbox", name="Auto-écoles correspondantes")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(4)
    settled(page)
    expect(field).to_have_attribute("aria-expanded", "true")
    expect(field).to_have_attribute("aria-controls", listbox.get_attribute("id"))
    ids = [o.get_attribute("id") for o in options.all()]

    # The arrows move the active option; the focus stays in the field (aria-activedescendant).
    field.press("ArrowDown")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-activedescendant", ids[0])
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_css("outline-style", "solid")  # seen, not only announced
    field.press("ArrowDown")
    expect(field).to_have_attribute("aria-activedescendant", ids[1])
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    field.press("ArrowUp")
    expect(field).to_have_attribute("aria-activedescendant", ids[0])

    # Escape closes the list; the focus is (still) in the field.
    field.press("Escape")
    expect(listbox).to_be_hidden()
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(field).not_to_have_attribute("aria-activedescendant", re.compile("."))
    expect(field).to_be_focused()
    expect(field).to_have_value("aut")
    # ArrowDown opens it again, on the first option; Enter chooses the active one.
    field.press("ArrowDown")
    expect(listbox).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    field.press("ArrowDown")
    chosen = options.nth(1).locator(".creneaux-suggestion__name").inner_text()
    field.press("Enter")
    expect(page.get_by_text("Auto-école choisie")).to_contain_text(chosen)
    expect(page.get_by_role("button", name="Valider la place d'examen")).to_be_focused()


# ---- The BER menu on a tablet: one line, a DSFR sub-menu (fr-nav__btn + fr-menu) -------------

def _menu_lines(page) -> set[int]:
    return set(page.evaluate("""() => [...document.querySelectorAll('#menu .fr-nav__list > li')]
        .map(li => Math.round(li.getBoundingClientRect().top))"""))


@pytest.mark.parametrize("email", ["ber011@example.test", "alliance@example.test"])
def test_the_menu_is_one_line_on_a_tablet(page, email):
    login(page, email)
    assert page.viewport_size == {"width": 768, "height": 1024}
    assert len(_menu_lines(page)) == 1, _menu_lines(page)


def test_the_planifier_sub_menu_opens_closes_and_leads_to_its_pages(audit_page):
    page = audit_page
    login(page, "ber011@example.test")
    nav = page.get_by_role("navigation", name="Menu principal")
    button = nav.get_by_role("button", name="Planifier les activités")
    entries = ["Planification des sessions", "Indisponibilités et autres charges",
               "Samedis supplémentaires travaillés"]
    expect(button).to_have_attribute("aria-current", "true")  # the planning page is in it
    expect(button).to_have_attribute("aria-expanded", "false")
    for entry in entries:
        expect(nav.get_by_role("link", name=entry)).to_be_hidden()
    # By keyboard: Enter opens it, Tab goes through its entries, Escape closes it on its button.
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    for entry in entries:
        page.keyboard.press("Tab")
        expect(nav.get_by_role("link", name=entry)).to_be_focused()
    assert_no_serious_violation(page)  # the open sub-menu too
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    expect(nav.get_by_role("link", name=entries[2])).to_be_hidden()
    # By touch: it opens, an entry leads to its page, which the button marks as current.
    button.tap()
    nav.get_by_role("link", name=entries[2]).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(entries[2])
    expect(nav.get_by_role("link", name=entries[2], include_hidden=True)).to_have_attribute(
        "aria-current", "page")
    expect(nav.get_by_role("button", name="Planifier les activités")).to_have_attribute(
        "aria-current", "true")
    # A tap elsewhere closes it; another top-level entry is not in it.
    button = nav.get_by_role("button", name="Planifier les activités")
    button.tap()
    expect(button).to_have_attribute("aria-expanded", "true")
    page.get_by_role("heading", level=1).tap()
    expect(button).to_have_attribute("aria-expanded", "false")
    nav.get_by_role("link", name="Suivre l'activité").tap()
    expect(nav.get_by_role("button", name="Planifier les activités")).not_to_have_attribute(
        "aria-current", re.compile("."))
