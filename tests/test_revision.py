"""The department's grid revision: increased by exactly one per committed change to what its
grids show, in the change's own transaction; untouched by a refusal, by another department's
change and by what no grid shows (a school's demand)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl import booking, dates, demand, revision, sessions
from rdvpl.errors import Conflict
from rdvpl.extensions import db
from rdvpl.models import Centre, Department, Inspector, Session, Tranche, Unit, UnitStatus
from tests.conftest import user_by_email
from tests.helpers import category, inspector, ordinary_week, school


@pytest.fixture
def ber(demo, ctx):
    return user_by_email("ber011@example.test")


def revisions() -> dict[str, int]:
    db.session.expire_all()
    return dict(db.session.execute(sa.select(Department.code, Department.grid_revision)).all())


def free_units(last_name: str, n: int) -> list[Unit]:
    return db.session.scalars(
        sa.select(Unit).join(Unit.session).join(Session.inspector)
        .where(Inspector.last_name == last_name, Unit.status == UnitStatus.DISPO,
               Session.date >= dates.today() + dt.timedelta(days=2))
        .order_by(Session.date, Unit.start_time).limit(n)).all()


def test_a_reservation_increases_its_department_only_by_one(ber):
    before = revisions()
    booking.reserve_units(ber, [u.id for u in free_units("MONTEIL", 3)], school().id)
    after = revisions()
    assert after["011"] == before["011"] + 1
    assert after["034"] == before["034"]
    assert revision.current(ber.department_id) == after["011"]


def test_a_refused_reservation_changes_nothing(ber):
    units = free_units("MONTEIL", 2)
    booking.reserve_units(ber, [units[0].id], school().id)
    before = revisions()
    with pytest.raises(Conflict):
        booking.reserve_units(ber, [u.id for u in units], school().id)
    db.session.rollback()
    assert revisions() == before


def test_planning_status_and_cancellations_each_increase_it(ber):
    monday = ordinary_week(dates.monday_of(dates.today()) + dt.timedelta(weeks=3))
    who = inspector("DUMAS")
    start = revisions()["011"]
    planned = sessions.plan_sessions(
        ber, db.session.scalar(sa.select(Centre.id).where(Centre.name == "CARCASSONNE")),
        category("CE").id, [sessions.CellRef(who.id, monday, Tranche.M1)])
    assert revisions()["011"] == start + 1
    unit_id = planned[0].units[0].id
    booking.set_unit_status(ber, unit_id, UnitStatus.INDISPO)
    assert revisions()["011"] == start + 2
    sessions.delete_session(ber, planned[0].id)
    assert revisions()["011"] == start + 3


def test_a_school_demand_is_not_on_the_grids(ber):
    before = revisions()
    months = demand.demand_months(dates.today())
    open_month = next(m for m in months
                      if dates.today() <= demand.closing_date(ber.department_id, m))
    demand.save_demand(user_by_email("alliance@example.test"), month=open_month,
                       category_code="CE", units=4,
                       centre_ids=[db.session.scalar(sa.select(Centre.id).where(
                           Centre.name == "CARCASSONNE"))],
                       half_day="matin", comment="")
    assert revisions() == before
