"""BER 1-3 in Chromium at tablet size (768x1024, touch): plan four sessions for DUMAS Anna,
cancel one through the dialog, export the planning, and the BER of 034 sees nothing of 011."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
from playwright.sync_api import expect

from e2e.helpers import body_text, login, settled
from rdvpl import dates

TODAY = dates.today()
WEEK = dates.monday_of(TODAY) + dt.timedelta(weeks=3)  # no session there in the demo data
TUESDAY = WEEK + dt.timedelta(days=1)
NEXT_MONDAY = dates.monday_of(TODAY) + dt.timedelta(weeks=1)
THURSDAY = NEXT_MONDAY + dt.timedelta(days=3)  # the guide's Thursday: reserved units
HOURS = ["08:00 - 10:00", "10:00 - 12:00", "13:00 - 15:00", "15:00 - 17:00"]


def cell_name(day: dt.date, hours: str, who: str = "DUMAS Anna") -> str:
    return f"{who}, {dates.jour_date(day)}, {hours}"


def show_week(page, day: dt.date):
    """Type the date in "À partir de (jj/mm/aaaa)" and validate, as a user would."""
    field = page.get_by_label("À partir de (jj/mm/aaaa)")
    field.fill(dates.ddmmyyyy(day))
    field.press("Enter")
    monday = dates.monday_of(day)
    expect(page.get_by_role("heading", name=f"Semaine du {dates.ddmmyyyy(monday)}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"date=" + re.escape(dates.ddmmyyyy(day))
                                        .replace("/", "(/|%2F)")))
    settled(page)


def banner(page):
    return page.get_by_test_id("banner")


def test_plan_four_sessions_then_cancel_one_then_export(page, tmp_path):
    login(page, "ber011@example.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Planifier les activités des IPCSR")
    expect(page.get_by_label("Catégorie de permis")).to_have_value("CE")
    expect(page.get_by_label("Centres").locator("option:checked")).to_have_text("CARCASSONNE")
    show_week(page, WEEK)
    expect(page.get_by_role("heading", name="DUMAS Anna")).to_be_visible()
    expect(page.get_by_role("columnheader", name=dates.colonne(TUESDAY)).first).to_be_visible()

    # Tablet: the grid fits without scrolling the page sideways; cells are big enough to tap.
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    first = page.get_by_role("checkbox", name=cell_name(TUESDAY, HOURS[0]), exact=True)
    box = first.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44

    panel = page.locator("#panel")
    for hours in HOURS:
        page.get_by_role("checkbox", name=cell_name(TUESDAY, hours), exact=True).tap()
    expect(panel).to_contain_text("4 session(s) sélectionnée(s)")
    saturday = WEEK + dt.timedelta(days=5)
    expect(panel).to_contain_text(
        f"Semaine du {dates.ddmmyyyy(WEEK)} au {dates.ddmmyyyy(saturday)}")
    expect(panel).to_contain_text("CARCASSONNE CE")
    # A ticked cell says so in words, not only in colour.
    expect(page.locator(f"#cell-{first.get_attribute('value').split('|')[0]}-"
                        f"{TUESDAY:%Y%m%d}-M1")).to_contain_text("Sélectionnée")
    # The week's Saturday is not worked by DUMAS Anna: shown, not selectable.
    expect(page.get_by_role("checkbox", name=cell_name(saturday, HOURS[0]))).to_be_disabled()

    page.get_by_role("button", name="Planifier ces sessions").tap()
    expect(banner(page)).to_contain_text("Succès")
    expect(banner(page)).to_contain_text("4 session(s) de permis CE planifiée(s) sur le centre "
                                         "CARCASSONNE")
    expect(panel).to_contain_text("0 session(s) sélectionnée(s)")

    page.reload()
    for hours in HOURS:
        planned = page.get_by_role("button", name=f"{cell_name(TUESDAY, hours)}, CE CARCASSONNE",
                                   exact=True)
        expect(planned).to_contain_text("CE CARCASSONNE")

    # Cancel the first one through the dialog.
    page.get_by_role("button", name=f"{cell_name(TUESDAY, HOURS[0])}, CE CARCASSONNE").tap()
    dialog = page.get_by_role("dialog", name="Session déjà planifiée")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        f"La session sélectionnée est déjà planifiée pour DUMAS Anna {dates.jour_date(TUESDAY)} "
        "de 08:00 à 10:00 sur le centre CARCASSONNE pour la catégorie CE.")
    expect(dialog).to_contain_text("Vous devez d'abord supprimer cette session pour pouvoir la "
                                   "replanifier.")
    expect(dialog).to_contain_text("Voulez-vous supprimer la session ?")
    # "Non" keeps it.
    dialog.get_by_role("button", name="Non, conserver la session").tap()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name=f"{cell_name(TUESDAY, HOURS[0])}, CE CARCASSONNE").tap()
    page.get_by_role("dialog").get_by_role("button", name="Oui, supprimer la session").tap()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(banner(page).get_by_role("heading")).to_have_text("Succès")
    expect(banner(page).locator("p")).to_have_text(
        f"Vous avez bien supprimé la session de permis CE du {dates.ddmmyyyy(TUESDAY)} de 08:00 "
        "à 10:00, sur le centre CARCASSONNE pour l'inspecteur Dumas Anna")
    freed = page.get_by_role("checkbox", name=cell_name(TUESDAY, HOURS[0]), exact=True)
    expect(freed).to_be_enabled()
    expect(freed).to_be_focused()
    expect(page.get_by_role("button", name=f"{cell_name(TUESDAY, HOURS[1])}, CE CARCASSONNE")
           ).to_be_visible()

    # Export: the file of the filters on screen, read back.
    page.get_by_label("Période exportée").select_option("2")
    with page.expect_download() as info:
        page.get_by_role("button", name="Exporter les plannings").tap()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == (f"plannings-011-CE-{WEEK:%Y-%m-%d}-au-"
                         f"{WEEK + dt.timedelta(days=12):%Y-%m-%d}.xlsx")
    sheet = openpyxl.load_workbook(path).active
    assert [sheet.cell(3, c).value for c in range(1, 6)] == ["Date", "Jour", "Tranche", "Cat",
                                                             "Centre"]
    names = [sheet.cell(2, c).value for c in range(4, sheet.max_column + 1, 2)]
    assert names[:3] == ["ARNAUD Agathe", "BARBET Anaïs", "DUMAS Anna"]
    assert "D2:E2" in {str(r) for r in sheet.merged_cells.ranges}
    column = 4 + 2 * names.index("DUMAS Anna")
    assert sheet.cell(1, column).value == "CARCASSONNE"
    rows = {(sheet.cell(r, 1).value.date(), sheet.cell(r, 3).value): r
            for r in range(4, sheet.max_row + 1)}
    assert len(rows) == 2 * 6 * 4
    m1, m2 = rows[(TUESDAY, "M1")], rows[(TUESDAY, "M2")]
    assert sheet.cell(m1, 2).value == "mar."
    assert [sheet.cell(m1, column).value, sheet.cell(m1, column + 1).value] == [None, None]
    assert [sheet.cell(m2, column).value, sheet.cell(m2, column + 1).value] == ["CE",
                                                                                "CARCASSONNE"]


def test_deleting_a_session_with_reservations_tells_each_school(page, mail_sink):
    login(page, "ber011@example.test")
    show_week(page, THURSDAY)
    hours = "15:00 - 17:00"
    page.get_by_role("button", name=f"{cell_name(THURSDAY, hours)}, CE CARCASSONNE").tap()
    dialog = page.get_by_role("dialog", name="Session déjà planifiée")
    expect(dialog).to_contain_text("2 unité(s) de cette session sont réservées : 1 pour "
                                   "Alliance Auto-Ecole, 1 pour Alliance du 002.")
    dialog.get_by_role("button", name="Oui, supprimer la session").tap()
    expect(banner(page)).to_contain_text("Vous avez bien supprimé la session de permis CE du "
                                         f"{dates.ddmmyyyy(THURSDAY)} de 15:00 à 17:00")
    expect(banner(page)).to_contain_text("Alliance Auto-Ecole (1 place(s)), Alliance du 002")
    expect(page.get_by_role("checkbox", name=cell_name(THURSDAY, hours), exact=True)
           ).to_be_enabled()
    mails = mail_sink.wait_for(lambda m: "Annulation d'examens" in m["Subject"], count=2)
    assert sorted(m["To"] for m in mails) == ["alliance002@example.test",
                                              "alliance@example.test"]
    alliance = next(m for m in mails if m["To"] == "alliance@example.test")
    text = " ".join(body_text(alliance).split())
    assert "réservée au nom de Alliance Auto-Ecole" in text
    assert f"{dates.jour_date(THURSDAY)}, de 15:00 à 15:30, centre CARCASSONNE, catégorie CE" \
        in text


def test_week_navigation_and_back_button(page):
    login(page, "ber011@example.test")
    this_week = dates.monday_of(TODAY)
    page.get_by_role("link", name="Semaine suivante").tap()
    expect(page.get_by_role("heading", name=f"Semaine du {dates.ddmmyyyy(NEXT_MONDAY)}")
           ).to_be_visible()
    page.get_by_label("Rechercher un IPCSR par son nom").fill("kleber")
    expect(page.get_by_role("heading", name="DUMAS Anna")).to_have_count(0)
    expect(page.get_by_role("heading", name="KLÉBER Thierry")).to_be_visible()
    expect(page).to_have_url(re.compile(r"nom=kleber"))
    page.go_back()
    expect(page.get_by_role("heading", name="DUMAS Anna")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name=f"Semaine du {dates.ddmmyyyy(this_week)}")
           ).to_be_visible()
    # A malformed date: a French message, and the page still shows this week.
    field = page.get_by_label("À partir de (jj/mm/aaaa)")
    field.fill("32/13/2022")
    field.press("Enter")
    expect(page.get_by_text("La date « 32/13/2022 » n'est pas valide")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Semaine du {dates.ddmmyyyy(this_week)}")
           ).to_be_visible()


def test_ber_034_sees_nothing_of_011(page, new_page):
    # A session id of 011, as the 011 agent's own screen links to it.
    ber011 = new_page()
    login(ber011, "ber011@example.test")
    show_week(ber011, THURSDAY)
    planned = ber011.get_by_role("button", name=f"{cell_name(THURSDAY, HOURS[0])}, CE CARCASSONNE")
    url = planned.get_attribute("hx-get")
    assert re.fullmatch(r"/ber/planification/sessions/\d+", url)

    login(page, "ber034@example.test")
    show_week(page, THURSDAY)
    expect(page.get_by_role("heading", name="LEROY Paul")).to_be_visible()
    expect(page.get_by_text("DUMAS Anna")).to_have_count(0)
    expect(page.get_by_label("Centres").locator("option")).to_have_text(["MONTPELLIER"])
    page.get_by_label("Rechercher un IPCSR par son nom").fill("dumas")
    expect(page.get_by_text("Aucun IPCSR de votre département ne correspond à « dumas »."))\
        .to_be_visible()

    response = page.goto(url)
    assert response.status == 404
    expect(banner(page)).to_contain_text("Session introuvable.")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert "DUMAS" not in page.content()


def test_stale_grid_two_agents_plan_the_same_cell(page, new_page):
    other = new_page()
    for agent in (page, other):
        login(agent, "ber011@example.test")
        show_week(agent, WEEK)
        agent.get_by_role("checkbox", name=cell_name(TUESDAY, HOURS[0]), exact=True).tap()
    other.get_by_role("checkbox", name=cell_name(TUESDAY, HOURS[1]), exact=True).tap()
    expect(other.locator("#panel")).to_contain_text("2 session(s) sélectionnée(s)")
    expect(page.locator("#panel")).to_contain_text("1 session(s) sélectionnée(s)")

    page.get_by_role("button", name="Planifier ces sessions").tap()
    expect(banner(page)).to_contain_text("1 session(s) de permis CE planifiée(s)")

    # The second agent's grid is stale: the whole request is refused and the grid refreshed.
    other.get_by_role("button", name="Planifier ces sessions").tap()
    expect(banner(other)).to_contain_text(
        f"La session {cell_name(TUESDAY, HOURS[0])} est déjà planifiée (CE CARCASSONNE).")
    expect(other.get_by_role("button", name=f"{cell_name(TUESDAY, HOURS[0])}, CE CARCASSONNE")
           ).to_be_visible()
    still = other.get_by_role("checkbox", name=cell_name(TUESDAY, HOURS[1]), exact=True)
    expect(still).to_be_checked()
    expect(other.locator("#panel")).to_contain_text("1 session(s) sélectionnée(s)")
    other.reload()  # nothing of the refused request was planned
    expect(other.get_by_role("checkbox", name=cell_name(TUESDAY, HOURS[1]), exact=True)
           ).to_be_enabled()
    expect(other.get_by_role("button", name=f"{cell_name(TUESDAY, HOURS[1])}, CE CARCASSONNE")
           ).to_have_count(0)
