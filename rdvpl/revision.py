"""A department's grid revision: one integer, increased in the very transaction of every change
to what the department's grids show (a session planned or removed, a unit reserved, cancelled or
closed, an absence, a Saturday, a renamed inspector, centre or school).

Open grids compare it to the one they were rendered at (live updates), and rendered grid rows
are cached under it: a page never shows a change later than the next read of this number.

Every such change writes a history row for its department (rdvpl.history.record), so that is
where a change is noticed: ``grid_changed`` marks the department on the SQLAlchemy session, and
the increase is written just before the commit, after every other statement of the transaction
(PostgreSQL: the department's row is always the last lock taken, so transactions that lock units
or sessions in their fixed order never deadlock on it). A rollback forgets the mark.
"""

from __future__ import annotations

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session as OrmSession

from .extensions import db
from .models import Department

_KEY = "rdvpl_grid_changed"

# History object types that no grid shows: their rows do not change the revision.
NOT_ON_GRIDS = frozenset({"demand", "demand_closing", "department", "outbox_mail", "user"})


def grid_changed(department_id: int, session: OrmSession | None = None) -> None:
    """Mark the department's grids as changed by the current transaction."""
    session = session if session is not None else db.session()
    session.info.setdefault(_KEY, set()).add(department_id)


def current(department_id: int) -> int:
    """The department's grid revision as last committed (one primary-key read)."""
    value = db.session.execute(
        select(Department.grid_revision).where(Department.id == department_id)
    ).scalar_one_or_none()
    return value or 0


# The revisions _increase writes ({department id: revision}), kept once the commit succeeded,
# for the answer to the request (committed_revisions): the agent's own page adopts the revision
# of its own change instead of refreshing its grid for it.
_WRITING = "rdvpl_grid_writing"
_WRITTEN = "rdvpl_grid_written"


@event.listens_for(OrmSession, "before_commit")
def _increase(session: OrmSession) -> None:
    departments = session.info.pop(_KEY, None)
    for department_id in sorted(departments or ()):
        written = session.execute(
            update(Department)
            .where(Department.id == department_id)
            .values(grid_revision=Department.grid_revision + 1)
            .returning(Department.grid_revision)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if written is not None:
            session.info.setdefault(_WRITING, {})[department_id] = written


@event.listens_for(OrmSession, "after_commit")
def _written(session: OrmSession) -> None:
    session.info.setdefault(_WRITTEN, {}).update(session.info.pop(_WRITING, {}))


def committed_revisions(session: OrmSession) -> dict[int, int]:
    """The revisions the commits of this session wrote, {department id: revision}. The page
    that made the change was at that revision minus one when nobody else changed the grids in
    between: it then shows the change already, and needs no refresh."""
    return session.info.get(_WRITTEN, {})


@event.listens_for(OrmSession, "after_rollback")
@event.listens_for(OrmSession, "after_soft_rollback")
def _forget(session: OrmSession, *args) -> None:  # noqa: ARG001
    session.info.pop(_KEY, None)
    session.info.pop(_WRITING, None)
