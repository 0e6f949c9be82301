"""BER 11 "Suivre l'activité": the department's figures for a period and a category, per
week, centre, inspector and school, and their .xlsx export.

Figures (per exam date, not per action date):
- sessions planned: the sessions that exist;
- units offered: their units offered to schools now (Dispo AE or reserved);
- reserved, left Dispo AE: their units in that state now;
- cancelled by the BER: history rows "unit.cancelled_by_ber" and "unit.cancelled" (a session
  deleted with its reserved units); cancelled by a school: rows "unit.cancelled_by_ae";
- demanded (per school only): the units the school asked for (AE 3, "Mes demandes") for the
  months the period touches (a demand is monthly: a period from 15/12 to 10/01 counts the
  demands of December and January, whole).
Each is a GROUP BY in SQL by exam day, centre, inspector (and school, state or action), or by
school for the demands: eight statements whatever the period; the days are folded into weeks
in Python, which keeps the SQL the same on SQLite and PostgreSQL. A unit whose session was
deleted no longer exists: its cancellation is found through the "session.deleted" row of its
session (inspector, centre, date and category as they were).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field, fields

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from . import dates
from .extensions import db
from .models import (
    AutoEcole,
    Category,
    Centre,
    History,
    Inspector,
    SchoolDemand,
    Session,
    Unit,
    UnitStatus,
)

BER_CANCELLATIONS = ("unit.cancelled_by_ber", "unit.cancelled")
AE_CANCELLATION = "unit.cancelled_by_ae"


@dataclass
class Figures:
    sessions: int = 0
    offered: int = 0
    reserved: int = 0
    dispo: int = 0
    cancelled_ber: int = 0
    cancelled_ae: int = 0
    demanded: int = 0  # per school only (AE 3 demands of the months of the period)

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


# Column titles, in the order of Figures (tables, charts and the export).
COLUMNS = ["Sessions planifiées", "Unités offertes", "Réservées", "Restées Dispo AE",
           "Annulées par le BER", "Annulées par une auto-école"]
SCHOOL_COLUMNS = ["Demandées", "Réservées", "Annulées par le BER",
                  "Annulées par l'auto-école"]
UNIT_FIELDS = ("sessions", "offered", "reserved", "dispo", "cancelled_ber", "cancelled_ae")


@dataclass
class Activity:
    first: dt.date
    last: dt.date
    category: str | None
    weeks: list[tuple[str, Figures]] = field(default_factory=list)
    centres: list[tuple[str, Figures]] = field(default_factory=list)
    inspectors: list[tuple[str, Figures]] = field(default_factory=list)
    schools: list[tuple[str, Figures]] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)
    # The months whose demands are counted (first days): the period's first and last months.
    first_month: dt.date | None = None
    last_month: dt.date | None = None


def _blank(keys) -> dict:
    return {k: Figures() for k in keys}


def activity(department_id: int, first: dt.date, last: dt.date,
             category: str | None = "CE") -> Activity:
    """The figures of ``department_id`` for exams from ``first`` to ``last`` (inclusive),
    of one category code (None: every category)."""
    centres = dict(db.session.execute(select(Centre.id, Centre.name).where(
        Centre.department_id == department_id).order_by(Centre.name)).all())
    centre_by_name = {name: i for i, name in centres.items()}
    inspectors = {i: f"{last_name.upper()} {first_name}" for i, last_name, first_name in
                  db.session.execute(select(Inspector.id, Inspector.last_name,
                                            Inspector.first_name)
                                     .where(Inspector.department_id == department_id)
                                     .order_by(Inspector.last_name, Inspector.first_name))}
    schools = dict(db.session.execute(select(AutoEcole.id, AutoEcole.raison_sociale).where(
        AutoEcole.department_id == department_id).order_by(AutoEcole.raison_sociale)).all())

    # One row per group: (exam day, centre id, inspector id, school id or None, what, count).
    rows: list[tuple] = []
    in_period = [Session.department_id == department_id, Session.date >= first,
                 Session.date <= last]
    if category:
        in_period.append(Category.code == category)

    for day, centre, inspector, count in db.session.execute(
            select(Session.date, Session.centre_id, Session.inspector_id, func.count())
            .join(Category, Category.id == Session.category_id)
            .where(*in_period)
            .group_by(Session.date, Session.centre_id, Session.inspector_id)):
        rows.append((day, centre, inspector, None, "sessions", count))

    for day, centre, inspector, school, status, count in db.session.execute(
            select(Session.date, Session.centre_id, Session.inspector_id, Unit.auto_ecole_id,
                   Unit.status, func.count())
            .select_from(Unit).join(Session, Session.id == Unit.session_id)
            .join(Category, Category.id == Session.category_id)
            .where(*in_period)
            .group_by(Session.date, Session.centre_id, Session.inspector_id,
                      Unit.auto_ecole_id, Unit.status)):
        rows.append((day, centre, inspector, school, status, count))

    # Cancellations of units that still exist (BER 5, AE 2): the school is in the snapshot.
    school_before = History.before["auto_ecole_id"].as_integer()
    for day, centre, inspector, school, action, count in db.session.execute(
            select(Session.date, Session.centre_id, Session.inspector_id, school_before,
                   History.action, func.count())
            .select_from(History)
            .join(Unit, and_(History.object_type == "unit", Unit.id == History.object_id))
            .join(Session, Session.id == Unit.session_id)
            .join(Category, Category.id == Session.category_id)
            .where(*in_period, History.action.in_(
                ("unit.cancelled_by_ber", AE_CANCELLATION)))
            .group_by(Session.date, Session.centre_id, Session.inspector_id, school_before,
                      History.action)):
        rows.append((day, centre, inspector, school, action, count))

    # Units cancelled with their deleted session: what the session was comes from its
    # "session.deleted" row.
    deleted = aliased(History)
    day_text = deleted.before["date"].as_string()
    conditions = [History.action == "unit.cancelled", History.department_id == department_id,
                  day_text >= first.isoformat(), day_text <= last.isoformat()]
    if category:
        conditions.append(deleted.before["category"].as_string() == category)
    # Each expression is built once and reused in GROUP BY: PostgreSQL matches a grouped
    # expression by its bound parameters too, so a second copy would not count as the same.
    centre_text = deleted.before["centre"].as_string()
    inspector_before = deleted.before["inspector_id"].as_integer()
    for day, centre_name, inspector, school, count in db.session.execute(
            select(day_text, centre_text, inspector_before, school_before, func.count())
            .select_from(History)
            .join(deleted, and_(
                deleted.object_type == "session", deleted.action == "session.deleted",
                deleted.object_id == History.before["session_id"].as_integer()))
            .where(*conditions)
            .group_by(day_text, centre_text, inspector_before, school_before)):
        rows.append((dt.date.fromisoformat(day), centre_by_name.get(centre_name), inspector,
                     school, "unit.cancelled", count))

    # What each school asked for (AE 3), for the months the period touches.
    first_month = first.replace(day=1)
    demand_conditions = [SchoolDemand.department_id == department_id,
                         SchoolDemand.month >= first_month, SchoolDemand.month <= last]
    if category:
        demand_conditions.append(Category.code == category)
    demanded = dict(db.session.execute(
        select(SchoolDemand.auto_ecole_id, func.sum(SchoolDemand.units))
        .join(Category, Category.id == SchoolDemand.category_id)
        .where(*demand_conditions)
        .group_by(SchoolDemand.auto_ecole_id)).all())

    result = _fold(first, last, category, rows, centres, inspectors, schools, demanded)
    result.first_month, result.last_month = first_month, last.replace(day=1)
    return result


def _figures(what: str, count: int) -> Figures:
    f = Figures()
    if what == "sessions":
        f.sessions = count
    elif what == UnitStatus.RESERVED:
        f.reserved = f.offered = count
    elif what == UnitStatus.DISPO:
        f.dispo = f.offered = count
    elif what in BER_CANCELLATIONS:
        f.cancelled_ber = count
    elif what == AE_CANCELLATION:
        f.cancelled_ae = count
    return f  # Indispo units are not offered: nothing


def _fold(first, last, category, rows, centres, inspectors, schools, demanded) -> Activity:
    mondays = []
    monday = dates.monday_of(first)
    while monday <= last:
        mondays.append(monday)
        monday += dt.timedelta(weeks=1)
    by_week = _blank(mondays)
    by_centre = _blank(centres)
    by_inspector = _blank(inspectors)
    by_school = _blank(schools)
    total = Figures()
    for day, centre, inspector, school, what, count in rows:
        f = _figures(what, count)
        by_week[dates.monday_of(day)].add(f)
        for table, key in ((by_centre, centre), (by_inspector, inspector)):
            if key in table:
                table[key].add(f)
        if school in by_school and what != "sessions":
            by_school[school].add(f)
        total.add(f)
    for school, units in demanded.items():
        if school in by_school:
            by_school[school].demanded += int(units or 0)
            total.demanded += int(units or 0)
    result = Activity(first, last, category, total=total)
    result.weeks = [(f"Semaine du {dates.ddmmyyyy(m)}", by_week[m]) for m in mondays]
    result.centres = [(name, by_centre[i]) for i, name in centres.items()]
    result.inspectors = [(name, by_inspector[i]) for i, name in inspectors.items()
                         if by_inspector[i].any()]
    result.schools = [(name, by_school[i]) for i, name in schools.items() if by_school[i].any()]
    return result


def school_values(f: Figures) -> list[int]:
    return [f.demanded, f.reserved, f.cancelled_ber, f.cancelled_ae]


def values(f: Figures) -> list[int]:
    return [getattr(f, name) for name in UNIT_FIELDS]


def activity_xlsx(a: Activity, department: str) -> bytes:
    """The four tables of the page as the sheets of one workbook."""
    book = Workbook()
    book.remove(book.active)
    title = (f"Activité PL {department} du {dates.ddmmyyyy(a.first)} au "
             f"{dates.ddmmyyyy(a.last)} — catégorie {a.category or 'toutes'}")
    sheets = [("Semaines", "Semaine", COLUMNS, a.weeks, values),
              ("Centres", "Centre", COLUMNS, a.centres, values),
              ("Inspecteurs", "Inspecteur", COLUMNS, a.inspectors, values),
              ("Auto-écoles", "Auto-école", SCHOOL_COLUMNS, a.schools, school_values)]
    for name, first_column, columns, table, read in sheets:
        sheet = book.create_sheet(name)
        sheet.append([title])
        sheet.append([first_column, *columns])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for label, f in table:
            sheet.append([label, *read(f)])
        sheet.column_dimensions["A"].width = 32
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

