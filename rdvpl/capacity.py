"""Capacity (SPEC Part 2): what inspectors can give — worked Saturdays (BER 7), absences and
other duties (BER 6); public holidays live in rdvpl/dates.py. All of them close cells through
planning_grid's one rule and are refused by plan_sessions.

Domain functions: no request, no templates; each takes the actor, enforces every rule, owns its
transaction and records the history. A change that would remove planned sessions raises
``SessionsConcerned`` (nothing changed) until the agent confirms the very sessions listed; the
sessions then go with rdvpl/sessions.py's ``remove_sessions`` (one e-mail per school).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from . import dates, scopes
from .errors import Conflict, DomainError, NotFound
from .extensions import db
from .history import record
from .models import Absence, AbsenceMotif, Inspector, Session, Unit, User, WorkedSaturday
from .names import name_key
from .sessions import (
    SessionsConcerned,
    concerned,
    half_day,
    planning_horizon,
    remove_sessions,
    worked_saturdays,
)

SATURDAYS_AHEAD = 12  # "les 12 prochains samedis" (SPEC BER 7)


def coming_saturdays(today: dt.date | None = None) -> list[dt.date]:
    """The next ``SATURDAYS_AHEAD`` Saturdays after today (today's own Saturday is too late to
    plan anything on)."""
    today = today or dates.today()
    first = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    return [first + dt.timedelta(weeks=n) for n in range(SATURDAYS_AHEAD)]


@dataclass
class SaturdayToggle:
    """One toggle button: ``name`` is its accessible name without the state
    ('DUMAS Anna, samedi 19/12/2026'); the template adds ', travaillé' / ', non travaillé'."""

    inspector_id: int
    day: dt.date
    worked: bool
    name: str

    @property
    def dom_id(self) -> str:
        return f"samedi-{self.inspector_id}-{self.day:%Y%m%d}"


@dataclass
class SaturdayRow:
    day: dt.date
    label: str  # 'samedi 19/12/2026'
    toggles: list[SaturdayToggle]


@dataclass
class SaturdaysTable:
    inspectors: list[Inspector]
    rows: list[SaturdayRow]


def saturdays_table(actor: User, *, today: dt.date | None = None) -> SaturdaysTable:
    """The page "Samedis supplémentaires travaillés": the next 12 Saturdays as rows, the
    department's active inspectors (by name) as columns. Two statements."""
    days = coming_saturdays(today)
    inspectors = sorted(scopes.department_inspectors(actor.department_id), key=name_key)
    worked = worked_saturdays(actor.department_id, days[0], days[-1])
    rows = []
    for day in days:
        label = dates.jour_date(day)
        rows.append(SaturdayRow(day, label, [
            SaturdayToggle(i.id, day, (i.id, day) in worked, f"{i.nom_prenom}, {label}")
            for i in inspectors
        ]))
    return SaturdaysTable(inspectors, rows)


def saturday_toggle(actor: User, inspector_id: int, day: dt.date) -> SaturdayToggle:
    """One toggle as the page shows it now."""
    inspector = scopes.inspector(actor.department_id, inspector_id,
                                 message=scopes.PLANNING_INSPECTOR_NOT_FOUND)
    worked = (inspector.id, day) in worked_saturdays(actor.department_id, day, day)
    return SaturdayToggle(inspector.id, day, worked,
                          f"{inspector.nom_prenom}, {dates.jour_date(day)}")


def sessions_between(inspector_id: int, first: dt.date, last: dt.date, *,
                     lock: bool = False) -> list[Session]:
    """The inspector's sessions from ``first`` to ``last`` with what removing them needs;
    ``lock``: the sessions and their units locked (PostgreSQL), so that no reservation slips
    in between the check and the deletion."""
    query = (select(Session)
             .options(joinedload(Session.inspector), joinedload(Session.centre),
                      joinedload(Session.category),
                      selectinload(Session.units).joinedload(Unit.auto_ecole))
             .where(Session.inspector_id == inspector_id, Session.date.between(first, last))
             .order_by(Session.date, Session.start_time))
    if lock:
        ids = db.session.scalars(select(Session.id).where(
            Session.inspector_id == inspector_id, Session.date.between(first, last)
        ).with_for_update()).all()
        if ids:
            db.session.scalars(select(Unit.id).where(Unit.session_id.in_(ids))
                               .with_for_update()).all()
    return list(db.session.scalars(query).unique())


def check_confirmed(sessions: list[Session], confirmed: set[int] | None) -> None:
    """Nothing removes planned sessions unless the agent confirmed exactly these: a session
    planned (or deleted) since the dialog was shown shows the dialog again."""
    if sessions and (confirmed is None or confirmed != {s.id for s in sessions}):
        raise SessionsConcerned(concerned(sessions))


@dataclass
class SaturdayChange:
    toggle: SaturdayToggle
    removed: list  # DeletedSession of the sessions removed with an un-declared Saturday


def set_worked_saturday(actor: User, inspector_id: int, day: dt.date, worked: bool, *,
                        confirmed: set[int] | None = None, today: dt.date | None = None
                        ) -> SaturdayChange:
    """Declare (``worked``) or un-declare one of the next 12 Saturdays for an inspector of the
    agent's department, with a history row; setting what is already set changes nothing.

    Un-declaring a Saturday holding sessions raises SessionsConcerned (nothing changed) unless
    ``confirmed`` are those sessions' ids: then they are deleted with it, in one transaction,
    each school told once of all its cancelled units."""
    inspector = scopes.inspector(actor.department_id, inspector_id,
                                 message=scopes.PLANNING_INSPECTOR_NOT_FOUND)
    if day not in coming_saturdays(today):
        raise DomainError(f"Le {dates.ddmmyyyy(day)} ne fait pas partie des "
                          f"{SATURDAYS_AHEAD} prochains samedis.")
    if not inspector.active:
        raise DomainError(f"{inspector.nom_prenom} est désactivé : ses samedis ne se "
                          "déclarent plus.")
    row = db.session.scalar(select(WorkedSaturday).where(
        WorkedSaturday.inspector_id == inspector.id, WorkedSaturday.date == day))
    removed = []
    if worked and row is None:
        db.session.add(WorkedSaturday(inspector=inspector, date=day))
        record(actor, "saturday.worked", "inspector", inspector.id,
               department_id=actor.department_id, after={"date": day.isoformat()})
    elif not worked and row is not None:
        sessions = sessions_between(inspector.id, day, day, lock=True)
        check_confirmed(sessions, confirmed)
        removed = remove_sessions(actor, sessions)
        db.session.delete(row)
        record(actor, "saturday.unworked", "inspector", inspector.id,
               department_id=actor.department_id,
               before={"date": day.isoformat(), "sessions_removed": len(removed)})
    try:
        db.session.commit()
    except IntegrityError:  # another agent declared it meanwhile (unique inspector + date)
        db.session.rollback()
        raise Conflict("Ce samedi vient d'être modifié par un autre agent. Rechargez la page."
                       ) from None
    toggle = SaturdayToggle(inspector.id, day, worked,
                            f"{inspector.nom_prenom}, {dates.jour_date(day)}")
    return SaturdayChange(toggle, removed)


# ---------------------------------------------------------------------------------------------
# Indisponibilités et autres charges (BER 6)
# ---------------------------------------------------------------------------------------------

ABSENCE_WEEKS = 12  # the list shows the absences of the coming 12 weeks (SPEC BER 6)
COMMENT_MAX = 500
HALF_WORDS = ("matin", "après-midi")


def period_words(first: tuple[dt.date, int], last: tuple[dt.date, int]) -> str:
    """'du lundi 14/12/2026 matin au mardi 15/12/2026 après-midi'."""
    return (f"du {dates.jour_date(first[0])} {HALF_WORDS[first[1]]} "
            f"au {dates.jour_date(last[0])} {HALF_WORDS[last[1]]}")


@dataclass
class AbsenceRow:
    """One line of the list: its id (for "Supprimer"), motif, period and comment."""

    id: int
    motif: str
    period: str
    comment: str


def absences_list(actor: User, inspector_id: int, *, today: dt.date | None = None
                  ) -> list[AbsenceRow]:
    """The inspector's absences overlapping the coming ``ABSENCE_WEEKS`` weeks, by date."""
    inspector = scopes.inspector(actor.department_id, inspector_id,
                                 message=scopes.PLANNING_INSPECTOR_NOT_FOUND)
    today = today or dates.today()
    last = today + dt.timedelta(weeks=ABSENCE_WEEKS)
    rows = db.session.scalars(
        select(Absence).where(Absence.inspector_id == inspector.id,
                              Absence.end_date >= today, Absence.start_date <= last)
        .order_by(Absence.start_date, Absence.start_afternoon)
    )
    return [AbsenceRow(a.id, a.motif, period_words(a.first_half, a.last_half), a.comment or "")
            for a in rows]


def _snapshot(absence: Absence) -> dict:
    return {"inspector": absence.inspector.nom_prenom, "motif": absence.motif,
            "period": period_words(absence.first_half, absence.last_half),
            "comment": absence.comment or ""}


@dataclass
class AbsenceChange:
    absence: Absence
    removed: list  # DeletedSession of the sessions removed with it


def add_absence(actor: User, inspector_id: int, motif: str, start: dt.date,
                start_afternoon: bool, end: dt.date, end_afternoon: bool,
                comment: str | None = None, *, confirmed: set[int] | None = None,
                today: dt.date | None = None) -> AbsenceChange:
    """Record an absence of an inspector of the agent's department, by half-day, with a
    history row. Refused with a French message: an unknown motif, a period ending before it
    starts, starting before today or beyond the planning horizon, a comment over 500
    characters, and a period overlapping another absence of the inspector (refused, not merged:
    the agent sees both and chooses — delete the older one first).

    If the period covers planned sessions, SessionsConcerned is raised (nothing changed) until
    ``confirmed`` are those sessions' ids: then they are deleted and the absence saved in one
    transaction, one e-mail per school listing all of its cancelled units."""
    today = today or dates.today()
    inspector = scopes.inspector(actor.department_id, inspector_id,
                                 message=scopes.PLANNING_INSPECTOR_NOT_FOUND)
    if motif not in set(AbsenceMotif):
        raise DomainError("Choisissez un motif dans la liste.")
    first, last = (start, int(start_afternoon)), (end, int(end_afternoon))
    if last < first:
        raise DomainError(f"La fin de la période ({dates.ddmmyyyy(end)} "
                          f"{HALF_WORDS[last[1]]}) précède son début ({dates.ddmmyyyy(start)} "
                          f"{HALF_WORDS[first[1]]}).")
    if start < today:
        raise DomainError(f"La période commence le {dates.ddmmyyyy(start)}, avant aujourd'hui : "
                          "une indisponibilité se déclare à partir d'aujourd'hui.")
    horizon = planning_horizon(today)
    if end > horizon:
        raise DomainError("Une indisponibilité se déclare au plus un an à l'avance (jusqu'au "
                          f"{dates.ddmmyyyy(horizon)}).")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(f"Le commentaire dépasse {COMMENT_MAX} caractères.")
    if not inspector.active:
        raise DomainError(f"{inspector.nom_prenom} est désactivé.")
    # Two agents entering overlapping absences at once: the inspector's row is the lock.
    db.session.scalars(select(Inspector.id).where(Inspector.id == inspector.id)
                       .with_for_update()).all()
    for other in db.session.scalars(select(Absence).where(
            Absence.inspector_id == inspector.id, Absence.start_date <= end,
            Absence.end_date >= start)):
        if other.first_half <= last and first <= other.last_half:
            raise DomainError(
                f"{inspector.nom_prenom} a déjà une indisponibilité ({other.motif}) "
                f"{period_words(other.first_half, other.last_half)} qui chevauche cette "
                "période : supprimez-la d'abord ou choisissez une autre période.")
    sessions = [s for s in sessions_between(inspector.id, start, end, lock=True)
                if first <= (s.date, half_day(s.tranche)) <= last]
    check_confirmed(sessions, confirmed)
    removed = remove_sessions(actor, sessions)
    absence = Absence(inspector=inspector, motif=motif, start_date=start,
                      start_afternoon=start_afternoon, end_date=end,
                      end_afternoon=end_afternoon, comment=comment or None,
                      created_by_id=actor.id)
    db.session.add(absence)
    db.session.flush()
    record(actor, "absence.added", "absence", absence.id, department_id=actor.department_id,
           after={**_snapshot(absence), "sessions_removed": len(removed)})
    db.session.commit()
    return AbsenceChange(absence, removed)


def delete_absence(actor: User, absence_id: int) -> dict:
    """Delete an absence of the agent's department (its cells reopen), with a history row.
    Another department's or an unknown id: NotFound."""
    absence = db.session.get(Absence, absence_id) if isinstance(absence_id, int) else None
    if absence is None or absence.inspector.department_id != actor.department_id:
        raise NotFound("Indisponibilité introuvable : elle a peut-être déjà été supprimée.")
    before = _snapshot(absence)
    record(actor, "absence.deleted", "absence", absence.id, department_id=actor.department_id,
           before=before)
    db.session.delete(absence)
    db.session.commit()
    return before
