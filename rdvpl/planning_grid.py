"""The planning week grid (BER 1), the read side of "Planifier les activités": one grid per
inspector (rows M1 M2 S1 S2, columns Monday-Saturday), each cell's state and names computed once
per day, and the options of the screen's filters.

Reads only: no request, no templates, no change. Sessions are planned and deleted by
rdvpl/sessions.py.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import dates, scopes
from .accounts import favourite_ids
from .extensions import db
from .models import (
    Category,
    Centre,
    Inspector,
    Session,
    Tranche,
    User,
)
from .names import hours_label, matches, name_key
from .sessions import (
    Away,
    CellRef,
    planning_horizon,
    tranche_hours,
    unavailabilities,
    unavailable_motif,
    worked_saturdays,
)


def planning_options(actor: User) -> tuple[list[Centre], list[Category]]:
    """The centres of the agent's department and the heavy categories, for the filters."""
    categories = db.session.scalars(
        select(Category).where(Category.heavy.is_(True)).order_by(Category.position)
    ).all()
    return scopes.department_centres(actor.department_id), list(categories)


class CellState(enum.StrEnum):
    FREE = "free"  # selectable
    PLANNED = "planned"  # a session exists (tapping it offers to delete it)
    PAST = "past"  # before today: nothing can be planned
    TODAY = "today"  # today: too late to plan (see plan_sessions)
    HOLIDAY = "holiday"  # a public holiday (dates.public_holiday)
    UNAVAILABLE = "unavailable"  # the inspector is away (an absence, BER 6)
    CLOSED = "closed"  # a Saturday not declared worked for this inspector
    TOO_FAR = "beyond"  # beyond the planning horizon, one year ahead (sessions.planning_horizon)


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
    reason: str = ""  # why a closed cell is closed, as its name says it: 'Jour férié (Noël)'

    @property
    def ref(self) -> CellRef:
        return CellRef(self.inspector.id, self.day, self.tranche)

    @property
    def planned_label(self) -> str | None:
        """'CE CARCASSONNE' once planned."""
        return self.session.label if self.session else None


@dataclass
class PlanningInspector:
    """One inspector's grid in the planning week."""

    inspector: Inspector
    favourite: bool
    rows: list[tuple[Tranche, list[GridCell]]]


# The planning grid renders this many inspectors at a time; the next ones load as they scroll
# into view (a department has about 60).
GRID_CHUNK = 10


@dataclass
class PlanningWeek:
    """The planning grids of one week (a chunk of the department's inspectors)."""

    monday: dt.date
    days: list[dt.date]
    inspectors: list[PlanningInspector] = field(default_factory=list)
    start: int = 0
    next_start: int | None = None  # where the next chunk of inspectors starts; None: no more
    total: int = 0  # inspectors matching the search

    @property
    def saturday(self) -> dt.date:
        return self.days[-1]


# What a cell beyond the planning horizon says (plan_sessions refuses it with the date).
TOO_FAR_REASON = "Au-delà d'un an"


def _cell_state(inspector_id: int, day: dt.date, tranche: Tranche, today: dt.date,
                worked: set[tuple[int, dt.date]], away: dict[int, list[Away]]
                ) -> tuple[CellState, str]:
    """The one rule for a cell without a session, and the reason a closed cell names
    ('Jour férié (Noël)', 'Indisponible (Congé)', "Au-delà d'un an"). ``worked``: the
    (inspector id, Saturday) pairs declared worked (sessions.worked_saturdays); ``away``: the
    inspectors' absences (sessions.unavailabilities). A public holiday closes the day even on
    a Saturday declared worked."""
    if day < today:
        return CellState.PAST, ""
    if day == today:
        return CellState.TODAY, ""
    holiday = dates.public_holiday(day)
    if holiday:
        return CellState.HOLIDAY, f"Jour férié ({holiday})"
    motif = unavailable_motif(away, inspector_id, day, tranche)
    if motif:
        return CellState.UNAVAILABLE, f"Indisponible ({motif})"
    if day.weekday() == 5 and (inspector_id, day) not in worked:
        return CellState.CLOSED, ""
    if day > planning_horizon(today):
        return CellState.TOO_FAR, TOO_FAR_REASON
    return CellState.FREE, ""


def _make_cell(inspector, day, tranche, session, today, worked, away, selected,
               day_label: str | None = None, who: str | None = None) -> GridCell:
    reason = ""
    if session is not None:
        start, end, state = session.start_time, session.end_time, CellState.PLANNED
    else:
        start, end = tranche_hours(day, tranche)
        state, reason = _cell_state(inspector.id, day, tranche, today, worked, away)
    hours = hours_label(start, end)
    iso = day.isoformat()
    cell = GridCell(
        inspector, day, tranche, start, end, state, session,
        name=f"{who or inspector.nom_prenom}, {day_label or dates.jour_date(day)}, {hours}",
        hours=hours, key=f"{inspector.id}|{iso}|{tranche}",
        dom_id=f"cell-{inspector.id}-{iso.replace('-', '')}-{tranche}",
        editable=session is not None and day >= today, reason=reason,
    )
    cell.selected = state == CellState.FREE and cell.ref in selected
    return cell


def planning_week(
    actor: User,
    day: dt.date,
    *,
    search: str | None = None,
    selected: set[CellRef] | frozenset[CellRef] = frozenset(),
    today: dt.date | None = None,
    start: int = 0,
    size: int | None = None,
    show: set[int] | frozenset[int] = frozenset(),
) -> PlanningWeek:
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
    grid = PlanningWeek(monday, days)
    inspectors = [i for i in scopes.department_inspectors(actor.department_id)
                  if matches(i, search)]
    if not inspectors:
        return grid
    favourites = favourite_ids(actor)  # read with the sign-in session
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
    worked = worked_saturdays(actor.department_id, days[-1], days[-1])
    away = unavailabilities(actor.department_id, days[0], days[-1])
    day_labels = {d: dates.jour_date(d) for d in days}  # Babel once per day
    for inspector in inspectors:
        who = inspector.nom_prenom
        rows = []
        for tranche in Tranche:
            rows.append((tranche, [
                _make_cell(inspector, d, tranche, sessions.get((inspector.id, d, tranche)), today,
                           worked, away, selected, day_labels[d], who)
                for d in days
            ]))
        grid.inspectors.append(PlanningInspector(inspector, inspector.id in favourites, rows))
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
    worked = worked_saturdays(actor.department_id, day, day)
    away = unavailabilities(actor.department_id, day, day)
    planned = None
    if session is not None:
        planned = PlannedSession(session.id, session.start_time, session.end_time,
                                 f"{session.category.code} {session.centre.name}")
    return _make_cell(inspector, day, tranche, planned, today or dates.today(), worked, away,
                      frozenset())



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


def taken_cells(grid: PlanningWeek, selected) -> list[GridCell]:
    """Live grids: the ticked cells (``selected``, CellRefs) that the grid now shows as no
    longer selectable (planned meanwhile, an absence, the day came), in the grid's order. Read
    from the grid just rendered: no SQL statement."""
    wanted = set(selected)
    return [c for iw in grid.inspectors for _, row in iw.rows for c in row
            if c.ref in wanted and c.state != CellState.FREE]
