"""Read side of "Gérer les créneaux" (BER 4-5): the week grid of units, the summary of
unassigned units, the selection panel, the school search and a unit's history.

Domain reads only: no request, no templates, no change (rdvpl/booking.py makes them). Every
query is scoped by the BER's department (single records through rdvpl/scopes.py), and the grid
uses a fixed number of SQL statements whatever the number of inspectors.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from itertools import groupby
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from . import dates, grid_cache
from .extensions import db
from .models import (
    STATUS_WORDS,
    AutoEcole,
    Category,
    Centre,
    FavouriteInspector,
    History,
    Inspector,
    Session,
    Tranche,
    Unit,
    UnitStatus,
    User,
)

# The guide's "Catégorie de permis" filter on this screen. "A" covers "A HC" and "A CIR".
CATEGORY_FILTERS = ("A", "B", "CE", "Tous")
ALL_CATEGORIES = "Tous"




def _category_clause(category: str | None):
    if not category or category == ALL_CATEGORIES:
        return None
    return or_(Category.code == category, Category.code.like(f"{category} %"))


# "Tous les inspecteurs" loads the week by chunks of inspectors as they scroll into view: a
# chunk of 6 inspectors (480 units at 20 sessions a week) stays well under 300 KB of HTML.
ALL_INSPECTORS = "tous"
CHUNK = 6

SESSION_NUMBER = {t.value: t.number for t in Tranche}  # "Session 4" for S2


@dataclass(frozen=True)
class InspectorChoice:
    """An inspector of the filter "Inspecteur" (plain values, no ORM object)."""

    id: int
    prenom_nom: str  # 'Anna DUMAS', the filter's and the headings' spelling
    nom_prenom: str  # 'DUMAS Anna', the accessible names' spelling
    home_centre: str
    favourite: bool


class UnitCell(NamedTuple):
    """One unit as the grid shows it; ``name`` is its accessible name without the state:
    'DUMAS Anna, vendredi 11/02/2022, 15:30 - 16:00' (SPEC "Named controls")."""

    id: int
    status: str
    hours: str  # '15:30 - 16:00'
    name: str
    state: str  # 'Dispo AE', 'Indispo' or the school's raison sociale
    past: bool  # started: shown, no longer actionable


@dataclass
class SessionBox:
    number: int  # "Session 4" for S2
    centre: str
    category: str
    units: list[UnitCell] = field(default_factory=list)


@dataclass
class DayColumn:
    day: dt.date
    title: str  # 'LUN. 07/02'
    label: str  # 'Anna DUMAS, lundi 07/02/2022' (the day's group)
    today: bool
    sessions: list[SessionBox] = field(default_factory=list)
    closed: str = ""  # 'Jour férié (Noël)': nothing can be planned that day


@dataclass
class CreneauxInspector:
    """One inspector's week in "Gérer les créneaux": the sessions of each day, Monday to
    Saturday, with their units, every string ready to print."""

    inspector: InspectorChoice
    days: list[DayColumn]


@dataclass
class CreneauxWeek:
    """What the grid shows: ``rows`` for the inspectors of this chunk; ``next_start`` is the
    position of the next chunk in "Tous les inspecteurs" (None: nothing more to load);
    ``total`` is how many inspectors have a session that week."""

    rows: list[CreneauxInspector]
    start: int = 0
    next_start: int | None = None
    total: int = 0


class CachedGrid(NamedTuple):
    """What the page needs of a grid whose rows come rendered from the cache."""

    rows: bool  # whether the grid has any row
    start: int  # the first inspector shown (live grids refresh from there)


def inspector_choices(department_id: int, user_id: int | None = None) -> list[InspectorChoice]:
    """The department's active inspectors by name, with their home centre and whether
    ``user_id`` marked them as favourites. One SQL statement."""
    favourite = (
        select(FavouriteInspector.id)
        .where(FavouriteInspector.inspector_id == Inspector.id,
               FavouriteInspector.user_id == user_id)
        .exists()
    )
    rows = db.session.execute(
        select(Inspector.id, Inspector.first_name, Inspector.last_name, Centre.name, favourite)
        .join(Centre, Centre.id == Inspector.home_centre_id)
        .where(Inspector.department_id == department_id, Inspector.active.is_(True))
        .order_by(Inspector.last_name, Inspector.first_name, Inspector.id)
    ).all()
    return [InspectorChoice(i, f"{first} {last.upper()}", f"{last.upper()} {first}", centre,
                            bool(fav))
            for i, first, last, centre, fav in rows]


def default_inspector(choices: list[InspectorChoice]) -> InspectorChoice | None:
    """The inspector shown first, as in the guide: the agent's first favourite by name, else
    the first inspector by name (``choices`` are sorted by name)."""
    return next((c for c in choices if c.favourite), choices[0] if choices else None)


def creneaux_week(
    department_id: int,
    monday: dt.date,
    choices: list[InspectorChoice],
    *,
    inspector_id: int | None = None,
    category: str | None = None,
    start: int = 0,
    size: int = CHUNK,
    now: dt.datetime | None = None,
) -> CreneauxWeek:
    """The units of the week, grouped by inspector, day and session, ready to render.

    With ``inspector_id``, that inspector's week (shown even without a session). Without it,
    the inspectors having a session that week, by name, ``size`` of them from ``start``.
    Two SQL statements whatever the number of inspectors, sessions and units.
    """
    days = dates.week_days(monday)
    clause = _category_clause(category)
    if inspector_id is not None:
        shown = [c for c in choices if c.id == inspector_id]
        grid = CreneauxWeek([], total=len(shown))
    else:
        query = (select(Session.inspector_id).distinct()
                 .where(Session.department_id == department_id,
                        Session.date.between(days[0], days[-1])))
        if clause is not None:
            query = query.join(Session.category).where(clause)
        having = set(db.session.scalars(query))
        ordered = [c for c in choices if c.id in having]
        start = max(0, start)
        shown = ordered[start:start + size]
        following = start + size
        grid = CreneauxWeek([], start, following if following < len(ordered) else None,
                        len(ordered))
    if not shown:
        return grid

    query = (
        select(Session.inspector_id, Session.date, Session.tranche, Centre.name, Category.code,
               Unit.id, Unit.start_time, Unit.end_time, Unit.status, AutoEcole.raison_sociale)
        .select_from(Unit)
        .join(Session, Unit.session_id == Session.id)
        .join(Centre, Centre.id == Session.centre_id)
        .join(Category, Category.id == Session.category_id)
        .outerjoin(AutoEcole, AutoEcole.id == Unit.auto_ecole_id)
        .where(Session.department_id == department_id,
               Session.date.between(days[0], days[-1]),
               Session.inspector_id.in_([c.id for c in shown]))
        .order_by(Session.inspector_id, Session.date, Session.start_time, Unit.start_time)
    )
    if clause is not None:
        query = query.where(clause)
    wall = dates.paris_wall_clock(now)
    # Babel once per day, not once per unit.
    day_words = {d: (dates.colonne(d), dates.jour_date(d)) for d in days}
    closed = {d: f"Jour férié ({name})" if (name := dates.public_holiday(d)) else ""
              for d in days}
    hours: dict[tuple[dt.time, dt.time], str] = {}
    columns: dict[int, dict[dt.date, DayColumn]] = {}
    for c in shown:
        columns[c.id] = {d: DayColumn(d, day_words[d][0], f"{c.prenom_nom}, {day_words[d][1]}",
                                      d == wall.date(), closed=closed[d])
                         for d in days}
    names = {c.id: c.nom_prenom for c in shown}
    box, key = None, None
    for (insp, day, tranche, centre, code, unit_id, begin, end, status,
         school) in db.session.execute(query):
        if (insp, day, tranche) != key:
            key = (insp, day, tranche)
            box = SessionBox(SESSION_NUMBER[tranche], centre, code)
            columns[insp][day].sessions.append(box)
        label = hours.get((begin, end))
        if label is None:
            label = hours[(begin, end)] = f"{begin:%H:%M} - {end:%H:%M}"
        state = school if status == UnitStatus.RESERVED else STATUS_WORDS[status]
        past = day < wall.date() or (day == wall.date() and begin <= wall.time())
        box.units.append(UnitCell(unit_id, status, label,
                                  f"{names[insp]}, {day_words[day][1]}, {label}", state, past))
    grid.rows = [CreneauxInspector(c, list(columns[c.id].values())) for c in shown]
    return grid


def unit_cells(department_id: int, unit_ids, *, now: dt.datetime | None = None
               ) -> list[UnitCell]:
    """Some units of the department as the grid shows them (to swap them alone, by id),
    by date and hour. One SQL statement."""
    ids = {i for i in unit_ids if isinstance(i, int)}
    if not ids:
        return []
    wall = dates.paris_wall_clock(now)
    rows = db.session.execute(
        select(Inspector.last_name, Inspector.first_name, Session.date, Unit.id,
               Unit.start_time, Unit.end_time, Unit.status, AutoEcole.raison_sociale)
        .select_from(Unit)
        .join(Session, Unit.session_id == Session.id)
        .join(Inspector, Inspector.id == Session.inspector_id)
        .outerjoin(AutoEcole, AutoEcole.id == Unit.auto_ecole_id)
        .where(Unit.id.in_(ids), Session.department_id == department_id)
        .order_by(Session.date, Unit.start_time, Unit.id)
    )
    cells = []
    for last, first, day, unit_id, begin, end, status, school in rows:
        label = f"{begin:%H:%M} - {end:%H:%M}"
        state = school if status == UnitStatus.RESERVED else STATUS_WORDS[status]
        past = day < wall.date() or (day == wall.date() and begin <= wall.time())
        cells.append(UnitCell(unit_id, status, label,
                              f"{last.upper()} {first}, {dates.jour_date(day)}, {label}",
                              state, past))
    return cells



class InspectorName(NamedTuple):
    first_name: str
    last_name: str

    @property
    def prenom_nom(self) -> str:
        """'Pierrette MARAIS', as the summary writes it."""
        return f"{self.first_name} {self.last_name.upper()}"


@dataclass
class SummaryLine:
    count: int
    category: str
    inspector: InspectorName


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
    wall = dates.paris_wall_clock(now)
    query = (
        select(Inspector.first_name, Inspector.last_name, Category.code, Category.position,
               func.count(Unit.id))
        .select_from(Unit)
        .join(Unit.session)
        .join(Session.inspector)
        .join(Session.category)
        .where(
            Session.department_id == department_id,
            # Implied by the session's department; said too, so that PostgreSQL reads the
            # department's 60 inspectors by index instead of hashing every inspector of the
            # country (which also tipped the plan into a parallel query: 11.8 -> 4.5 ms on the
            # national database).
            Inspector.department_id == department_id,
            Session.date.between(days[0], days[-1]),
            Unit.status == UnitStatus.DISPO,
            or_(Session.date > wall.date(),
                and_(Session.date == wall.date(), Unit.start_time > wall.time())),
        )
        .group_by(Inspector.id, Inspector.first_name, Inspector.last_name, Category.code,
                  Category.position)
    )
    clause = _category_clause(category)
    if clause is not None:
        query = query.where(clause)
    rows = db.session.execute(query).all()
    totals: dict[tuple[int, str], int] = {}
    for _, _, code, position, count in rows:
        totals[(position, code)] = totals.get((position, code), 0) + count
    lines = [SummaryLine(count, code, InspectorName(first, last))
             for first, last, code, _, count in rows]
    lines.sort(key=lambda line: (-line.count, line.inspector.last_name,
                                 line.inspector.first_name, line.category))
    return Summary([(code, n) for (_, code), n in sorted(totals.items())], lines)



def selection_by_day(units: list[Unit]) -> list[tuple[dt.date, list[Unit]]]:
    """The selected units grouped by day, as in the panel "Unité(s) en cours d'attribution"."""
    return [(day, list(group)) for day, group in groupby(units, key=lambda u: u.session.date)]


def _fold(text: str) -> str:
    """Lower case without accents: "Auto-École" and "auto-ecole" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class SchoolOption(NamedTuple):
    """A suggestion of "Rechercher une auto-école"."""

    id: int
    raison_sociale: str
    aurige_id: str


def search_schools(department_id: int, text: str | None, *, limit: int = 8
                   ) -> list[SchoolOption]:
    """The department's active schools whose raison sociale or ID Aurige contains ``text``, ignoring
    case and accents. A department has a few hundred schools at most: they are compared in
    Python, the same way on SQLite and PostgreSQL, from a list read and folded once per grid
    revision (a school created, renamed or deactivated moves the revision; rdvpl/grid_cache.py)
    rather than on every keystroke."""
    needle = _fold(text).strip()
    if not needle:
        return []

    def build():
        rows = db.session.execute(
            select(AutoEcole.id, AutoEcole.raison_sociale, AutoEcole.aurige_id)
            .where(AutoEcole.department_id == department_id, AutoEcole.active.is_(True))
            .order_by(AutoEcole.raison_sociale)
        ).all()
        return [[i, name, aurige, _fold(name), _fold(aurige)] for i, name, aurige in rows]

    schools = grid_cache.cached_value(department_id, "school-search", [], build)
    found = [s for s in schools if needle in s[3] or needle in s[4]]
    # Names starting with the text first, then the rest, each alphabetically.
    found.sort(key=lambda s: (not s[3].startswith(needle), s[3]))
    return [SchoolOption(i, name, aurige) for i, name, aurige, _, _ in found[:limit]]


@dataclass
class UnitEvent:
    """One line of a unit's history, ready to be worded by the template."""

    at: dt.datetime  # Paris wall clock
    actor: User | None
    kind: str  # "reserved", "cancelled", "status"
    school: str | None  # the school reserved for / whose exam was cancelled
    status: str | None  # the status after the action
    # A candidate named, changed or removed (kinds "candidate_named", "candidate_changed",
    # "candidate_removed"): "DUPONT Jean (NEPH …9012)", the one before a change, why removed.
    candidate: str | None = None
    previous: str | None = None
    reason: str | None = None


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
        at = row.at.replace(tzinfo=dt.UTC).astimezone(dates.PARIS).replace(tzinfo=None)
        if row.action.startswith("candidate."):
            kind = "candidate_" + row.action.partition(".")[2]
            shown = after if "candidat" in after else before
            events.append(UnitEvent(
                at, row.actor, kind, shown.get("auto_ecole"), None,
                candidate=_candidate_words(shown),
                previous=_candidate_words(before) if kind == "candidate_changed" else None,
                reason=after.get("motif")))
            continue
        status = after.get("status")
        if status == UnitStatus.RESERVED:
            kind, school = "reserved", after.get("auto_ecole")
        elif before.get("status") == UnitStatus.RESERVED:
            kind, school = "cancelled", before.get("auto_ecole")
        elif status:
            kind, school = "status", None
        else:
            continue
        events.append(UnitEvent(at, row.actor, kind, school, status))
    return events


def _candidate_words(snapshot: dict) -> str | None:
    """'DUPONT Jean (NEPH se terminant par 9012)', from a history snapshot."""
    if not snapshot.get("candidat"):
        return None
    return f"{snapshot['candidat']} (NEPH se terminant par {snapshot.get('neph_fin', '?')})"


# --- live grids: the agent's selection against the units as they are now --------------------

# A selection longer than a week of units is not an agent's: the rest is ignored.
MAX_SELECTION = 500


class TakenUnit(NamedTuple):
    """A ticked unit that can no longer be reserved, and why: "reserved" (by another agent or
    a school), "indispo", "started", or "gone" (its session was deleted; ``unit`` is None)."""

    why: str
    unit: Unit | None


def check_selection(department_id: int, unit_ids, *, now: dt.datetime | None = None
                    ) -> tuple[list[Unit], list[TakenUnit]]:
    """The ticked units still selectable (Dispo AE, not started) by date and hour, and those
    taken meanwhile. An id the department does not have (deleted, or never its own) is "gone",
    named by nothing. One SQL statement."""
    ids = list(dict.fromkeys(i for i in unit_ids if isinstance(i, int)))[:MAX_SELECTION]
    if not ids:
        return [], []
    found = {u.id: u for u in db.session.scalars(
        select(Unit).join(Unit.session)
        .where(Unit.id.in_(ids), Session.department_id == department_id)
        .options(contains_eager(Unit.session).options(
            joinedload(Session.inspector), joinedload(Session.centre),
            joinedload(Session.category)))
        .order_by(Session.date, Unit.start_time, Session.inspector_id)
        .execution_options(populate_existing=True)
    ).unique()}
    wall = dates.paris_wall_clock(now)
    still, taken = [], []
    for unit in found.values():
        if unit.status == UnitStatus.RESERVED:
            taken.append(TakenUnit("reserved", unit))
        elif unit.status != UnitStatus.DISPO:
            taken.append(TakenUnit("indispo", unit))
        elif dates.has_started(unit.session.date, unit.start_time, wall):
            taken.append(TakenUnit("started", unit))
        else:
            still.append(unit)
    taken += [TakenUnit("gone", None) for i in ids if i not in found]
    return still, taken
