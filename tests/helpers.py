"""Lookups and builders shared by the domain tests (inside an app context, on the demo data)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa

from rdvpl.extensions import db
from rdvpl.models import (
    AutoEcole,
    Category,
    Centre,
    Department,
    FavouriteInspector,
    History,
    Inspector,
    OutboxMail,
    Role,
    Session,
    Tranche,
    Unit,
    UnitStatus,
    User,
    WorkedSaturday,
)
from rdvpl.sessions import new_session

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
    session = new_session(who, who.home_centre, category(category_code), day, tranche)
    for i in reserved:
        session.units[i].status = UnitStatus.RESERVED
        session.units[i].auto_ecole = for_school
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


AGENT_PASSWORD = "secret-password"


def department_with(n: int, code: str, sessions, *, worked_saturday: dt.date | None = None,
                    favourites: bool = False, reserve_first: bool = False) -> str:
    """A department ``code`` with a BER agent and ``n`` inspectors, each with a CE session on
    every (day, tranche) of ``sessions``. Options: each inspector works ``worked_saturday``;
    every other one is the agent's favourite; the first unit of each session is reserved for a
    school of its own (so that loading anything lazily would show in a statement count).
    Returns the agent's e-mail (password AGENT_PASSWORD)."""
    department = Department(code=code, name=f"Test {code}", ber_email=f"ber{code}@example.test")
    centre = Centre(department=department, name=f"CENTRE {code}")
    ce = category("CE") or Category(code="CE", heavy=True)
    agent = User(email=f"agent{code}@example.test", first_name="Agent", last_name=code,
                 role=Role.BER, department=department)
    agent.set_password(AGENT_PASSWORD)
    db.session.add_all([department, centre, agent])
    db.session.flush()
    for i in range(n):
        who = Inspector(department=department, home_centre=centre, last_name=f"NOM{i:03d}",
                        first_name="Prénom", matricule=f"{code}-{i}")
        db.session.add(who)
        if worked_saturday:
            db.session.add(WorkedSaturday(inspector=who, date=worked_saturday))
        for j, (day, tranche) in enumerate(sessions):
            session = new_session(who, centre, ce, day, tranche)
            if reserve_first:
                session.units[0].status = UnitStatus.RESERVED
                session.units[0].auto_ecole = AutoEcole(
                    department=department, raison_sociale=f"École {code}-{i}-{j}",
                    aurige_id=f"aurige-{code}-{i}-{j}", email=f"ecole{code}-{i}-{j}@example.test")
        db.session.flush()
        if favourites and i % 2 == 0:
            db.session.add(FavouriteInspector(user_id=agent.id, inspector_id=who.id))
    db.session.commit()
    return agent.email


def ordinary_week(monday: dt.date) -> dt.date:
    """``monday``, or the first Monday after it whose week holds no public holiday: tests that
    plan on "the week in three weeks" must not depend on Christmas or Easter falling in it."""
    from rdvpl import dates

    while any(dates.public_holiday(d) for d in dates.week_days(monday)):
        monday += dt.timedelta(weeks=1)
    return monday


def ordinary_day(day: dt.date) -> dt.date:
    """``day``, or the same weekday of the first following week that is no public holiday."""
    from rdvpl import dates

    while dates.public_holiday(day):
        day += dt.timedelta(weeks=1)
    return day


def page_text(page: str) -> str:
    """What a user reads of an HTML page: tags removed, entities decoded, blanks collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
