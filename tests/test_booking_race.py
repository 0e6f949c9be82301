"""Concurrent reservations (BER 4): 8 workers, 200 attempts over overlapping units for
different schools. The database, not Python, keeps one school per unit.

Written for PostgreSQL (row locks, READ COMMITTED: the conditional UPDATE re-checks the status
after waiting for a concurrent reservation). It runs on SQLite too, where writers are serialised
(BEGIN IMMEDIATE): the same invariants must hold there, and CI's strict mode fails on skips.
"""

from __future__ import annotations

import datetime as dt
import random
import threading

import sqlalchemy as sa

from rdvpl import booking, dates
from rdvpl.errors import Conflict
from rdvpl.extensions import db
from rdvpl.models import AutoEcole, History, OutboxMail, Session, Unit, UnitStatus
from rdvpl.seed import seed_demo
from tests.conftest import user_by_email

WORKERS = 8
ATTEMPTS = 200


def test_concurrent_reservations_never_share_a_unit(app):
    with app.app_context():
        seed_demo()
        department_id = user_by_email("ber011@example.test").department_id
        pool = db.session.scalars(
            sa.select(Unit.id).join(Unit.session)
            .where(Session.department_id == department_id, Unit.status == UnitStatus.DISPO,
                   Session.date > dates.today() + dt.timedelta(days=1))
            .order_by(Session.date, Session.inspector_id, Unit.start_time).limit(40)).all()
        schools = db.session.scalars(sa.select(AutoEcole.id).where(
            AutoEcole.department_id == department_id)).all()
        history_before = db.session.scalar(sa.select(sa.func.count()).select_from(History))
    assert len(pool) == 40 and len(schools) == 4

    # Each attempt: 1 to 4 units from a sliding window of the pool, so that attempts overlap.
    rng = random.Random(20220211)
    plan = []
    for _ in range(ATTEMPTS):
        start = rng.randrange(len(pool) - 6)
        plan.append((rng.sample(pool[start:start + 6], rng.randint(1, 4)), rng.choice(schools)))

    results, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(WORKERS)

    def worker(index):
        barrier.wait()
        for ids, school_id in plan[index::WORKERS]:
            with app.app_context():  # its own session and connection
                try:
                    ber = user_by_email("ber011@example.test")
                    booking.reserve_units(ber, ids, school_id)
                    outcome = "ok"
                except Conflict as error:
                    outcome = error.message
                except Exception as error:  # any other failure is a bug
                    with lock:
                        errors.append(repr(error))
                    continue
                finally:
                    db.session.remove()
            with lock:
                results.append((ids, school_id, outcome))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert errors == []
    assert len(results) == ATTEMPTS

    successes = [(ids, school) for ids, school, outcome in results if outcome == "ok"]
    failures = [(ids, school, outcome) for ids, school, outcome in results if outcome != "ok"]
    assert successes and failures  # the attempts did compete
    assert all("Aucune place n'a été réservée" in message or "déjà attribuée" in message
               for _, _, message in failures)

    with app.app_context():
        units = {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(pool)))}
        reserved_by = {}
        for ids, school in successes:
            for unit_id in ids:
                # No unit was given twice, and each reported success holds all its units.
                assert unit_id not in reserved_by
                reserved_by[unit_id] = school
                assert units[unit_id].status == UnitStatus.RESERVED
                assert units[unit_id].auto_ecole_id == school
        # Every failure changed nothing: the units no success claimed are still Dispo AE.
        for unit_id, unit in units.items():
            if unit_id not in reserved_by:
                assert unit.status == UnitStatus.DISPO and unit.auto_ecole_id is None
        # The history holds one row per reserved unit, all from successes, and one e-mail
        # per success: a failed attempt left no trace.
        rows = db.session.scalars(sa.select(History).where(History.action == "unit.reserved"))
        rows = rows.all()
        assert len(rows) == len(reserved_by)
        assert history_before + len(rows) == db.session.scalar(
            sa.select(sa.func.count()).select_from(History))
        assert {(r.object_id, r.after["auto_ecole_id"]) for r in rows} == set(reserved_by.items())
        mails = db.session.scalars(sa.select(OutboxMail).where(OutboxMail.kind == "reservation"))
        assert len(mails.all()) == len(successes)
