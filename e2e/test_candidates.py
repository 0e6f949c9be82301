"""AE 5 "Mes candidats" in Chromium at tablet size: the school names the candidate of one of
its units (a refused NEPH first), the BER sees the candidate in "Détail de l'examen" (with the
history line) and on the inspector's "Feuille du jour"; another school sees nothing."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.helpers import login, settled
from e2e.test_ber_creneaux import THURSDAY, open_week, unit_name
from rdvpl import dates

# The demo's Thursday of next week: DUMAS Anna, CARCASSONNE, 10:00 - 10:30 reserved for
# Alliance Auto-Ecole.
ROW = f"{dates.jour_date(THURSDAY)}, 10:00 - 10:30, CARCASSONNE"


def name_candidate(page, neph="1301 7512 3456"):
    """The school (signed in) names DUPONT Jean on the Thursday 10:00 unit."""
    page.get_by_role("link", name="Mes candidats").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes candidats")
    page.get_by_role("button", name=f"Affecter un candidat, {ROW}").tap()
    dialog = page.get_by_role("dialog", name="Affecter un candidat")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"{dates.jour_date_cap(THURSDAY)}, 10:00 → 10:30")
    expect(dialog.get_by_label("Nom", exact=True)).to_be_focused()
    dialog.get_by_label("Nom", exact=True).fill("Dupont")
    dialog.get_by_label("Prénom").fill("Jean")
    dialog.get_by_label(re.compile("^Numéro NEPH")).fill(neph)
    dialog.get_by_role("button", name="Enregistrer le candidat").tap()
    return dialog


def test_the_school_names_a_candidate_and_the_ber_sees_it(page, new_page):
    login(page, "alliance@example.test")
    # 11 digits: refused in the dialog, which stays open with the message by the field.
    dialog = name_candidate(page, neph="1301 7512 345")
    field = dialog.get_by_label(re.compile("^Numéro NEPH"))
    expect(dialog).to_contain_text(
        "Le numéro NEPH comporte exactement 12 chiffres : vous en avez saisi 11.")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("1301 7512 3456")
    dialog.get_by_role("button", name="Enregistrer le candidat").tap()

    banner = page.get_by_test_id("banner")
    expect(banner).to_contain_text("Candidat enregistré !")
    expect(banner).to_contain_text("DUPONT Jean est affecté(e) à l'unité du")
    expect(page.locator("dialog")).to_have_count(0)
    row = page.locator("tr", has=page.get_by_role("button", name=f"Modifier le candidat, {ROW}"))
    expect(row.locator("td")).to_have_text([
        dates.jour_date_cap(THURSDAY), "10:00 - 10:30", "CE", "CARCASSONNE", "DUPONT Jean",
        "130175123456", "Modifier"])
    expect(page.get_by_role("button", name=f"Modifier le candidat, {ROW}")).to_be_focused()
    settled(page)

    # The BER: "Détail de l'examen" on the grid, then the inspector's day sheet.
    ber = new_page()
    login(ber, "ber011@example.test")
    open_week(ber)
    ber.get_by_role("button", name=unit_name(THURSDAY, "10:00", "10:30", "Alliance Auto-Ecole"),
                    exact=True).tap()
    detail = ber.get_by_role("dialog", name="Détail de l'examen")
    expect(detail).to_be_visible()
    expect(detail.get_by_test_id("unit-candidate")).to_have_text(
        "DUPONT Jean — NEPH 130175123456")
    expect(detail).to_contain_text(
        "candidat DUPONT Jean (NEPH se terminant par 3456) affecté, par")
    expect(detail).to_contain_text("(Alliance Auto-Ecole)")

    ber.goto(f"/ber/examens?du={dates.ddmmyyyy(THURSDAY)}&au={dates.ddmmyyyy(THURSDAY)}")
    ber.get_by_role("link", name=re.compile("^Feuille du jour de DUMAS Anna")).tap()
    sheet_row = ber.locator("tr", has_text="10:00 - 10:30")
    expect(sheet_row.locator("td")).to_have_text(
        ["10:00 - 10:30", "Alliance Auto-Ecole", "DUPONT Jean — NEPH 130175123456", ""])

    # A school of another department sees none of it.
    other = new_page()
    login(other, "herault@example.test")
    other.goto("/ae/candidats")
    expect(other.get_by_role("heading", level=1)).to_have_text("Mes candidats")
    expect(other.locator("main")).not_to_contain_text("DUPONT")


def test_the_school_removes_its_candidate(page):
    login(page, "alliance@example.test")
    name_candidate(page)
    expect(page.get_by_test_id("banner")).to_contain_text("Candidat enregistré !")
    settled(page)
    page.get_by_role("button", name=f"Modifier le candidat, {ROW}").tap()
    dialog = page.get_by_role("dialog", name="Modifier le candidat")
    expect(dialog.get_by_label("Nom", exact=True)).to_have_value("Dupont")
    dialog.get_by_role("button", name="Retirer le candidat DUPONT Jean").tap()
    expect(page.get_by_test_id("banner")).to_contain_text("Candidat retiré")
    row = page.locator("tr", has=page.get_by_role("button", name=f"Affecter un candidat, {ROW}"))
    expect(row).to_contain_text("Aucun candidat")
