"""BER 8-9 in Chromium at tablet size: copy DUMAS Anna's week to the next two and see the
sessions there; export a week, add two sessions to the file with openpyxl, import it, read the
preview and see the new sessions on the planning."""

from __future__ import annotations

import datetime as dt
import os
import re

import openpyxl
from playwright.sync_api import expect

from e2e.helpers import login, settled
from e2e.test_ber_planning import banner, cell_name, show_week
from rdvpl import dates

TODAY = dates.today()
NEXT_MONDAY = dates.monday_of(TODAY) + dt.timedelta(weeks=1)  # DUMAS: Thursday and Friday
SHOTS = os.environ.get("RDVPL_SCREENSHOTS")  # a folder: the previews are saved there too


def ordinary_week(monday: dt.date) -> dt.date:
    while any(dates.public_holiday(d) for d in dates.week_days(monday)):
        monday += dt.timedelta(weeks=1)
    return monday


def test_copy_a_week_to_the_next_two(page):
    login(page, "ber011@example.test")
    page.goto("/ber/planification?nom=dumas")
    show_week(page, NEXT_MONDAY)
    page.get_by_label("Sur les N semaines suivantes").select_option("2")
    page.get_by_role("button", name="Recopier cette semaine").tap()

    dialog = page.get_by_role("dialog", name="Recopier cette semaine")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Annuler")).to_be_focused()
    count = dialog.get_by_test_id("copy-count")
    expect(count).to_contain_text("session(s) seront planifiée(s)")
    planned = int(re.match(r"(\d+) session", count.inner_text()).group(1))
    lines = dialog.get_by_test_id("preview-line")
    expect(lines.first).to_be_visible()
    # Each of the week's sessions twice (Thursday and Friday, and the soon ones of the demo);
    # every line planned or named with its reason.
    assert lines.count() % 2 == 0 and lines.count() >= 16
    assert lines.filter(has_text="à planifier").count() == planned
    targets = [NEXT_MONDAY + dt.timedelta(weeks=w, days=d) for w in (1, 2) for d in (3, 4)]
    for day in targets:
        row = lines.filter(has_text=dates.jour_date(day)).filter(has_text="08:00 - 10:00")
        holiday = dates.public_holiday(day)
        expect(row).to_contain_text(f"jour férié ({holiday})" if holiday else "à planifier")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/copy-preview.png", full_page=True)
    dialog.get_by_role("button", name="Recopier").tap()

    first = NEXT_MONDAY + dt.timedelta(weeks=1)
    last = NEXT_MONDAY + dt.timedelta(weeks=2, days=5)
    expect(banner(page)).to_contain_text(
        f"{planned} session(s) recopiée(s) sur les semaines du {dates.ddmmyyyy(first)} au "
        f"{dates.ddmmyyyy(last)}.")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Recopier cette semaine")).to_be_focused()
    settled(page)

    for week in (1, 2):
        show_week(page, NEXT_MONDAY + dt.timedelta(weeks=week))
        for day in targets[2 * (week - 1):2 * week]:
            if dates.public_holiday(day):
                continue
            for hours in ("08:00 - 10:00", "15:00 - 17:00" if day.weekday() != 4
                          else "15:30 - 17:30"):
                expect(page.get_by_role("button", name=f"{cell_name(day, hours)}, CE CARCASSONNE",
                                        exact=True)).to_be_visible()


def test_export_edit_import_and_see_the_new_sessions(page, tmp_path):
    week = ordinary_week(dates.monday_of(TODAY) + dt.timedelta(weeks=3))
    tuesday, wednesday = week + dt.timedelta(days=1), week + dt.timedelta(days=2)
    login(page, "ber011@example.test")
    show_week(page, week)
    page.get_by_label("Période exportée").select_option("1")
    with page.expect_download() as info:
        page.get_by_role("button", name="Exporter les plannings").tap()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)

    # Edited as in a spreadsheet: two sessions added for DUMAS Anna, nothing removed.
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    already = sum(1 for r in range(4, sheet.max_row + 1) for c in range(4, sheet.max_column + 1, 2)
                  if sheet.cell(r, c).value)
    column = next(c for c in range(4, sheet.max_column + 1, 2)
                  if sheet.cell(2, c).value == "DUMAS Anna")
    rows = {(sheet.cell(r, 1).value.date(), sheet.cell(r, 3).value): r
            for r in range(4, sheet.max_row + 1)}
    for key, centre in (((tuesday, "M1"), "CARCASSONNE"), ((wednesday, "S1"), "NARBONNE")):
        sheet.cell(rows[key], column, "CE")
        sheet.cell(rows[key], column + 1, centre)
    workbook.save(path)

    page.get_by_role("link", name="Importer un planning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer un planning")
    page.get_by_label("Fichier du planning").set_input_files(path)
    page.get_by_role("button", name="Afficher l'aperçu").click()
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_have_text(f"2 session(s) à planifier, {already} déjà planifiée(s), "
                                 "0 refusée(s).")
    table = page.locator("#import-planned")
    for day, hours, session in ((tuesday, "08:00 - 10:00", "CE CARCASSONNE"),
                                (wednesday, "13:00 - 15:00", "CE NARBONNE")):
        row = (table.get_by_test_id("preview-line").filter(has_text="DUMAS Anna")
               .filter(has_text=dates.jour_date(day)).filter(has_text=hours))
        expect(row).to_have_count(1)
        expect(row).to_contain_text("DUMAS Anna")
        expect(row).to_contain_text(session)
        expect(row).to_contain_text("à planifier")
    expect(page.locator("#import-skipped").get_by_text("déjà planifiée", exact=True)
           ).to_have_count(already)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/import-preview.png", full_page=True)
    page.get_by_role("button", name="Importer 2 session(s)").click()
    expect(banner(page)).to_contain_text(f"2 session(s) importée(s) depuis « {path.name} » ; "
                                         f"{already} déjà planifiée(s), 0 refusée(s).")
    page.get_by_role("link", name="Voir les sessions importées sur le planning").click()
    expect(page.get_by_role("heading", name=f"Semaine du {dates.ddmmyyyy(week)}")).to_be_visible()
    expect(page.get_by_role("button", name=f"{cell_name(tuesday, '08:00 - 10:00')}, "
                            "CE CARCASSONNE", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=f"{cell_name(wednesday, '13:00 - 15:00')}, "
                            "CE NARBONNE", exact=True)).to_be_visible()


def test_a_file_that_is_no_planning_is_refused(page, tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_bytes(b"Date;Jour;Tranche\n")
    login(page, "ber011@example.test")
    page.goto("/ber/planification/import")
    page.get_by_label("Fichier du planning").set_input_files(path)
    page.get_by_role("button", name="Afficher l'aperçu").click()
    expect(banner(page)).to_contain_text("Fichier refusé")
    expect(banner(page)).to_contain_text("n'est pas un classeur .xlsx")
    expect(page.get_by_label("Fichier du planning")).to_be_visible()
