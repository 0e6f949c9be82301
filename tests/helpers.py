"""Lookups and builders shared by the domain tests (inside an app context, on the demo data)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl.extensions import db
from rdvpl.models import (
    AutoEcole,
    Category,
    History,
    Inspector,
    OutboxMail,
    Session,
    Tranche,
    Unit,
    UnitStatus,
)
from rdvpl.planning import build_units, tranche_hours

ALLIANCE = "auto-ecole-aurige-1"  # the ID Aurige of "Alliance Auto-Ecole"


def school(aurige: str = ALLIANCE) -> AutoEcole:
    return db.session.scalar(sa.select(AutoEcole).where(AutoEcole.aurige_id == aurige))


def inspector(last_name: str) -> Inspector:
    return db.session.scalar(sa.select(Inspector).where(Inspector.last_name == last_name))


def category(code: str) -> Category:
    return db.session.scalar(sa.select(Category).where(Category.code == code))


def planned_session(last_name: str, day: dt.date, tranche: Tranche = Tranche.M1, *,
                    reserved=(), for_school: AutoEcole | None = None,
                    category_code: str = "CE") -> Session:
    """A session at the inspector's home centre, planned directly (also in the past): its
    units Dispo AE, those at the ``reserved`` indexes reserved for ``for_school``."""
    who = inspector(last_name)
    start, end = tranche_hours(day, tranche)
    session = Session(department_id=who.department_id, inspector=who, centre=who.home_centre,
                      category=category(category_code), date=day, tranche=tranche,
                      start_time=start, end_time=end)
    build_units(session)
    for i in reserved:
        session.units[i].status = UnitStatus.RESERVED
        session.units[i].auto_ecole = for_school
    db.session.add(session)
    db.session.commit()
    return session


def state() -> dict:
    """Everything a refused action must leave as it was."""
    db.session.expire_all()
    return {
        "units": db.session.execute(sa.select(
            Unit.id, Unit.status, Unit.auto_ecole_id, Unit.reserved_at).order_by(Unit.id)).all(),
        "history": db.session.scalar(sa.select(sa.func.count()).select_from(History)),
        "outbox": db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)),
    }


def refused(exc_type, match, action):
    """Run ``action``; it must raise ``exc_type`` with ``match`` and change nothing."""
    before = state()
    with pytest.raises(exc_type, match=match) as info:
        action()
    db.session.rollback()
    assert state() == before
    return info.value
