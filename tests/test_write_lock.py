"""Readers never wait for a writer; writers wait their turn (SQLite's single write lock).

On SQLite a transaction begins DEFERRED, and only the domain operations that write begin
IMMEDIATE (rdvpl.extensions.write_transaction). The same tests run on PostgreSQL, where readers
never wait either and a row lock serialises writers.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from rdvpl import booking, dates
from rdvpl.extensions import db
from rdvpl.models import Session, Unit, UnitStatus
from tests.conftest import user_by_email


def _future_dispo_units(department_id: int, n: int) -> list[int]:
    return db.session.scalars(
        sa.select(Unit.id).join(Unit.session)
        .where(Session.department_id == department_id, Unit.status == UnitStatus.DISPO,
               Session.date > dates.today() + dt.timedelta(days=1))
        .order_by(Unit.id).limit(n)).all()


def test_pages_render_while_another_agent_holds_the_write_lock(demo, client, auth):
    with demo.app_context():
        department_id = user_by_email("ber011@example.test").department_id
        first, second = _future_dispo_units(department_id, 2)
        other = sa.create_engine(db.engine.url)
    auth.login()
    with other.connect() as conn:
        # Another agent's change, written but not committed: it holds the write lock.
        conn.execute(sa.update(Unit).where(Unit.id == first).values(status=UnitStatus.INDISPO))
        grid = client.get("/ber/creneaux")
        dialog = client.get(f"/ber/creneaux/unites/{second}", headers={"HX-Request": "true"})
        planning = client.get("/ber/planification")
        conn.rollback()
    other.dispose()
    assert grid.status_code == 200, grid.get_data(as_text=True)[:300]
    assert "Gérer les plannings" in grid.get_data(as_text=True)
    assert dialog.status_code == 200
    assert planning.status_code == 200


def test_a_write_after_another_agents_commit_is_not_refused(demo, ctx):
    """The request has read (its snapshot began) before another agent committed a change; its
    own change then still goes through, instead of "database is locked" on SQLite."""
    with demo.test_request_context("/ber/creneaux"):  # a GET reads DEFERRED
        ber = user_by_email("ber011@example.test")  # this read begins the session's transaction
        first, second = _future_dispo_units(ber.department_id, 2)
        other = sa.create_engine(db.engine.url)
        with other.begin() as conn:
            conn.execute(sa.update(Unit).where(Unit.id == first).values(status=UnitStatus.INDISPO))
        other.dispose()

        booking.set_unit_status(ber, second, UnitStatus.INDISPO)

        db.session.expire_all()
        assert db.session.get(Unit, first).status == UnitStatus.INDISPO
        assert db.session.get(Unit, second).status == UnitStatus.INDISPO
