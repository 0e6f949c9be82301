"""Sessions (BER 1-2), the write side of "Planifier les activités": tranche hours, a session's
30-minute units, ``new_session``, plan and delete sessions, the planning horizon.

Domain functions: no request, no templates; each takes the actor, enforces every rule, owns its
transaction, records the history and queues the promised e-mails. The grid that shows the
sessions is rdvpl/planning_grid.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from . import candidates, dates, notify, scopes
from .errors import Conflict, DomainError, NotFound
from .extensions import db, write_transaction
from .history import record, snapshot_session, snapshot_unit
from .models import (
    UNIT_MINUTES,
    Absence,
    AutoEcole,
    Category,
    Centre,
    Inspector,
    Session,
    Tranche,
    Unit,
    UnitStatus,
    User,
    WorkedSaturday,
    as_id,
)
from .names import cell_name, fold

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


def new_session(inspector: Inspector, centre: Centre, category: Category, day: dt.date,
                tranche: Tranche | str, *, start: dt.time | None = None,
                end: dt.time | None = None, created_by: User | None = None) -> Session:
    """A session of the inspector's department on ``day`` at ``tranche`` (the tranche's usual
    hours unless ``start`` and ``end`` are given), with its 30-minute units Dispo AE, added to
    the database session (the caller commits). The one way sessions are made: by planning, by
    the demo data and by the tests."""
    usual_start, usual_end = tranche_hours(day, tranche)
    # An inspector created in the same transaction has its department, not yet its id column.
    department_id = inspector.department_id or inspector.department.id
    session = Session(department_id=department_id, inspector=inspector, centre=centre,
                      category=category, date=day, tranche=Tranche(tranche).value,
                      start_time=start or usual_start, end_time=end or usual_end,
                      created_by_id=created_by.id if created_by else None)
    build_units(session)
    db.session.add(session)
    return session


# ---------------------------------------------------------------------------------------------
# Plan sessions (BER 1)
# ---------------------------------------------------------------------------------------------


class CellRef(NamedTuple):
    """One (inspector, date, tranche) a BER agent selected; form value '12|2022-02-11|M1'.
    The input of plan_sessions (here rather than beside the grid, which imports this module).
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



def worked_saturdays(department_id: int, first: dt.date, last: dt.date
                     ) -> set[tuple[int, dt.date]]:
    """The (inspector id, Saturday) pairs declared worked in the department between ``first``
    and ``last``: a Saturday not in it is closed for that inspector."""
    rows = db.session.execute(
        select(WorkedSaturday.inspector_id, WorkedSaturday.date)
        .join(Inspector, WorkedSaturday.inspector_id == Inspector.id)
        .where(Inspector.department_id == department_id,
               WorkedSaturday.date.between(first, last))
    )
    return {(inspector_id, day) for inspector_id, day in rows}



class Away(NamedTuple):
    """An absence as the grids read it: first and last half-days, (date, 0 morning / 1
    afternoon), and its motif."""

    first: tuple[dt.date, int]
    last: tuple[dt.date, int]
    motif: str


def half_day(tranche: Tranche | str) -> int:
    """0 for the morning tranches (M1, M2), 1 for the afternoon ones (S1, S2)."""
    return 0 if Tranche(tranche) in (Tranche.M1, Tranche.M2) else 1


def unavailabilities(department_id: int, first: dt.date, last: dt.date
                     ) -> dict[int, list[Away]]:
    """The absences of the department's inspectors overlapping ``first``..``last``, by
    inspector id (one statement)."""
    rows = db.session.execute(
        select(Absence.inspector_id, Absence.start_date, Absence.start_afternoon,
               Absence.end_date, Absence.end_afternoon, Absence.motif)
        .join(Inspector, Absence.inspector_id == Inspector.id)
        .where(Inspector.department_id == department_id, Absence.start_date <= last,
               Absence.end_date >= first)
    )
    away: dict[int, list[Away]] = {}
    for inspector_id, start, start_pm, end, end_pm, motif in rows:
        away.setdefault(inspector_id, []).append(
            Away((start, int(start_pm)), (end, int(end_pm)), motif))
    return away


def unavailable_motif(away: dict[int, list[Away]], inspector_id: int, day: dt.date,
                      tranche: Tranche | str) -> str | None:
    """The motif of the absence covering this cell, else None."""
    half = (day, half_day(tranche))
    return next((a.motif for a in away.get(inspector_id, ()) if a.first <= half <= a.last),
                None)


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
    write_transaction()
    cells = [CellRef.of(c) for c in cells]
    if not cells:
        raise DomainError("Sélectionnez au moins une session à planifier.")
    centre = scopes.centre(actor.department_id, centre_id)
    category = db.session.get(Category, category_id) if isinstance(category_id, int) else None
    if category is None:
        raise NotFound("Catégorie de permis introuvable.")
    sessions = add_sessions(actor, [PlannedCell(c, centre, category) for c in cells],
                            today=today)
    db.session.commit()
    return sessions


class PlannedCell(NamedTuple):
    """One session to plan: the cell, its centre and category (loaded through the agent's
    department by the caller)."""

    cell: CellRef
    centre: Centre
    category: Category


def add_sessions(actor: User, plans: list[PlannedCell], *, today: dt.date | None = None,
                 source: str | None = None) -> list[Session]:
    """Every rule of plan_sessions for ``plans`` (each cell with its own centre and category:
    a copied week, an imported planning), then the sessions and their history rows added to
    the caller's transaction, which commits; the first refusal raises and adds nothing.
    ``source`` ('copie', 'import') is written in each session's history row."""
    today = today or dates.today()
    horizon = planning_horizon(today)
    if not plans:
        raise DomainError("Sélectionnez au moins une session à planifier.")
    for centre in {p.centre.id: p.centre for p in plans}.values():
        if centre.department_id != actor.department_id:
            raise NotFound(scopes.CENTRE_NOT_FOUND)
        if not centre.active:
            raise DomainError(f"Le centre {centre.name} est désactivé : choisissez un autre "
                              "centre.")
    for category in {p.category.id: p.category for p in plans}.values():
        if not category.heavy:
            raise DomainError(f"La catégorie {category.code} n'est pas une catégorie du groupe "
                              "lourd (PL) : elle ne se planifie pas ici.")
    cells = [p.cell for p in plans]
    inspectors = scopes.inspectors(actor.department_id, {c.inspector_id for c in cells})
    seen = set()
    for cell in cells:
        inspector = inspectors.get(cell.inspector_id)
        if inspector is None:
            raise NotFound(scopes.PLANNING_INSPECTOR_NOT_FOUND)
        if not inspector.active:
            raise DomainError(f"{inspector.nom_prenom} est désactivé : aucune session ne peut "
                              "plus lui être planifiée.")
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
        holiday = dates.public_holiday(cell.day)
        if holiday:
            raise DomainError(f"{name} : jour férié ({holiday}), aucune session ne se "
                              "planifie.")
    saturdays = [c for c in cells if c.day.weekday() == 5]
    if saturdays:
        worked = worked_saturdays(actor.department_id, min(c.day for c in saturdays),
                                   max(c.day for c in saturdays))
        for cell in saturdays:
            if (cell.inspector_id, cell.day) not in worked:
                inspector = inspectors[cell.inspector_id]
                name = cell_name(inspector, cell.day, *tranche_hours(cell.day, cell.tranche))
                raise DomainError(f"{name} : ce samedi n'est pas déclaré travaillé pour "
                                  f"{inspector.nom_prenom}.")
    away = unavailabilities(actor.department_id, min(c.day for c in cells),
                            max(c.day for c in cells))
    for cell in cells:
        motif = unavailable_motif(away, cell.inspector_id, cell.day, cell.tranche)
        if motif:
            inspector = inspectors[cell.inspector_id]
            name = cell_name(inspector, cell.day, *tranche_hours(cell.day, cell.tranche))
            raise DomainError(f"{name} : {inspector.nom_prenom} est indisponible ({motif}).")
    existing = _existing_sessions(cells)
    if existing:
        session = existing[0]
        name = cell_name(session.inspector, session.date, session.start_time, session.end_time)
        raise Conflict(f"La session {name} est déjà planifiée "
                       f"({session.category.code} {session.centre.name}). "
                       "Le planning a été actualisé.", title="Session déjà planifiée")

    sessions = []
    for plan in sorted(plans, key=lambda p: (p.cell.inspector_id, p.cell.day,
                                             p.cell.tranche.number)):
        sessions.append(new_session(inspectors[plan.cell.inspector_id], plan.centre,
                                    plan.category, plan.cell.day, plan.cell.tranche,
                                    created_by=actor))
    try:
        db.session.flush()
    except IntegrityError:
        # Another agent planned one of these cells between our check and our insert.
        db.session.rollback()
        raise Conflict("Une des sessions sélectionnées vient d'être planifiée par un autre "
                       "agent : aucune session n'a été planifiée. Le planning a été actualisé.",
                       title="Session déjà planifiée") from None
    extra = {"source": source} if source else {}
    for session in sessions:
        record(actor, "session.planned", "session", session.id,
               department_id=actor.department_id, after={**snapshot_session(session), **extra})
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
    write_transaction()
    session = scopes.session(actor.department_id, session_id, message=scopes.SESSION_GONE,
                             lock=True)
    name = cell_name(session.inspector, session.date, session.start_time, session.end_time)
    if not is_deletable(session, today):
        raise DomainError(f"La session {name} est passée : elle ne peut plus être supprimée.")
    [result] = remove_sessions(actor, [session])
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("Cette session vient d'être supprimée par un autre agent.") from None
    return result


def remove_sessions(actor: User, sessions: list[Session]) -> list[DeletedSession]:
    """Delete ``sessions`` in the caller's transaction (the caller checked they may go and
    commits): each reserved unit cancelled (history row), each session deleted (history row),
    and ONE e-mail per school listing all of its cancelled units across these sessions — a
    school losing three sessions to a leave gets one e-mail, not three."""
    by_school: dict[int, tuple[AutoEcole, list[Unit]]] = {}
    results = []
    for session in sorted(sessions, key=lambda s: (s.date, s.start_time, s.inspector_id)):
        groups = reserved_by_school(session)
        before = snapshot_session(session)
        for school, units in groups:
            for unit in units:
                record(actor, "unit.cancelled", "unit", unit.id,
                       department_id=actor.department_id, before=snapshot_unit(unit),
                       after={"status": "supprimée avec sa session"})
            by_school.setdefault(school.id, (school, []))[1].extend(units)
        record(actor, "session.deleted", "session", session.id,
               department_id=actor.department_id,
               before={**before, "reserved_units": sum(len(u) for _, u in groups)})
        results.append(DeletedSession(
            inspector=session.inspector, date=session.date, tranche=Tranche(session.tranche),
            start=session.start_time, end=session.end_time, centre=session.centre.name,
            category=session.category.code, cancelled_units=sum(len(u) for _, u in groups),
            schools=[(school.raison_sociale, len(units)) for school, units in groups],
        ))
    for school, units in sorted(by_school.values(), key=lambda g: fold(g[0].raison_sociale)):
        notify.cancellation_by_ber_email(school, units)
    # Their candidates go with them (one statement for all the sessions).
    candidates.forget(actor, [u for _, units in by_school.values() for u in units],
                      department_id=actor.department_id, reason="session supprimée")
    for session in sessions:
        db.session.delete(session)
    return results


@dataclass
class ConcernedSession:
    """A session an absence or an un-worked Saturday would remove, as the dialog names it."""

    id: int
    name: str  # 'DUMAS Anna, samedi 19/12/2026, 08:00 - 10:00'
    label: str  # 'CE CARCASSONNE'
    schools: list[tuple[str, int]]  # (school, units reserved)

    @property
    def reserved(self) -> int:
        return sum(n for _, n in self.schools)

    @property
    def reserved_words(self) -> str:
        """'3 unités réservées : Alliance Auto-Ecole (2), Alliance du 002 (1)' (SPEC BER 6)."""
        if not self.schools:
            return "aucune unité réservée"
        unit = "unité réservée" if self.reserved == 1 else "unités réservées"
        schools = ", ".join(f"{school} ({n})" for school, n in self.schools)
        return f"{self.reserved} {unit} : {schools}"


def concerned(sessions: list[Session]) -> list[ConcernedSession]:
    """What the "Sessions concernées" dialog lists of ``sessions``, by date and hour."""
    return [
        ConcernedSession(s.id, cell_name(s.inspector, s.date, s.start_time, s.end_time),
                         f"{s.category.code} {s.centre.name}",
                         [(school.raison_sociale, len(units))
                          for school, units in reserved_by_school(s)])
        for s in sorted(sessions, key=lambda s: (s.date, s.start_time, s.inspector_id))
    ]


class SessionsConcerned(DomainError):
    """Raised instead of a change that would remove planned sessions the agent has not
    confirmed: nothing is changed; ``sessions`` are what the dialog lists."""

    status_code = 409

    def __init__(self, sessions: list[ConcernedSession]):
        super().__init__("Des sessions sont déjà planifiées sur cette période.",
                         title="Sessions concernées")
        self.sessions = sessions
