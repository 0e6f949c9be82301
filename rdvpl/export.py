"""The planning export (BER 3): its data (``export_table``, plain rows read from the database)
and the writer of the .xlsx bytes (``planning_xlsx``, openpyxl only), in the guide's shape (p.13).

Row 1: each inspector's home centre, merged over that inspector's two columns; row 2: "NOM
Prénom", merged likewise; row 3: "Date | Jour | Tranche | Cat | Centre | Cat | Centre ..."; then
one row per day (Monday-Saturday) and tranche. No request here: the route passes the filters.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import dates, scopes
from .errors import DomainError
from .extensions import db
from .models import Session, Tranche, User
from .names import matches, name_key

# --- the data ---------------------------------------------------------------------------------

EXPORT_MAX_WEEKS = 12


@dataclass
class ExportTable:
    """Plain data of the export: one column pair per inspector, one row per day and tranche."""

    first_day: dt.date
    last_day: dt.date
    inspectors: list[tuple[str, str]]  # (home centre, 'NOM Prénom')
    # (date, 'ven.', 'M1', one (category, centre) or None per inspector)
    rows: list[tuple[dt.date, str, str, list[tuple[str, str] | None]]]


def export_table(
    actor: User,
    start: dt.date,
    weeks: int = 6,
    *,
    search: str | None = None,
    category_code: str | None = None,
) -> ExportTable:
    """The planning of the agent's department from the Monday of ``start`` for ``weeks`` weeks
    (Monday to Saturday, tranches M1 M2 S1 S2), for the inspectors matching ``search``, sorted
    by name as in the guide; only sessions of ``category_code`` when given."""
    if not 1 <= weeks <= EXPORT_MAX_WEEKS:
        raise DomainError(f"La période exportée doit compter de 1 à {EXPORT_MAX_WEEKS} semaines.")
    monday = dates.monday_of(start)
    days = [d for w in range(weeks) for d in dates.week_days(monday + dt.timedelta(weeks=w))]
    inspectors = sorted((i for i in scopes.department_inspectors(actor.department_id)
                         if matches(i, search)), key=name_key)
    sessions = {
        (s.inspector_id, s.date, s.tranche): s
        for s in _sessions(actor.department_id, days[0], days[-1])
        if category_code is None or s.category.code == category_code
    }
    rows = []
    for day in days:
        for tranche in Tranche:
            planned = []
            for inspector in inspectors:
                s = sessions.get((inspector.id, day, tranche.value))
                planned.append((s.category.code, s.centre.name) if s else None)
            rows.append((day, dates.jour_court(day), tranche.value, planned))
    return ExportTable(
        first_day=days[0], last_day=days[-1],
        inspectors=[(i.home_centre.name, i.nom_prenom) for i in inspectors],
        rows=rows,
    )


def _sessions(department_id: int, first: dt.date, last: dt.date) -> list[Session]:
    return list(db.session.scalars(
        select(Session)
        .options(joinedload(Session.centre), joinedload(Session.category))
        .where(Session.department_id == department_id, Session.date.between(first, last))
    ))


# --- the workbook -----------------------------------------------------------------------------

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
