""""Appliquer la répartition" (BER 10) racing BER 4 reservations of the same units: the
application is all or nothing, and no unit ever has two schools.

Written for PostgreSQL (row locks, READ COMMITTED); it runs on SQLite too, where writers are
serialised, and the same invariants must hold there.
"""

from __future__ import annotations

import random
import threading

import sqlalchemy as sa

from rdvpl import attribution, booking
from rdvpl.errors import Conflict
from rdvpl.extensions import db
from rdvpl.models import AutoEcole, OutboxMail, Unit, UnitStatus
from tests.conftest import user_by_email
from tests.helpers import category
from tests.test_attribution import month, next_month  # noqa: F401  (the fixture)

ROUNDS = 8
AGENTS = 5  # BER 4 agents racing the application


def _reset(ids) -> None:
    db.session.execute(sa.update(Unit).where(Unit.id.in_(ids)).values(
        status=UnitStatus.DISPO, auto_ecole_id=None, reserved_at=None, reserved_by_id=None))
    db.session.execute(sa.delete(OutboxMail))
    db.session.commit()


def _race(app, plan, attempts):
    """Run the BER 4 attempts and the application at once; their outcomes and any bug."""
    results, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(AGENTS + 1)

    def agent(ids, school_id):
        barrier.wait()
        with app.app_context():
            try:
                booking.reserve_units(user_by_email("ber011@example.test"), ids, school_id)
                outcome = "ok"
            except Conflict:
                outcome = "refused"
            except Exception as error:  # any other failure is a bug
                outcome = repr(error)
                with lock:
                    errors.append(outcome)
            finally:
                db.session.remove()
        with lock:
            results.append((ids, school_id, outcome))

    def applier():
        barrier.wait()
        with app.app_context():
            try:
                attribution.apply(user_by_email("ber011@example.test"), plan)
                outcome = "ok"
            except Conflict as error:
                outcome = error.message
            except Exception as error:
                outcome = repr(error)
                with lock:
                    errors.append(outcome)
            finally:
                db.session.remove()
        with lock:
            results.append(("apply", None, outcome))

    threads = [threading.Thread(target=agent, args=a) for a in attempts]
    threads.append(threading.Thread(target=applier))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def test_application_is_all_or_nothing_against_concurrent_reservations(month):  # noqa: F811
    app = month
    with app.app_context():
        ber = user_by_email("ber011@example.test")
        proposal = attribution.propose(ber.department_id, next_month(), category("CE"))
        plan = proposal.plan()
        schools = db.session.scalars(sa.select(AutoEcole.id).where(
            AutoEcole.department_id == ber.department_id)).all()
    pool = sorted(i for ids in plan.values() for i in ids)
    assert len(pool) == 24 and len(plan) >= 3

    rng = random.Random(20261217)
    outcomes = {"applied": 0, "refused": 0}
    for _ in range(ROUNDS):
        with app.app_context():
            _reset(pool)
        attempts = [(rng.sample(pool, rng.randint(1, 3)), rng.choice(schools))
                    for _ in range(AGENTS)]
        results, errors = _race(app, plan, attempts)
        assert errors == []

        [(_, _, applied)] = [r for r in results if r[0] == "apply"]
        claims: dict[int, int] = {}
        successes = 0
        if applied == "ok":
            outcomes["applied"] += 1
            successes += len(plan)  # one e-mail per school
            for school_id, ids in plan.items():
                claims.update(dict.fromkeys(ids, school_id))
        else:
            outcomes["refused"] += 1
            assert applied.startswith("L'unité du")  # names the unit taken meanwhile
        for ids, school_id, outcome in results:
            if ids == "apply" or outcome != "ok":
                continue
            successes += 1
            for unit_id in ids:
                assert unit_id not in claims, "a unit given twice"
                claims[unit_id] = school_id
        with app.app_context():
            rows = db.session.execute(sa.select(Unit.id, Unit.status, Unit.auto_ecole_id)
                                      .where(Unit.id.in_(pool))).all()
            for unit_id, status, school_id in rows:
                if unit_id in claims:
                    assert (status, school_id) == (UnitStatus.RESERVED, claims[unit_id])
                else:  # a refused application or reservation left nothing behind
                    assert (status, school_id) == (UnitStatus.DISPO, None)
            assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)
                                     ) == successes
    # Both outcomes happen in practice (about 1 application in 8 wins on PostgreSQL); which
    # one does is timing, so it is not asserted: the invariants above are, in every round.
    assert outcomes["applied"] + outcomes["refused"] == ROUNDS
