"""Planning of exam sessions (BER 1-3): tranche hours, units, the week grid, plan and delete
sessions, the export's data (domain: no request, no templates)."""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from . import dates, scopes
from .errors import Conflict, DomainError, NotFound
from .extensions import db
from .history import record, snapshot_session, snapshot_unit
from .models import (
    UNIT_MINUTES,
    AutoEcole,
    Category,
    Centre,
    FavouriteInspector,
    Inspector,
    Session,
    Tranche,
    Unit,
    UnitStatus,
    User,
    WorkedSaturday,
    as_id,
)
from .notify import queue_mail

_T = dt.time

# The usual hours of each tranche; the guide shows Friday afternoons shifted by 30 minutes.
DEFAULT_HOURS: dict[Tranche, tuple[dt.time, dt.time]] = {
    Tranche.M1: (_T(8, 0), _T(10, 0)),
    Tranche.M2: (_T(10, 0), _T(12, 0)),
    Tranche.S1: (_T(13, 0), _T(15, 0)),
    Tranche.S2: (_T(15, 0), _T(17, 0)),
}
FRIDAY_HOURS: dict[Tranche, tuple[dt.time, dt.time]] = {
    **DEFAULT_HOURS,
    Tranche.S1: (_T(13, 30), _T(15, 30)),
    Tranche.S2: (_T(15, 30), _T(17, 30)),
}


def tranche_hours(day: dt.date, tranche: Tranche | str) -> tuple[dt.time, dt.time]:
    """Start and end of ``tranche`` on ``day`` (Europe/Paris wall clock)."""
    table = FRIDAY_HOURS if day.weekday() == 4 else DEFAULT_HOURS
    return table[Tranche(tranche)]


def unit_slots(start: dt.time, end: dt.time) -> list[tuple[dt.time, dt.time]]:
    """The 30-minute units between ``start`` and ``end``."""
    slots = []
    anchor = dt.datetime.combine(dt.date.min, start)
    stop = dt.datetime.combine(dt.date.min, end)
    step = dt.timedelta(minutes=UNIT_MINUTES)
    while anchor + step <= stop:
        slots.append((anchor.time(), (anchor + step).time()))
        anchor += step
    return slots


def build_units(session: Session, status: UnitStatus = UnitStatus.DISPO) -> list[Unit]:
    """Attach the session's 30-minute units (Dispo AE by default) to it."""
    units = [
        Unit(start_time=start, end_time=end, status=status)
        for start, end in unit_slots(session.start_time, session.end_time)
    ]
    session.units.extend(units)
    return units


# ---------------------------------------------------------------------------------------------
# Names, cells and search
# ---------------------------------------------------------------------------------------------


def hours_label(start: dt.time, end: dt.time) -> str:
    """'08:00 - 10:00', as written in each grid cell."""
    return f"{start:%H:%M} - {end:%H:%M}"


def cell_name(inspector: Inspector, day: dt.date, start: dt.time, end: dt.time) -> str:
    """A cell's accessible name and how messages name it: 'DUMAS Anna, vendredi 11/02/2022,
    08:00 - 10:00' (SPEC "Named controls")."""
    return f"{inspector.nom_prenom}, {dates.jour_date(day)}, {hours_label(start, end)}"


def name_capitalised(inspector: Inspector) -> str:
    """'Monteil Marie', as the guide's deletion banner writes the inspector."""
    return f"{inspector.last_name.title()} {inspector.first_name}"


def fold(text: str | None) -> str:
    """Lower-case, accent-free, single-spaced text, to search names as people type them."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def matches(inspector: Inspector, search: str | None) -> bool:
    """Every word typed appears in the inspector's name ('dumas anna', 'Kleber', 'ANNA')."""
    haystack = fold(f"{inspector.last_name} {inspector.first_name}")
    return all(word in haystack for word in fold(search).split())


def name_key(inspector: Inspector) -> tuple[str, str]:
    return fold(inspector.last_name), fold(inspector.first_name)


class CellRef(NamedTuple):
    """One (inspector, date, tranche) a BER agent selected; form value '12|2022-02-11|M1'.
    A plain tuple ``(inspector_id, date, "M1")`` is accepted wherever a CellRef is."""

    inspector_id: int
    day: dt.date
    tranche: Tranche

    @property
    def key(self) -> str:
        return f"{self.inspector_id}|{self.day.isoformat()}|{self.tranche}"

    @classmethod
    def parse(cls, text: str | None) -> CellRef | None:
        """None for anything that is not a well-formed cell value (tampered form field), an
        inspector id the database cannot hold included. Any day parses: plan_sessions says
        why a day long past or beyond the horizon cannot be planned."""
        try:
            inspector, day, tranche = (text or "").split("|")
            ref = cls(as_id(inspector), dt.date.fromisoformat(day), Tranche(tranche))
        except ValueError:
            return None
        return ref if ref.inspector_id is not None else None

    @classmethod
    def of(cls, value) -> CellRef:
        """A CellRef from a CellRef or a plain (inspector_id, date, tranche) tuple."""
        try:
            inspector_id, day, tranche = value
            if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                raise ValueError(day)
            inspector_id = as_id(inspector_id)
            if inspector_id is None:
                raise ValueError(inspector_id)
            return cls(inspector_id, day, Tranche(tranche))
        except (TypeError, ValueError):
            raise DomainError("La sélection envoyée est invalide. Rechargez la page puis "
                              "recommencez.") from None


def planning_options(actor: User) -> tuple[list[Centre], list[Category]]:
    """The centres of the agent's department and the heavy categories, for the filters."""
    categories = db.session.scalars(
        select(Category).where(Category.heavy.is_(True)).order_by(Category.position)
    ).all()
    return scopes.department_centres(actor.department_id), list(categories)


# ---------------------------------------------------------------------------------------------
# The week grid (BER 1): one grid per inspector, rows M1 M2 S1 S2, columns Monday-Saturday
# ---------------------------------------------------------------------------------------------


class CellState(enum.StrEnum):
    FREE = "free"  # selectable
    PLANNED = "planned"  # a session exists (tapping it offers to delete it)
    PAST = "past"  # before today: nothing can be planned
    TODAY = "today"  # today: too late to plan (see plan_sessions)
    CLOSED = "closed"  # a Saturday not declared worked for this inspector


class PlannedSession(NamedTuple):
    """What a planning cell shows of its session (plain values, no ORM object)."""

    id: int
    start_time: dt.time
    end_time: dt.time
    label: str  # 'CE CARCASSONNE'


@dataclass
class GridCell:
    """One cell, every string ready to print: the grid computes the names from labels made
    once per day (Babel is not called per cell)."""

    inspector: Inspector
    day: dt.date
    tranche: Tranche
    start: dt.time
    end: dt.time
    state: CellState
    session: PlannedSession | None = None
    selected: bool = False
    name: str = ""  # 'DUMAS Anna, vendredi 11/02/2022, 08:00 - 10:00'
    hours: str = ""  # '08:00 - 10:00'
    key: str = ""  # the checkbox value, '12|2022-02-11|M1'
    dom_id: str = ""  # 'cell-12-20220211-M1'
    editable: bool = False  # planned and not past: tapping it offers to delete the session

    @property
    def ref(self) -> CellRef:
        return CellRef(self.inspector.id, self.day, self.tranche)

    @property
    def planned_label(self) -> str | None:
        """'CE CARCASSONNE' once planned."""
        return self.session.label if self.session else None


@dataclass
class InspectorWeek:
    inspector: Inspector
    favourite: bool
    rows: list[tuple[Tranche, list[GridCell]]]


# The planning grid renders this many inspectors at a time; the next ones load as they scroll
# into view (a department has about 60).
GRID_CHUNK = 10


@dataclass
class WeekGrid:
    monday: dt.date
    days: list[dt.date]
    inspectors: list[InspectorWeek] = field(default_factory=list)
    start: int = 0
    next_start: int | None = None  # where the next chunk of inspectors starts; None: no more
    total: int = 0  # inspectors matching the search

    @property
    def saturday(self) -> dt.date:
        return self.days[-1]


def _cell_state(day: dt.date, today: dt.date, saturday_worked: bool) -> CellState:
    if day < today:
        return CellState.PAST
    if day == today:
        return CellState.TODAY
    if day.weekday() == 5 and not saturday_worked:
        return CellState.CLOSED
    return CellState.FREE


def _make_cell(inspector, day, tranche, session, today, saturday_worked, selected,
               day_label: str | None = None, who: str | None = None) -> GridCell:
    if session is not None:
        start, end, state = session.start_time, session.end_time, CellState.PLANNED
    else:
        start, end = tranche_hours(day, tranche)
        state = _cell_state(day, today, saturday_worked)
    hours = hours_label(start, end)
    iso = day.isoformat()
    cell = GridCell(
        inspector, day, tranche, start, end, state, session,
        name=f"{who or inspector.nom_prenom}, {day_label or dates.jour_date(day)}, {hours}",
        hours=hours, key=f"{inspector.id}|{iso}|{tranche}",
        dom_id=f"cell-{inspector.id}-{iso.replace('-', '')}-{tranche}",
        editable=session is not None and day >= today,
    )
    cell.selected = state == CellState.FREE and cell.ref in selected
    return cell


def week_grid(
    actor: User,
    day: dt.date,
    *,
    search: str | None = None,
    selected: set[CellRef] | frozenset[CellRef] = frozenset(),
    today: dt.date | None = None,
    start: int = 0,
    size: int | None = None,
    show: set[int] | frozenset[int] = frozenset(),
) -> WeekGrid:
    """The planning grids of the week containing ``day`` for the inspectors of the agent's
    department whose name matches ``search``: favourites first, then by name.

    With ``size``, only ``size`` inspectors from ``start`` (the next ones load as they scroll
    into view), extended to the last inspector of ``show`` (those whose cells an action just
    changed, so that the answer shows them).
    A constant number of statements whatever the number of inspectors (pinned by a test).
    """
    today = today or dates.today()
    monday = dates.monday_of(day)
    days = dates.week_days(monday)
    grid = WeekGrid(monday, days)
    inspectors = [i for i in scopes.department_inspectors(actor.department_id)
                  if matches(i, search)]
    if not inspectors:
        return grid
    favourites = set(db.session.scalars(
        select(FavouriteInspector.inspector_id).where(FavouriteInspector.user_id == actor.id)
    ))
    inspectors.sort(key=lambda i: (i.id not in favourites, *name_key(i)))
    grid.total = len(inspectors)
    start = max(0, start)
    if size is not None:
        end = start + size
        wanted = [n + 1 for n, i in enumerate(inspectors) if i.id in show]
        end = max([end, *wanted])
        grid.start = start
        grid.next_start = end if end < len(inspectors) else None
        inspectors = inspectors[start:end]
    sessions = _planned(actor.department_id, days[0], days[-1], [i.id for i in inspectors])
    worked = _worked_saturdays(actor.department_id, days[-1], days[-1])
    day_labels = {d: dates.jour_date(d) for d in days}  # Babel once per day
    for inspector in inspectors:
        who = inspector.nom_prenom
        rows = []
        for tranche in Tranche:
            rows.append((tranche, [
                _make_cell(inspector, d, tranche, sessions.get((inspector.id, d, tranche)), today,
                           (inspector.id, d) in worked, selected, day_labels[d], who)
                for d in days
            ]))
        grid.inspectors.append(InspectorWeek(inspector, inspector.id in favourites, rows))
    return grid


def grid_cell(actor: User, inspector_id: int, day: dt.date, tranche: Tranche | str,
              *, today: dt.date | None = None) -> GridCell:
    """One cell as the grid shows it now (to swap it alone after a change)."""
    inspector = scopes.inspector(actor.department_id, inspector_id,
                                 message=scopes.PLANNING_INSPECTOR_NOT_FOUND)
    tranche = Tranche(tranche)
    session = db.session.scalar(
        select(Session)
        .options(joinedload(Session.centre), joinedload(Session.category))
        .where(Session.inspector_id == inspector.id, Session.date == day,
               Session.tranche == tranche)
    )
    worked = bool(_worked_saturdays(actor.department_id, day, day))
    planned = None
    if session is not None:
        planned = PlannedSession(session.id, session.start_time, session.end_time,
                                 f"{session.category.code} {session.centre.name}")
    return _make_cell(inspector, day, tranche, planned, today or dates.today(), worked,
                      frozenset())



def _sessions(department_id: int, first: dt.date, last: dt.date) -> list[Session]:
    return list(db.session.scalars(
        select(Session)
        .options(joinedload(Session.centre), joinedload(Session.category))
        .where(Session.department_id == department_id, Session.date.between(first, last))
    ))


def _planned(department_id: int, first: dt.date, last: dt.date, inspector_ids: list[int]
             ) -> dict[tuple[int, dt.date, str], PlannedSession]:
    """The sessions of these inspectors as plain rows, by (inspector, date, tranche)."""
    rows = db.session.execute(
        select(Session.inspector_id, Session.date, Session.tranche, Session.id,
               Session.start_time, Session.end_time, Category.code, Centre.name)
        .join(Category, Category.id == Session.category_id)
        .join(Centre, Centre.id == Session.centre_id)
        .where(Session.department_id == department_id, Session.date.between(first, last),
               Session.inspector_id.in_(inspector_ids))
    )
    return {(insp, day, tranche): PlannedSession(sid, start, end, f"{code} {centre}")
            for insp, day, tranche, sid, start, end, code, centre in rows}


def _worked_saturdays(department_id: int, first: dt.date, last: dt.date) -> set:
    rows = db.session.execute(
        select(WorkedSaturday.inspector_id, WorkedSaturday.date)
        .join(Inspector, WorkedSaturday.inspector_id == Inspector.id)
        .where(Inspector.department_id == department_id,
               WorkedSaturday.date.between(first, last))
    )
    return {(inspector_id, day) for inspector_id, day in rows}


# ---------------------------------------------------------------------------------------------
# Plan sessions (BER 1)
# ---------------------------------------------------------------------------------------------


def planning_horizon(today: dt.date | None = None) -> dt.date:
    """The last day a session may be planned on: one year ahead. Nobody plans exams further,
    and a session in year 9999 made its own week impossible to show."""
    return dates.one_year_after(today or dates.today())


def plan_sessions(
    actor: User,
    centre_id: int | None,
    category_id: int | None,
    cells: list[CellRef | tuple[int, dt.date, str]],
    *,
    today: dt.date | None = None,
) -> list[Session]:
    """Plan one session per selected cell at ``centre_id`` for ``category_id``, with its
    30-minute units (Dispo AE): all of them in one transaction, or none.

    Refused, naming the cell: empty or repeated selection, a centre or inspector outside the
    agent's department (404), a light category, a Sunday, a date before or equal to today
    (a session is planned at the latest the day before, so that schools can be booked on it),
    a date more than a year ahead (planning_horizon), a Saturday not declared worked, a cell
    already planned (also when another agent planned it meanwhile: the unique constraint
    decides, answered as a Conflict).
    """
    today = today or dates.today()
    horizon = planning_horizon(today)
    cells = [CellRef.of(c) for c in cells]
    if not cells:
        raise DomainError("Sélectionnez au moins une session à planifier.")
    centre = scopes.centre(actor.department_id, centre_id)
    category = db.session.get(Category, category_id) if isinstance(category_id, int) else None
    if category is None:
        raise NotFound("Catégorie de permis introuvable.")
    if not category.heavy:
        raise DomainError(f"La catégorie {category.code} n'est pas une catégorie du groupe lourd "
                          "(PL) : elle ne se planifie pas ici.")
    inspectors = scopes.inspectors(actor.department_id, {c.inspector_id for c in cells})
    seen = set()
    for cell in cells:
        inspector = inspectors.get(cell.inspector_id)
        if inspector is None:
            raise NotFound(scopes.PLANNING_INSPECTOR_NOT_FOUND)
        name = cell_name(inspector, cell.day, *tranche_hours(cell.day, cell.tranche))
        if cell in seen:
            raise DomainError(f"La session {name} est sélectionnée deux fois.")
        seen.add(cell)
        if cell.day.weekday() == 6:
            raise DomainError(f"{name} : aucune session ne se planifie un dimanche.")
        if cell.day < today:
            raise DomainError(f"{name} : cette date est passée.")
        if cell.day == today:
            raise DomainError(f"{name} : une session ne se planifie pas le jour même, "
                              "au plus tard la veille.")
        if cell.day > horizon:
            raise DomainError(f"{name} : cette date est trop lointaine. Les sessions se "
                              "planifient au plus un an à l'avance (jusqu'au "
                              f"{dates.ddmmyyyy(horizon)}).")
    saturdays = [c for c in cells if c.day.weekday() == 5]
    if saturdays:
        worked = _worked_saturdays(actor.department_id, min(c.day for c in saturdays),
                                   max(c.day for c in saturdays))
        for cell in saturdays:
            if (cell.inspector_id, cell.day) not in worked:
                inspector = inspectors[cell.inspector_id]
                name = cell_name(inspector, cell.day, *tranche_hours(cell.day, cell.tranche))
                raise DomainError(f"{name} : ce samedi n'est pas déclaré travaillé pour "
                                  f"{inspector.nom_prenom}.")
    existing = _existing_sessions(cells)
    if existing:
        session = existing[0]
        name = cell_name(session.inspector, session.date, session.start_time, session.end_time)
        raise Conflict(f"La session {name} est déjà planifiée "
                       f"({session.category.code} {session.centre.name}). "
                       "Le planning a été actualisé.", title="Session déjà planifiée")

    sessions = []
    for cell in sorted(cells, key=lambda c: (c.inspector_id, c.day, c.tranche.number)):
        start, end = tranche_hours(cell.day, cell.tranche)
        session = Session(department_id=actor.department_id,
                          inspector=inspectors[cell.inspector_id], centre=centre,
                          category=category, date=cell.day, tranche=cell.tranche.value,
                          start_time=start, end_time=end, created_by_id=actor.id)
        build_units(session)
        db.session.add(session)
        sessions.append(session)
    try:
        db.session.flush()
    except IntegrityError:
        # Another agent planned one of these cells between our check and our insert.
        db.session.rollback()
        raise Conflict("Une des sessions sélectionnées vient d'être planifiée par un autre "
                       "agent : aucune session n'a été planifiée. Le planning a été actualisé.",
                       title="Session déjà planifiée") from None
    for session in sessions:
        record(actor, "session.planned", "session", session.id,
               department_id=actor.department_id, after=snapshot_session(session))
    db.session.commit()
    return sessions


def _existing_sessions(cells: list[CellRef]) -> list[Session]:
    """Sessions already occupying any of ``cells`` (one statement)."""
    wanted = {(c.inspector_id, c.day, c.tranche.value) for c in cells}
    candidates = db.session.scalars(
        select(Session)
        .options(joinedload(Session.inspector), joinedload(Session.centre),
                 joinedload(Session.category))
        .where(Session.inspector_id.in_({c.inspector_id for c in cells}),
               Session.date.in_({c.day for c in cells}))
        .order_by(Session.date, Session.start_time)
    )
    return [s for s in candidates if (s.inspector_id, s.date, s.tranche) in wanted]


# ---------------------------------------------------------------------------------------------
# Delete a session (BER 2)
# ---------------------------------------------------------------------------------------------


def reserved_by_school(session: Session) -> list[tuple[AutoEcole, list[Unit]]]:
    """The session's reserved units grouped by school, schools by name."""
    groups: dict[int, tuple[AutoEcole, list[Unit]]] = {}
    for unit in session.units:
        if unit.status == UnitStatus.RESERVED and unit.auto_ecole is not None:
            groups.setdefault(unit.auto_ecole_id, (unit.auto_ecole, []))[1].append(unit)
    return sorted(groups.values(), key=lambda g: fold(g[0].raison_sociale))


def is_deletable(session: Session, today: dt.date | None = None) -> bool:
    """A session of a past day is history (its exams took place): it stays. Today's session
    may still be deleted (an inspector off sick), like a BER may cancel exams at any time."""
    return session.date >= (today or dates.today())


@dataclass
class DeletedSession:
    """What the banner and the grid need once the session is gone."""

    inspector: Inspector
    date: dt.date
    tranche: Tranche
    start: dt.time
    end: dt.time
    centre: str
    category: str
    cancelled_units: int
    schools: list[tuple[str, int]]  # (school, units cancelled)


def delete_session(actor: User, session_id: int, *, today: dt.date | None = None
                   ) -> DeletedSession:
    """Delete a session of the agent's department: its reserved units are cancelled first
    (a history row per unit and one e-mail per school listing its cancelled units), then the
    session and its units are deleted (history row). One transaction."""
    session = scopes.session(actor.department_id, session_id, message=scopes.SESSION_GONE,
                             lock=True)
    name = cell_name(session.inspector, session.date, session.start_time, session.end_time)
    if not is_deletable(session, today):
        raise DomainError(f"La session {name} est passée : elle ne peut plus être supprimée.")

    groups = reserved_by_school(session)
    before = snapshot_session(session)
    for school, units in groups:
        for unit in units:
            record(actor, "unit.cancelled", "unit", unit.id, department_id=actor.department_id,
                   before=snapshot_unit(unit), after={"status": "supprimée avec sa session"})
        queue_mail(
            "cancel_by_ber", [school.email],
            "Annulation d'examens pratiques du permis de conduire", "cancel_by_ber",
            school=school,
            units=[{"date": session.date, "start": u.start_time, "end": u.end_time,
                    "centre": session.centre.name, "category": session.category.code,
                    "inspector": session.inspector.public_name} for u in units],
        )
    record(actor, "session.deleted", "session", session.id, department_id=actor.department_id,
           before={**before, "reserved_units": sum(len(u) for _, u in groups)})
    result = DeletedSession(
        inspector=session.inspector, date=session.date, tranche=Tranche(session.tranche),
        start=session.start_time, end=session.end_time, centre=session.centre.name,
        category=session.category.code, cancelled_units=sum(len(u) for _, u in groups),
        schools=[(school.raison_sociale, len(units)) for school, units in groups],
    )
    db.session.delete(session)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("Cette session vient d'être supprimée par un autre agent.") from None
    return result


# ---------------------------------------------------------------------------------------------
# Export (BER 3): the data of the spreadsheet; rdvpl/export.py writes it
# ---------------------------------------------------------------------------------------------

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
