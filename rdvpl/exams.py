"""The driving school's read model: "Mes examens programmés" (AE 1; domain, no request).

A *row* is a run of consecutive units reserved for the school (the end of one is the start of
the next) with one inspector, at one centre, on one day, in one category. Runs are grouped by
time only, as the guide does: they may cross two sessions of the same inspector when the
sessions touch (M1 08:00-10:00 then M2 10:00-12:00, or the guide's "14:30 — 2 unités" made of
the last unit of S1 and the first of S2), but not the lunch break (M2 ends 12:00, S1 starts
13:00). Rows are grouped into months, in chronological order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select

from . import scopes
from .errors import NotFound
from .extensions import db
from .models import Category, Centre, Inspector, Session, Unit, UnitStatus

# The category selected when the school has units in it (the guide's example).
DEFAULT_CATEGORY = "CE"


@dataclass
class ExamRow:
    """Consecutive units of one inspector at one centre on one day: one line of a table
    (units of the ORM for a dialog, ListedUnit for the tables)."""

    units: list[Unit] | list[ListedUnit]

    @property
    def session(self) -> Session | ListedSession:
        return self.units[0].session

    @property
    def day(self) -> dt.date:
        return self.session.date

    @property
    def start(self) -> dt.time:
        """The "Heure de convocation"."""
        return self.units[0].start_time

    @property
    def end(self) -> dt.time:
        return self.units[-1].end_time

    @property
    def centre(self) -> Centre:
        return self.session.centre

    @property
    def inspector(self) -> Inspector:
        return self.session.inspector

    @property
    def category(self) -> Category:
        return self.session.category

    @property
    def count(self) -> int:
        return len(self.units)

    @property
    def first_unit_id(self) -> int:
        """A row is addressed (in URLs, element ids) by its first unit."""
        return self.units[0].id


@dataclass
class MonthTable:
    month: dt.date  # the first day of the month
    rows: list[ExamRow] = field(default_factory=list)


def _row_key(unit: Unit) -> tuple:
    s = unit.session
    return (s.date, s.inspector_id, s.centre_id, s.category_id)


def group_rows(units: list[Unit] | list[ListedUnit]) -> list[ExamRow]:
    """Group units (in any order) into rows, sorted by day, hour, centre and inspector."""
    ordered = sorted(units, key=lambda u: (*_row_key(u), u.start_time))
    rows: list[ExamRow] = []
    for unit in ordered:
        last = rows[-1].units[-1] if rows else None
        if last and _row_key(last) == _row_key(unit) and last.end_time == unit.start_time:
            rows[-1].units.append(unit)
        else:
            rows.append(ExamRow([unit]))
    rows.sort(key=lambda r: (r.day, r.start, r.centre.name, r.inspector.matricule))
    return rows


def group_months(rows: list[ExamRow]) -> list[MonthTable]:
    """One table per month, months and rows in chronological order."""
    months: dict[dt.date, MonthTable] = {}
    for row in sorted(rows, key=lambda r: (r.day, r.start, r.centre.name)):
        first = row.day.replace(day=1)
        months.setdefault(first, MonthTable(first)).rows.append(row)
    return [months[m] for m in sorted(months)]



def school_categories(school_id: int) -> list[Category]:
    """The categories the school has reserved units in (any date), in the usual order."""
    return list(
        db.session.scalars(
            select(Category)
            .where(
                Category.id.in_(
                    select(Session.category_id)
                    .join(Unit, Unit.session_id == Session.id)
                    .where(Unit.auto_ecole_id == school_id, Unit.status == UnitStatus.RESERVED)
                )
            )
            .order_by(Category.position, Category.code)
        )
    )


def choose_category(categories: list[Category], code: str | None) -> Category | None:
    """The category asked for in the URL if the school has units in it, else CE, else the first."""
    by_code = {c.code: c for c in categories}
    if code in by_code:
        return by_code[code]
    return by_code.get(DEFAULT_CATEGORY) or (categories[0] if categories else None)


class ListedSession(NamedTuple):
    """What a table row needs of a unit's session: its own columns, and the centre, inspector
    and category as ORM objects loaded once each."""

    date: dt.date
    inspector_id: int
    centre_id: int
    category_id: int
    centre: Centre
    inspector: Inspector
    category: Category


class ListedUnit(NamedTuple):
    """A unit of the tables, read as plain columns: a busy school has hundreds of upcoming
    units, and building an ORM object for each unit and session cost most of the page."""

    id: int
    start_time: dt.time
    end_time: dt.time
    session: ListedSession


def scheduled_rows(school_id: int, category: Category, *, past: bool, today: dt.date
                   ) -> list[ExamRow]:
    """The school's exams of one category: upcoming (from today) or past ones, in
    chronological order (3 statements: the units, their centres, their inspectors)."""
    query = (
        select(Unit.id, Unit.start_time, Unit.end_time, Session.date, Session.inspector_id,
               Session.centre_id)
        .join(Unit.session)
        .where(Unit.auto_ecole_id == school_id, Unit.status == UnitStatus.RESERVED,
               Session.category_id == category.id,
               Session.date < today if past else Session.date >= today)
    )
    found = db.session.execute(query).all()
    if not found:
        return []
    centres = _by_id(Centre, {r.centre_id for r in found})
    inspectors = _by_id(Inspector, {r.inspector_id for r in found})
    units = [
        ListedUnit(r.id, r.start_time, r.end_time, ListedSession(
            r.date, r.inspector_id, r.centre_id, category.id, centres[r.centre_id],
            inspectors[r.inspector_id], category))
        for r in found
    ]
    rows = group_rows(units)
    rows.sort(key=lambda r: (r.day, r.start, r.centre.name))
    return rows


def _by_id(model, ids: set[int]) -> dict:
    return {o.id: o for o in db.session.scalars(select(model).where(model.id.in_(ids)))}


def row_containing(school_id: int, unit_id: int) -> ExamRow:
    """The row (of the school's reserved units) that holds ``unit_id``; NotFound otherwise."""
    unit = scopes.school_unit(school_id, unit_id)
    s = unit.session
    same_run = scopes.school_units_query(school_id).where(
        Session.date == s.date,
        Session.inspector_id == s.inspector_id,
        Session.centre_id == s.centre_id,
        Session.category_id == s.category_id,
    )
    for row in group_rows(list(db.session.scalars(same_run).unique())):
        if any(u.id == unit_id for u in row.units):
            return row
    raise NotFound()  # pragma: no cover - the unit is in one of the rows


# Rows per page: a school's busiest months hold hundreds of runs, the page stays light
# (about 60 KB of rows); the next rows load as the end of the page scrolls into view.
PAGE_ROWS = 120


@dataclass
class ExamsView:
    """What "Mes examens programmés" shows for one school, category and period: one page of
    ``PAGE_ROWS`` rows, by month (``continued``: the first month began on the page before)."""

    categories: list[Category]
    category: Category | None
    past: bool
    months: list[MonthTable]
    page: int = 1
    total_rows: int = 0
    continued: bool = False

    @property
    def next_rows(self) -> tuple[int, int]:
        """The positions (from 1) of the next page's first and last rows."""
        start = self.page * PAGE_ROWS
        return start + 1, min(start + PAGE_ROWS, self.total_rows)

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page * PAGE_ROWS < self.total_rows else None

    @property
    def query(self) -> dict[str, str]:
        """The URL arguments that keep this view (category, and the period when past)."""
        query = {"categorie": self.category.code} if self.category else {}
        if self.past:
            query["periode"] = "passes"
        return query


def school_exams(
    school_id: int, category_code: str | None, *, past: bool, today: dt.date, page: int = 1,
    categories: list[Category] | None = None,
) -> ExamsView:
    """The school's categories (``categories`` when the caller has read them already), the
    one selected and one page of its exams by month (4 statements when it has exams in the
    category, else 2)."""
    if categories is None:
        categories = school_categories(school_id)
    category = choose_category(categories, category_code)
    rows = scheduled_rows(school_id, category, past=past, today=today) if category else []
    page = max(1, min(page, (len(rows) - 1) // PAGE_ROWS + 1))
    first = (page - 1) * PAGE_ROWS
    shown = rows[first:first + PAGE_ROWS]
    continued = bool(shown) and first > 0 and rows[first - 1].day.replace(day=1) == \
        shown[0].day.replace(day=1)
    return ExamsView(categories, category, past, group_months(shown), page, len(rows), continued)


def row_near(view: ExamsView, day: dt.date, start: dt.time) -> int | None:
    """The row to give the focus to after a unit of ``day`` at ``start`` was cancelled (its
    first unit id): the row of that day starting last before it, else the day's first one;
    when no row is left that day, the next row, else the last one; None when the table is
    empty."""
    rows = [r for m in view.months for r in m.rows]
    if not rows:
        return None
    same_day = [r for r in rows if r.day == day]
    if same_day:
        before = [r for r in same_day if r.start <= start]
        return (before[-1] if before else same_day[0]).first_unit_id
    later = [r for r in rows if r.day > day]
    return (later[0] if later else rows[-1]).first_unit_id
