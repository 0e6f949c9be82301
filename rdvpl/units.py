"""Read side of "Gérer les créneaux" (BER 4-5): the week grid of units, the summary of
unassigned units, the selection panel, the school search and a unit's history.

Domain reads only: no request, no templates. Every query is scoped by the BER's department,
and the grid uses a fixed number of SQL statements whatever the number of inspectors.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from itertools import groupby

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from . import dates
from .errors import NotFound
from .extensions import db
from .models import AutoEcole, Category, History, Inspector, Session, Unit, UnitStatus, User

# The guide's "Catégorie de permis" filter on this screen. "A" covers "A HC" and "A CIR".
CATEGORY_FILTERS = ("A", "B", "CE", "Tous")
ALL_CATEGORIES = "Tous"

UNIT_NOT_FOUND = "Unité introuvable : elle n'existe pas ou n'appartient pas à votre département."
INSPECTOR_NOT_FOUND = (
    "Inspecteur introuvable : il n'existe pas ou n'appartient pas à votre département."
)


def paris_wall_clock(now: dt.datetime | None = None) -> dt.datetime:
    """``now`` (aware, default: the current instant) as a naive Paris wall-clock datetime.
    A naive ``now`` is taken as already on the Paris wall clock."""
    now = now or dates.now()
    if now.tzinfo is not None:
        now = now.astimezone(dates.PARIS).replace(tzinfo=None)
    return now


def has_started(day: dt.date, start: dt.time, now: dt.datetime | None = None) -> bool:
    """True once a unit of ``day`` starting at ``start`` has begun (Paris): it is "past"."""
    return dt.datetime.combine(day, start) <= paris_wall_clock(now)


def _category_clause(category: str | None):
    if not category or category == ALL_CATEGORIES:
        return None
    return or_(Category.code == category, Category.code.like(f"{category} %"))


@dataclass
class InspectorWeek:
    """One inspector's row of the week grid: the sessions of each day, Monday to Saturday."""

    inspector: Inspector
    days: list[tuple[dt.date, list[Session]]] = field(default_factory=list)


def week_grid(
    department_id: int,
    monday: dt.date,
    *,
    inspector_id: int | None = None,
    category: str | None = None,
) -> list[InspectorWeek]:
    """The sessions (with their units and schools) of the week, grouped by inspector.

    Inspectors without a session that week are left out, except the one explicitly filtered
    on. Two SQL statements (plus one for an explicit inspector), whatever the number of
    inspectors, sessions and units.
    """
    days = dates.week_days(monday)
    query = (
        select(Session)
        .join(Session.inspector)
        .join(Session.category)
        .where(Session.department_id == department_id, Session.date.between(days[0], days[-1]))
        .options(
            contains_eager(Session.inspector),
            contains_eager(Session.category),
            joinedload(Session.centre),
            selectinload(Session.units).joinedload(Unit.auto_ecole),
        )
        .order_by(Inspector.last_name, Inspector.first_name, Inspector.id, Session.date,
                  Session.start_time)
    )
    if inspector_id is not None:
        query = query.where(Session.inspector_id == inspector_id)
    clause = _category_clause(category)
    if clause is not None:
        query = query.where(clause)
    sessions = db.session.scalars(query).unique().all()

    rows = []
    for _, group in groupby(sessions, key=lambda s: s.inspector_id):
        group = list(group)
        by_day = {d: [s for s in group if s.date == d] for d in days}
        rows.append(InspectorWeek(group[0].inspector, list(by_day.items())))
    if not rows and inspector_id is not None:
        inspector = db.session.get(Inspector, inspector_id)
        if inspector is not None and inspector.department_id == department_id:
            rows.append(InspectorWeek(inspector, [(d, []) for d in days]))
    return rows


def department_inspectors(department_id: int) -> list[Inspector]:
    """The department's inspectors, for the "Inspecteur" filter."""
    return db.session.scalars(
        select(Inspector).where(Inspector.department_id == department_id)
        .order_by(Inspector.last_name, Inspector.first_name)
    ).all()


def scoped_inspector(department_id: int, inspector_id: int) -> Inspector:
    """The inspector, if of the department; NotFound otherwise."""
    inspector = db.session.get(Inspector, inspector_id)
    if inspector is None or inspector.department_id != department_id:
        raise NotFound(INSPECTOR_NOT_FOUND)
    return inspector


@dataclass
class SummaryLine:
    count: int
    category: str
    inspector: Inspector


@dataclass
class Summary:
    """ "44 unité(s) CE non attribuée(s) sur l'ensemble des inspecteurs cette semaine"."""

    totals: list[tuple[str, int]]  # (category, count), in the categories' order
    lines: list[SummaryLine]  # one per inspector and category, most units first

    @property
    def total(self) -> int:
        return sum(count for _, count in self.totals)


def unassigned_summary(
    department_id: int,
    monday: dt.date,
    *,
    category: str | None = None,
    now: dt.datetime | None = None,
) -> Summary:
    """Dispo AE units of the week not yet started, per inspector and category (all inspectors
    of the department, whatever the inspector filter). One SQL statement."""
    days = dates.week_days(monday)
    wall = paris_wall_clock(now)
    query = (
        select(Inspector, Category.code, Category.position, func.count(Unit.id))
        .select_from(Unit)
        .join(Unit.session)
        .join(Session.inspector)
        .join(Session.category)
        .where(
            Session.department_id == department_id,
            Session.date.between(days[0], days[-1]),
            Unit.status == UnitStatus.DISPO,
            or_(Session.date > wall.date(),
                and_(Session.date == wall.date(), Unit.start_time > wall.time())),
        )
        .group_by(Inspector.id, Category.code, Category.position)
    )
    clause = _category_clause(category)
    if clause is not None:
        query = query.where(clause)
    rows = db.session.execute(query).all()
    totals: dict[tuple[int, str], int] = {}
    for _, code, position, count in rows:
        totals[(position, code)] = totals.get((position, code), 0) + count
    lines = [SummaryLine(count, code, inspector) for inspector, code, _, count in rows]
    lines.sort(key=lambda line: (-line.count, line.inspector.last_name,
                                 line.inspector.first_name, line.category))
    return Summary([(code, n) for (_, code), n in sorted(totals.items())], lines)


def scoped_units(department_id: int, unit_ids) -> list[Unit]:
    """The units (with session, inspector, centre, category, school), sorted by date and hour;
    NotFound if any id is unknown or of another department."""
    ids = set(unit_ids)
    if not ids:
        return []
    units = db.session.scalars(
        select(Unit).join(Unit.session)
        .where(Unit.id.in_(ids), Session.department_id == department_id)
        .options(
            contains_eager(Unit.session).options(
                joinedload(Session.inspector), joinedload(Session.centre),
                joinedload(Session.category),
            ),
            joinedload(Unit.auto_ecole),
        )
        .order_by(Session.date, Unit.start_time, Session.inspector_id)
        .execution_options(populate_existing=True)
    ).unique().all()
    if len(units) != len(ids):
        raise NotFound(UNIT_NOT_FOUND)
    return units


def scoped_unit(department_id: int, unit_id: int) -> Unit:
    """One unit of the department, or NotFound."""
    return scoped_units(department_id, [unit_id])[0]


def selection_by_day(units: list[Unit]) -> list[tuple[dt.date, list[Unit]]]:
    """The selected units grouped by day, as in the panel "Unité(s) en cours d'attribution"."""
    return [(day, list(group)) for day, group in groupby(units, key=lambda u: u.session.date)]


def _fold(text: str) -> str:
    """Lower case without accents: "Auto-École" and "auto-ecole" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def search_schools(department_id: int, text: str | None, *, limit: int = 8) -> list[AutoEcole]:
    """The department's schools whose raison sociale or ID Aurige contains ``text``, ignoring
    case and accents. A department has a few dozen schools: they are compared in Python, the
    same way on SQLite and PostgreSQL."""
    needle = _fold(text).strip()
    if not needle:
        return []
    schools = db.session.scalars(
        select(AutoEcole).where(AutoEcole.department_id == department_id)
        .order_by(AutoEcole.raison_sociale)
    ).all()
    found = [s for s in schools
             if needle in _fold(s.raison_sociale) or needle in _fold(s.aurige_id)]
    # Names starting with the text first, then the rest, each alphabetically.
    found.sort(key=lambda s: (not _fold(s.raison_sociale).startswith(needle),
                              _fold(s.raison_sociale)))
    return found[:limit]


def scoped_school(department_id: int, school_id: int | None) -> AutoEcole:
    """A school of the department, or NotFound."""
    school = db.session.get(AutoEcole, school_id) if isinstance(school_id, int) else None
    if school is None or school.department_id != department_id:
        raise NotFound(
            "Auto-école introuvable : elle n'existe pas ou n'est pas rattachée à votre département."
        )
    return school


@dataclass
class UnitEvent:
    """One line of a unit's history, ready to be worded by the template."""

    at: dt.datetime  # Paris wall clock
    actor: User | None
    kind: str  # "reserved", "cancelled", "status"
    school: str | None  # the school reserved for / whose exam was cancelled
    status: str | None  # the status after the action


def unit_history(unit_id: int) -> list[UnitEvent]:
    """Who reserved, cancelled or changed the unit, and when (oldest first). Worded from each
    row's before/after, so that rows written by every flow (BER, AE) read the same."""
    rows = db.session.scalars(
        select(History).where(History.object_type == "unit", History.object_id == unit_id)
        .options(joinedload(History.actor).joinedload(User.auto_ecole))
        .order_by(History.at, History.id)
    ).all()
    events = []
    for row in rows:
        before, after = row.before or {}, row.after or {}
        status = after.get("status")
        if status == UnitStatus.RESERVED:
            kind, school = "reserved", after.get("auto_ecole")
        elif before.get("status") == UnitStatus.RESERVED:
            kind, school = "cancelled", before.get("auto_ecole")
        elif status:
            kind, school = "status", None
        else:
            continue
        at = row.at.replace(tzinfo=dt.UTC).astimezone(dates.PARIS).replace(tzinfo=None)
        events.append(UnitEvent(at, row.actor, kind, school, status))
    return events
