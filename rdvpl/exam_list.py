"""BER 12 "Consulter les examens" and its "Feuille du jour" (read models).

The list: every reserved unit of the department in a period, filtered by centre, inspector
and school, grouped by day then inspector, PAGE_SIZE units a page (two statements: a count
and the page's rows, whatever the period). The day sheet: one inspector's sessions of one day
with every unit, the school of each reserved one and its candidate when the school named one
(what the exam centre prints)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import groupby

from sqlalchemy import and_, func, select

from . import dates
from .errors import NotFound
from .extensions import db
from .models import AutoEcole, Candidate, Category, Centre, Inspector, Session, Unit, UnitStatus
from .names import hours_label
from .referentiels import as_id

PAGE_SIZE = 100
DEFAULT_WEEKS = 6


@dataclass
class ExamRow:
    unit_id: int
    start: dt.time
    end: dt.time
    hours: str
    centre: str
    category: str
    school: str
    candidate: str = ""  # "DUPONT Jean — NEPH 123456789012", when the school named one


def candidate_words(last: str | None, first: str | None, neph: str | None) -> str:
    """What the list and the day sheet print of a candidate ('' when none is named)."""
    return f"{last.upper()} {first} — NEPH {neph}" if last else ""


# A unit's candidate, while the unit is reserved for the school that named it (AE 5).
_CANDIDATE_JOIN = and_(Candidate.unit_id == Unit.id, Candidate.auto_ecole_id == Unit.auto_ecole_id)


@dataclass
class InspectorExams:
    inspector_id: int
    name: str  # "DUMAS Anna"
    matricule: str
    rows: list[ExamRow]


@dataclass
class ExamDay:
    day: dt.date
    label: str  # "Jeudi 17/02/2022"
    inspectors: list[InspectorExams]


@dataclass
class ExamPage:
    days: list[ExamDay]
    total: int
    page: int
    pages: int


@dataclass
class Filters:
    first: dt.date
    last: dt.date
    centre_id: int | None = None
    inspector_id: int | None = None
    school_id: int | None = None
    page: int = 1


def exams(department_id: int, f: Filters, *, size: int = PAGE_SIZE) -> ExamPage:
    """The page ``f.page`` of the reserved units matching ``f``, by day, inspector, hour."""
    conditions = [Session.department_id == department_id, Session.date >= f.first,
                  Session.date <= f.last, Unit.status == UnitStatus.RESERVED]
    if f.centre_id is not None:
        conditions.append(Session.centre_id == f.centre_id)
    if f.inspector_id is not None:
        conditions.append(Session.inspector_id == f.inspector_id)
    if f.school_id is not None:
        conditions.append(Unit.auto_ecole_id == f.school_id)
    total = db.session.scalar(
        select(func.count()).select_from(Unit).join(Session, Session.id == Unit.session_id)
        .where(*conditions))
    pages = max(1, -(-total // size))
    page = min(max(f.page, 1), pages)
    rows = db.session.execute(
        select(Session.date, Inspector.id, Inspector.last_name, Inspector.first_name,
               Inspector.matricule, Unit.id, Unit.start_time, Unit.end_time, Centre.name,
               Category.code, AutoEcole.raison_sociale, Candidate.last_name,
               Candidate.first_name, Candidate.neph)
        .select_from(Unit)
        .join(Session, Session.id == Unit.session_id)
        .join(Inspector, Inspector.id == Session.inspector_id)
        .join(Centre, Centre.id == Session.centre_id)
        .join(Category, Category.id == Session.category_id)
        .join(AutoEcole, AutoEcole.id == Unit.auto_ecole_id)
        .outerjoin(Candidate, _CANDIDATE_JOIN)
        .where(*conditions)
        .order_by(Session.date, Inspector.last_name, Inspector.first_name, Inspector.id,
                  Unit.start_time)
        .offset((page - 1) * size).limit(size)).all()
    days = []
    for day, of_day in groupby(rows, key=lambda r: r[0]):
        inspectors = []
        for (inspector_id, last, first, matricule), units in groupby(
                of_day, key=lambda r: (r[1], r[2], r[3], r[4])):
            inspectors.append(InspectorExams(inspector_id, f"{last.upper()} {first}", matricule, [
                ExamRow(r[5], r[6], r[7], hours_label(r[6], r[7]), r[8], r[9], r[10],
                        candidate_words(r[11], r[12], r[13]))
                for r in units]))
        days.append(ExamDay(day, dates.jour_date_cap(day), inspectors))
    return ExamPage(days, total, page, pages)


@dataclass
class SheetUnit:
    hours: str
    state: str  # the school's name, "Dispo AE" or "Indispo"
    reserved: bool
    candidate: str = ""  # "DUPONT Jean — NEPH 123456789012", when the school named one


@dataclass
class SheetSession:
    hours: str
    centre: str
    category: str
    units: list[SheetUnit] = field(default_factory=list)


@dataclass
class DaySheet:
    inspector: Inspector
    day: dt.date
    label: str
    sessions: list[SheetSession]

    @property
    def reserved(self) -> int:
        return sum(u.reserved for s in self.sessions for u in s.units)


def day_sheet(department_id: int, inspector_id, day: dt.date) -> DaySheet:
    """One inspector's day: its sessions in order, each with every unit (two statements)."""
    inspector = db.session.get(Inspector, inspector_id) if as_id(inspector_id) else None
    if inspector is None or inspector.department_id != department_id:
        raise NotFound("Inspecteur introuvable.")
    rows = db.session.execute(
        select(Session.id, Session.start_time, Session.end_time, Centre.name, Category.code,
               Unit.start_time, Unit.end_time, Unit.status, AutoEcole.raison_sociale,
               Candidate.last_name, Candidate.first_name, Candidate.neph)
        .select_from(Session)
        .join(Centre, Centre.id == Session.centre_id)
        .join(Category, Category.id == Session.category_id)
        .join(Unit, Unit.session_id == Session.id)
        .outerjoin(AutoEcole, AutoEcole.id == Unit.auto_ecole_id)
        .outerjoin(Candidate, _CANDIDATE_JOIN)
        .where(Session.inspector_id == inspector.id, Session.date == day)
        .order_by(Session.start_time, Unit.start_time)).all()
    sessions = []
    for _, units in groupby(rows, key=lambda r: r[0]):
        units = list(units)
        first = units[0]
        session = SheetSession(hours_label(first[1], first[2]), first[3], first[4])
        for r in units:
            reserved = r[7] == UnitStatus.RESERVED
            state = r[8] if reserved else ("Dispo AE" if r[7] == UnitStatus.DISPO else "Indispo")
            session.units.append(SheetUnit(hours_label(r[5], r[6]), state, reserved,
                                           candidate_words(r[9], r[10], r[11])))
        sessions.append(session)
    return DaySheet(inspector, day, dates.jour_date_cap(day), sessions)


def filter_choices(department_id: int) -> dict:
    """The lists of the filters: every centre, inspector and school of the department,
    inactive ones included (the list also shows past exams)."""
    return {
        "centres": db.session.execute(select(Centre.id, Centre.name).where(
            Centre.department_id == department_id).order_by(Centre.name)).all(),
        "inspectors": [(i, f"{last.upper()} {first}") for i, last, first in db.session.execute(
            select(Inspector.id, Inspector.last_name, Inspector.first_name).where(
                Inspector.department_id == department_id).order_by(
                Inspector.last_name, Inspector.first_name))],
        "schools": db.session.execute(select(AutoEcole.id, AutoEcole.raison_sociale).where(
            AutoEcole.department_id == department_id).order_by(AutoEcole.raison_sociale)).all(),
    }
