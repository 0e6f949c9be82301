"""Every "this X of my department / of my school, else 404" in one place.

The ``get_post`` idea of Flask's tutorial and the policy scopes of rdv-service-public: a record
is loaded *through* the department (BER) or the school (AE) that may see it, so that another
department's id, an unknown id and a tampered one all read the same: ``NotFound`` with the
French message the user sees (answered 404 by the app's error handler). Routes and domain
functions load through these helpers, never with a bare ``db.session.get``.

Every helper takes the scope first (``department_id`` or ``school_id``) and an id that may come
straight from a request: anything but an int is unknown.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from .errors import DomainError, NotFound
from .extensions import db
from .models import AutoEcole, Centre, Inspector, Session, Unit, UnitStatus

INSPECTOR_NOT_FOUND = (
    "Inspecteur introuvable : il n'existe pas ou n'appartient pas à votre département."
)
UNIT_NOT_FOUND = "Unité introuvable : elle n'existe pas ou n'appartient pas à votre département."
SCHOOL_NOT_FOUND = (
    "Auto-école introuvable : elle n'existe pas ou n'est pas rattachée à votre département."
)
CENTRE_NOT_FOUND = "Centre introuvable."
SESSION_NOT_FOUND = "Session introuvable."
# The planning screen names a missing inspector or session in fewer words (its banner).
PLANNING_INSPECTOR_NOT_FOUND = "Inspecteur introuvable."
SESSION_GONE = "Session introuvable : elle a peut-être déjà été supprimée."
SCHOOL_UNIT_NOT_FOUND = "Cette unité n'est pas (ou plus) réservée pour votre auto-école."


def _get(model, object_id):
    return db.session.get(model, object_id) if isinstance(object_id, int) else None


# --- a department's records (BER) -------------------------------------------------------------


def inspector(department_id: int, inspector_id, *, message: str = INSPECTOR_NOT_FOUND
              ) -> Inspector:
    """An inspector of the department, or NotFound."""
    found = _get(Inspector, inspector_id)
    if found is None or found.department_id != department_id:
        raise NotFound(message)
    return found


def inspectors(department_id: int, inspector_ids) -> dict[int, Inspector]:
    """Those of ``inspector_ids`` that are inspectors of the department, by id (one statement;
    the caller says which one is missing)."""
    ids = {i for i in inspector_ids if isinstance(i, int)}
    if not ids:
        return {}
    return {i.id: i for i in db.session.scalars(
        select(Inspector).where(Inspector.id.in_(ids), Inspector.department_id == department_id)
    )}


def department_inspectors(department_id: int) -> list[Inspector]:
    """Every active inspector of the department (those that can be chosen), with their home
    centre (unordered). A deactivated one keeps its past sessions but leaves the choices."""
    return list(db.session.scalars(
        select(Inspector)
        .options(joinedload(Inspector.home_centre))
        .where(Inspector.department_id == department_id, Inspector.active.is_(True))
    ))


def centre(department_id: int, centre_id) -> Centre:
    """An exam centre of the department, or NotFound."""
    found = _get(Centre, centre_id)
    if found is None or found.department_id != department_id:
        raise NotFound(CENTRE_NOT_FOUND)
    return found


def department_centres(department_id: int) -> list[Centre]:
    """The department's active exam centres by name (those that can be chosen)."""
    return list(db.session.scalars(
        select(Centre).where(Centre.department_id == department_id, Centre.active.is_(True))
        .order_by(Centre.name)
    ))


def school(department_id: int, school_id) -> AutoEcole:
    """A driving school of the department that can be chosen, or NotFound; a deactivated one is
    refused with its own message (it keeps its past exams but receives no new ones)."""
    # With its department: the e-mails to the school name it (one statement, not two).
    found = (db.session.get(AutoEcole, school_id, options=[joinedload(AutoEcole.department)])
             if isinstance(school_id, int) else None)
    if found is None or found.department_id != department_id:
        raise NotFound(SCHOOL_NOT_FOUND)
    if not found.active:
        raise DomainError(f"L'auto-école {found.raison_sociale} est désactivée : elle ne peut "
                          "plus recevoir de places d'examen.", title="Auto-école désactivée")
    return found


def session(department_id: int, session_id, *, message: str = SESSION_NOT_FOUND,
            lock: bool = False) -> Session:
    """A session of the department with its inspector, centre, category, units and their
    schools, or NotFound. ``lock``: the session and its units are locked first (FOR UPDATE on
    PostgreSQL), so that no reservation slips in while it is being deleted."""
    if not isinstance(session_id, int):
        raise NotFound(message)
    if lock:
        locked = db.session.scalar(
            select(Session)
            .where(Session.id == session_id, Session.department_id == department_id)
            .with_for_update()
        )
        if locked is None:
            raise NotFound(message)
        db.session.scalars(select(Unit).where(Unit.session_id == session_id)
                           .with_for_update()).all()
    found = db.session.scalar(
        select(Session)
        .options(joinedload(Session.inspector), joinedload(Session.centre),
                 joinedload(Session.category),
                 selectinload(Session.units).joinedload(Unit.auto_ecole))
        .where(Session.id == session_id, Session.department_id == department_id)
    )
    if found is None:
        raise NotFound(message)
    return found


def units(department_id: int, unit_ids, *, lock: bool = False) -> list[Unit]:
    """The units (with session, inspector, centre, category, school), sorted by date and hour;
    NotFound if any id is unknown, tampered or of another department. ``lock``: the units are
    locked first (FOR UPDATE on PostgreSQL), in unit-id order, so that overlapping changes wait
    for each other instead of deadlocking."""
    ids = set(unit_ids)
    if not ids:
        return []
    if not all(isinstance(i, int) for i in ids):
        raise NotFound(UNIT_NOT_FOUND)
    in_department = (Unit.id.in_(ids), Session.department_id == department_id)
    if lock:
        db.session.execute(select(Unit.id).join(Unit.session).where(*in_department)
                           .order_by(Unit.id).with_for_update(of=Unit))
    found = db.session.scalars(
        select(Unit).join(Unit.session)
        .where(*in_department)
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
    if len(found) != len(ids):
        raise NotFound(UNIT_NOT_FOUND)
    return found


def unit(department_id: int, unit_id) -> Unit:
    """One unit of the department, or NotFound."""
    return units(department_id, [unit_id])[0]


# --- a school's records (AE) ------------------------------------------------------------------


def school_units_query(school_id: int):
    """The school's reserved units with their session, centre, inspector and category (a query
    to narrow down further)."""
    return (
        select(Unit)
        .join(Unit.session)
        .join(Session.centre)
        .join(Session.inspector)
        .join(Session.category)
        .where(Unit.auto_ecole_id == school_id, Unit.status == UnitStatus.RESERVED)
        .options(
            contains_eager(Unit.session).options(
                contains_eager(Session.centre),
                contains_eager(Session.inspector),
                contains_eager(Session.category),
            )
        )
    )


def school_unit(school_id: int, unit_id) -> Unit:
    """A unit reserved for the school (with its session, centre, inspector, category), or
    NotFound: another school's, a free or an unknown unit read the same."""
    found = None
    if isinstance(unit_id, int):
        found = db.session.scalar(school_units_query(school_id).where(Unit.id == unit_id))
    if found is None:
        raise NotFound(SCHOOL_UNIT_NOT_FOUND)
    return found

