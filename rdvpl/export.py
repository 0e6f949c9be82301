"""The planning export (BER 3): plain data -> .xlsx bytes, in the guide's shape (p.13).

Row 1: each inspector's home centre, merged over that inspector's two columns; row 2: "NOM
Prénom", merged likewise; row 3: "Date | Jour | Tranche | Cat | Centre | Cat | Centre ..."; then
one row per day (Monday-Saturday) and tranche. No Flask here: rdvpl/planning.py gathers the data.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

if TYPE_CHECKING:
    from .planning import ExportTable

FIRST_INSPECTOR_COLUMN = 4  # D: after Date, Jour, Tranche
HEADER_ROWS = 3
_BOLD = Font(bold=True)
_CENTRED = Alignment(horizontal="center", vertical="center")
_HEADER_FILL = PatternFill("solid", fgColor="E3E3FD")
_THIN = Side(style="thin", color="929292")
_DAY_TOP = Border(top=_THIN)


def planning_xlsx(table: ExportTable, *, title: str = "Plannings") -> bytes:
    """The workbook's bytes (one sheet), readable by Excel and LibreOffice."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]

    for i, (centre, name) in enumerate(table.inspectors):
        column = FIRST_INSPECTOR_COLUMN + 2 * i
        for row, value in ((1, centre), (2, name)):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.font, cell.alignment = _BOLD, _CENTRED
            sheet.merge_cells(start_row=row, start_column=column, end_row=row,
                              end_column=column + 1)
    headings = ["Date", "Jour", "Tranche"] + ["Cat", "Centre"] * len(table.inspectors)
    for column, value in enumerate(headings, start=1):
        cell = sheet.cell(row=HEADER_ROWS, column=column, value=value)
        cell.font, cell.fill = _BOLD, _HEADER_FILL

    previous_day = None
    for r, (day, weekday, tranche, planned) in enumerate(table.rows, start=HEADER_ROWS + 1):
        date_cell = sheet.cell(row=r, column=1, value=day)
        date_cell.number_format = "DD/MM/YYYY"
        sheet.cell(row=r, column=2, value=weekday)
        sheet.cell(row=r, column=3, value=tranche)
        for i, session in enumerate(planned):
            if session is not None:
                category, centre = session
                sheet.cell(row=r, column=FIRST_INSPECTOR_COLUMN + 2 * i, value=category)
                sheet.cell(row=r, column=FIRST_INSPECTOR_COLUMN + 2 * i + 1, value=centre)
        if previous_day is not None and day != previous_day:
            for column in range(1, len(headings) + 1):
                sheet.cell(row=r, column=column).border = _DAY_TOP
        previous_day = day

    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 7
    sheet.column_dimensions["C"].width = 8
    for i in range(len(table.inspectors)):
        column = FIRST_INSPECTOR_COLUMN + 2 * i
        sheet.column_dimensions[get_column_letter(column)].width = 7
        sheet.column_dimensions[get_column_letter(column + 1)].width = 18
    sheet.freeze_panes = sheet.cell(row=HEADER_ROWS + 1, column=FIRST_INSPECTOR_COLUMN)

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
