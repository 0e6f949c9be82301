"""The planning export (BER 3), read back with openpyxl: the guide's shape (p.13)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from rdvpl import dates
from rdvpl.export import ExportTable, planning_xlsx

FRIDAY = dt.date(2022, 2, 11)


def guide_table() -> ExportTable:
    """The guide's example: three inspectors, DUMAS Anna planned on Friday 11/02/2022."""
    monday = dt.date(2022, 2, 7)
    rows = []
    for day in dates.week_days(monday):
        for tranche in ("M1", "M2", "S1", "S2"):
            planned = [None, None, ("CE", "CARCASSONNE") if day == FRIDAY else None]
            rows.append((day, dates.jour_court(day), tranche, planned))
    return ExportTable(
        first_day=monday, last_day=monday + dt.timedelta(days=5),
        inspectors=[("LUCHAPT DU 011", "ARNAUD Agathe"), ("NARBONNE", "BARBET Anaïs"),
                    ("CARCASSONNE", "DUMAS Anna")],
        rows=rows,
    )


def read(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_headers_are_the_guides():
    sheet = read(planning_xlsx(guide_table()))
    assert [sheet.cell(1, c).value for c in range(1, 10)] == [
        None, None, None, "LUCHAPT DU 011", None, "NARBONNE", None, "CARCASSONNE", None]
    assert [sheet.cell(2, c).value for c in range(1, 10)] == [
        None, None, None, "ARNAUD Agathe", None, "BARBET Anaïs", None, "DUMAS Anna", None]
    assert [sheet.cell(3, c).value for c in range(1, 10)] == [
        "Date", "Jour", "Tranche", "Cat", "Centre", "Cat", "Centre", "Cat", "Centre"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert merged == {"D1:E1", "F1:G1", "H1:I1", "D2:E2", "F2:G2", "H2:I2"}
    assert sheet.max_column == 9


def test_one_row_per_day_and_tranche():
    sheet = read(planning_xlsx(guide_table()))
    assert sheet.max_row == 3 + 6 * 4
    first = [sheet.cell(4, c).value for c in range(1, 4)]
    assert first == [dt.datetime(2022, 2, 7), "lun.", "M1"]
    assert sheet["A4"].number_format == "DD/MM/YYYY"  # shown 07/02/2022
    assert [sheet.cell(r, 3).value for r in range(4, 12)] == ["M1", "M2", "S1", "S2"] * 2
    assert [sheet.cell(r, 2).value for r in range(4, 28, 4)] == [
        "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."]
    # "11/02/2022 | ven. | M1 | CE | CARCASSONNE" (row 20 in the guide)
    row = [sheet.cell(20, c).value for c in range(1, 10)]
    assert row == [dt.datetime(2022, 2, 11), "ven.", "M1", None, None, None, None, "CE",
                   "CARCASSONNE"]
    assert [sheet.cell(r, 8).value for r in range(20, 24)] == ["CE"] * 4
    assert sheet.cell(19, 8).value is None and sheet.cell(24, 8).value is None


def test_no_inspector_still_gives_the_date_columns():
    table = guide_table()
    table.inspectors = []
    table.rows = [(d, j, t, []) for d, j, t, _ in table.rows]
    sheet = read(planning_xlsx(table))
    assert [sheet.cell(3, c).value for c in range(1, 4)] == ["Date", "Jour", "Tranche"]
    assert sheet.max_row == 27


def test_export_route_reads_back_with_the_demo_planning(demo, client, auth):
    auth.login("ber011@example.test")
    next_monday = dates.monday_of(dates.today()) + dt.timedelta(weeks=1)
    response = client.get(f"/ber/planification/export?date={dates.ddmmyyyy(next_monday)}")
    assert response.status_code == 200
    sheet = read(response.data)
    names = [sheet.cell(2, c).value for c in range(4, sheet.max_column + 1, 2)]
    assert names == ["ARNAUD Agathe", "BARBET Anaïs", "DUMAS Anna", "GONZALEZ Grégory",
                     "KLÉBER Thierry", "MARAIS Pierrette", "MONTEIL Marie"]
    assert sheet.cell(1, 8).value == "CARCASSONNE"  # DUMAS Anna's home centre
    assert sheet.max_row == 3 + 6 * 6 * 4  # six weeks by default
    friday = next_monday + dt.timedelta(days=4)
    row = 4 + 4 * 4  # Friday M1 of the first week
    assert sheet.cell(row, 1).value.date() == friday
    assert [sheet.cell(row, c).value for c in (2, 3, 8, 9)] == ["ven.", "M1", "CE", "CARCASSONNE"]
    assert "LEROY Paul" not in names


def test_export_route_follows_the_name_search(demo, client, auth):
    auth.login("ber011@example.test")
    response = client.get("/ber/planification/export?nom=dumas&semaines=1")
    sheet = read(response.data)
    assert sheet.cell(2, 4).value == "DUMAS Anna" and sheet.max_column == 5
    assert sheet.max_row == 3 + 24


def test_export_of_034_has_none_of_011(demo, client, auth):
    auth.login("ber034@example.test")
    sheet = read(client.get("/ber/planification/export").data)
    names = [sheet.cell(2, c).value for c in range(4, sheet.max_column + 1, 2)]
    assert names == ["FABRE Claire", "LEROY Paul"]
