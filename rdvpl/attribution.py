"""BER 10 "Demandes et attributions" (domain: no request, no templates): the month's demands
against what was attributed, the proposal of rdvpl/allocation.py over the month's Dispo AE
units, and its application through the reservation code of BER 4 (rdvpl/booking.py).

Every query is scoped by the BER's department.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from . import allocation, booking, dates, demand
from .extensions import db
from .models import (
    AutoEcole,
    Category,
    Centre,
    HalfDay,
    Inspector,
    SchoolDemand,
    Session,
    Unit,
    UnitStatus,
)


def month_choices(today: dt.date) -> list[dt.date]:
    """The months a BER attributes: this one and the two schools may ask for."""
    return [demand.first_of_month(today), *demand.demand_months(today)]


def _month_end(month: dt.date) -> dt.date:
    return demand.add_months(month, 1) - dt.timedelta(days=1)


@dataclass
class SchoolRow:
    """One row of the table: a school's demand and what it got that month."""

    school: AutoEcole
    demand: SchoolDemand
    attributed: int

    @property
    def demanded(self) -> int:
        return self.demand.units

    @property
    def gap(self) -> int:
        """"Écart": units still to attribute (never negative)."""
        return max(0, self.demanded - self.attributed)


@dataclass
class MonthView:
    month: dt.date
    category: Category | None
    closes_on: dt.date
    rows: list[SchoolRow]
    free_units: int

    @property
    def demanded(self) -> int:
        return sum(r.demanded for r in self.rows)

    @property
    def schools(self) -> int:
        return sum(1 for r in self.rows if r.demanded > 0)


def _free_units_query(department_id: int, month: dt.date, category_id: int, now):
    """Dispo AE units of the month and category not yet started."""
    wall = dates.paris_wall_clock(now)
    return (
        select(Unit).join(Unit.session)
        .where(Session.department_id == department_id, Session.category_id == category_id,
               Session.date.between(month, _month_end(month)),
               Unit.status == UnitStatus.DISPO,
               or_(Session.date > wall.date(),
                   and_(Session.date == wall.date(), Unit.start_time > wall.time())))
    )


def month_view(department_id: int, month: dt.date, category: Category | None, *,
               now: dt.datetime | None = None) -> MonthView:
    """The schools' demands of the month and category, what each was attributed, and the
    Dispo AE units left (four statements)."""
    closes_on = demand.closing_date(department_id, month)
    if category is None:
        return MonthView(month, None, closes_on, [], 0)
    demands = db.session.scalars(
        select(SchoolDemand).join(SchoolDemand.auto_ecole)
        .where(SchoolDemand.department_id == department_id, SchoolDemand.month == month,
               SchoolDemand.category_id == category.id, SchoolDemand.units > 0)
        .options(selectinload(SchoolDemand.centres), selectinload(SchoolDemand.auto_ecole))
        .order_by(AutoEcole.raison_sociale, AutoEcole.id)).all()
    attributed = dict(db.session.execute(
        select(Unit.auto_ecole_id, func.count(Unit.id)).join(Unit.session)
        .where(Session.department_id == department_id, Session.category_id == category.id,
               Session.date.between(month, _month_end(month)),
               Unit.status == UnitStatus.RESERVED)
        .group_by(Unit.auto_ecole_id)).all())
    free = db.session.scalar(
        select(func.count()).select_from(
            _free_units_query(department_id, month, category.id, now).subquery()))
    rows = [SchoolRow(d.auto_ecole, d, attributed.get(d.auto_ecole_id, 0)) for d in demands]
    return MonthView(month, category, closes_on, rows, free)


# --- the proposal -------------------------------------------------------------------------------


@dataclass
class Line:
    """A run of the preview: "jeudi 17/12/2026, CARCASSONNE, 10:00 - 12:00, 4 unités,
    Inspecteur 2488"."""

    day: dt.date
    start: dt.time
    end: dt.time
    centre: str
    inspector: str
    unit_ids: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.unit_ids)

    @property
    def key(self) -> str:
        """A line is named (in forms and element ids) by its first unit."""
        return str(self.unit_ids[0])


@dataclass
class SchoolProposal:
    row: SchoolRow
    share: int
    wished_free: int
    shortfall: str | None
    lines: list[Line] = field(default_factory=list)

    @property
    def school(self) -> AutoEcole:
        return self.row.school

    @property
    def proposed(self) -> int:
        return sum(line.count for line in self.lines)

    @property
    def missing(self) -> int:
        """Units of its unmet demand the proposal does not cover."""
        return max(0, self.row.gap - self.proposed)


@dataclass
class Proposal:
    view: MonthView
    schools: list[SchoolProposal]

    @property
    def proposed(self) -> int:
        return sum(s.proposed for s in self.schools)

    def plan(self) -> dict[int, list[int]]:
        """{school id: unit ids}: what "Appliquer la répartition" reserves."""
        return {s.school.id: [i for line in s.lines for i in line.unit_ids]
                for s in self.schools if s.lines}


_HALF = {HalfDay.MORNING.value: allocation.MORNING, HalfDay.AFTERNOON.value: allocation.AFTERNOON}


def propose(department_id: int, month: dt.date, category: Category | None, *,
            now: dt.datetime | None = None, keep: dict[int, set[int]] | None = None
            ) -> Proposal:
    """"Proposer une répartition": the month's Dispo AE units split between the schools whose
    demand is not met (rdvpl/allocation.py).

    ``keep`` ({school id: unit ids}) is the preview the BER is editing: only those of the
    proposed lines whose units are all in it are kept (the lines the BER removed are gone).
    """
    view = month_view(department_id, month, category, now=now)
    if category is None:
        return Proposal(view, [])
    free = db.session.scalars(
        _free_units_query(department_id, month, category.id, now)
        .options(selectinload(Unit.session))).all()
    free_units = [allocation.FreeUnit(
        day=u.session.date, start=u.start_time, inspector_id=u.session.inspector_id, id=u.id,
        end=u.end_time, centre_id=u.session.centre_id, session_id=u.session_id) for u in free]
    wanted = [allocation.Demand(
        r.school.id, r.gap, frozenset(c.id for c in r.demand.centres),
        _HALF.get(r.demand.half_day)) for r in view.rows if r.gap > 0]
    result = allocation.allocate(free_units, wanted)
    centres = dict(db.session.execute(select(Centre.id, Centre.name).where(
        Centre.department_id == department_id)).all())
    matricules = dict(db.session.execute(select(Inspector.id, Inspector.matricule).where(
        Inspector.department_id == department_id)).all())
    by_school = {r.school.id: r for r in view.rows}
    schools = []
    for share in result.schools:
        lines = [Line(run.day, run.start, run.end, centres[run.centre_id],
                      f"Inspecteur {matricules[run.inspector_id]}", run.unit_ids)
                 for run in share.runs]
        if keep is not None:
            kept = keep.get(share.school_id, set())
            lines = [line for line in lines if set(line.unit_ids) <= kept]
        schools.append(SchoolProposal(by_school[share.school_id], share.share,
                                      share.wished_free, share.shortfall, lines))
    return Proposal(view, schools)


def apply(actor, plan: dict[int, list[int]], *, now: dt.datetime | None = None
          ) -> dict[int, list[Unit]]:
    """"Appliquer la répartition": every unit of the plan for its school in one transaction,
    or none (booking.reserve_for_schools: BER 4's reservation, one e-mail per school)."""
    return booking.reserve_for_schools(actor, plan, now=now)
