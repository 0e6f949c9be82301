"""The append-only history: one row per action, inside the action's own transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import revision
from .extensions import db
from .models import History, Session, Unit, User


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    return value


def snapshot_session(session: Session) -> dict:
    return {
        "inspector_id": session.inspector_id,
        "inspector": session.inspector.nom_prenom,
        "date": _plain(session.date),
        "tranche": session.tranche,
        "start": _plain(session.start_time),
        "end": _plain(session.end_time),
        "centre": session.centre.name,
        "category": session.category.code,
    }


def snapshot_unit(unit: Unit) -> dict:
    return {
        "session_id": unit.session_id,
        "date": _plain(unit.session.date),
        "start": _plain(unit.start_time),
        "end": _plain(unit.end_time),
        "status": unit.status,
        "auto_ecole_id": unit.auto_ecole_id,
        "auto_ecole": unit.auto_ecole.raison_sociale if unit.auto_ecole else None,
    }


def record(
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int,
    *,
    department_id: int | None,
    before: dict | None = None,
    after: dict | None = None,
) -> History:
    """Add one history row to the current transaction (the caller commits)."""
    row = History(
        actor_id=actor.id if actor else None,
        department_id=department_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before={k: _plain(v) for k, v in before.items()} if before else None,
        after={k: _plain(v) for k, v in after.items()} if after else None,
    )
    db.session.add(row)
    if department_id is not None and object_type not in revision.NOT_ON_GRIDS:
        revision.grid_changed(department_id)
    return row
