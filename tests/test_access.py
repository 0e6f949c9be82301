"""Every URL of the app's URL map x every kind of actor, with and without HX-Request.

A new route is covered automatically: it must have an access rule (rdvpl/access.py), and its
URL arguments must be listed in URL_ARGS below, or this test fails.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl import accounts, dates, tokens
from rdvpl.access import STAFF, rule_for
from rdvpl.extensions import db
from rdvpl.models import (
    Absence,
    AutoEcole,
    Centre,
    Department,
    Inspector,
    OutboxMail,
    SchoolDemand,
    Session,
    Tranche,
    Unit,
    UnitStatus,
    User,
)
from tests.helpers import planned_session, school

ACTORS = {
    "anonymous": None,
    "ber011": "ber011@example.test",
    "ber034": "ber034@example.test",
    "ae": "alliance@example.test",
    "ae_other": "herault@example.test",
    "admin": "admin@example.test",
}
ROLE_OF = {"ber011": "ber", "ber034": "ber", "ae": "ae", "ae_other": "ae", "admin": "admin"}
# Actors who must not see the objects in URL_ARGS (which belong to 011 and Alliance Auto-Ecole).
FOREIGN = {"ber034", "ae_other"}


AHEAD = dt.timedelta(days=20)  # far enough for the school to cancel, whatever the weekday


def _alliance_unit():
    """A unit of department 011 reserved for Alliance Auto-Ecole, 20 days ahead (made by
    reserved_ahead: the owner's requests cancel one each, so the demo's alone may run out)."""
    return db.session.scalar(
        sa.select(Unit).join(Unit.session)
        .where(Unit.auto_ecole_id == school().id, Session.date >= dates.today() + AHEAD)
        .order_by(Session.date, Unit.start_time)
    )


@pytest.fixture
def reserved_ahead(demo):
    """A morning of MONTEIL's (free in the demo data), every unit reserved for Alliance."""
    with demo.app_context():
        for tranche in (Tranche.M1, Tranche.M2):
            planned_session("MONTEIL", dates.today() + AHEAD, tranche, reserved=range(4),
                            for_school=school())
    return demo


def _failed_mail_011():
    """A mail en échec to Alliance Auto-Ecole (a school of 011), made once."""
    mail = db.session.scalar(sa.select(OutboxMail).where(OutboxMail.kind == "access-test"))
    if mail is None:
        mail = OutboxMail(kind="access-test", message_id="<access-test@example.test>",
                          recipients="alliance@example.test", subject="Test", body_text="Test",
                          status="failed", last_error="550 refusé")
        db.session.add(mail)
        db.session.commit()
    return mail


def _absence_011():
    absence = db.session.scalar(sa.select(Absence).order_by(Absence.id))
    if absence is None:
        day = dates.today() + dt.timedelta(days=60)
        absence = Absence(inspector=db.session.scalar(sa.select(Inspector).where(
            Inspector.last_name == "DUMAS")), motif="Congé", start_date=day, end_date=day)
        db.session.add(absence)
        db.session.commit()
    return absence


def _feed_token_011() -> str:
    """A live feed token of Alliance Auto-Ecole's (set directly: only its hash is stored)."""
    token = "t" * 43
    db.session.get(AutoEcole, school().id).calendar_token_hash = tokens.digest(token)
    db.session.commit()
    return token


def _session_011():
    return _alliance_unit().session


URL_ARGS = {
    "session_id": lambda: _session_011().id,
    "unit_id": lambda: _alliance_unit().id,
    "inspector_id": lambda: db.session.scalar(
        sa.select(Inspector.id).where(Inspector.matricule == "2488")),
    "department_id": lambda: db.session.scalar(
        sa.select(Department.id).where(Department.code == "011")),
    "school_id": lambda: db.session.scalar(
        sa.select(AutoEcole.id).where(AutoEcole.aurige_id == "auto-ecole-aurige-1")),
    # Alliance Auto-Ecole's demand of the demo data (AE 3).
    "demand_id": lambda: db.session.scalar(
        sa.select(SchoolDemand.id).join(SchoolDemand.auto_ecole)
        .where(AutoEcole.aurige_id == "auto-ecole-aurige-1")),
    "centre_id": lambda: db.session.scalar(
        sa.select(Centre.id).where(Centre.name == "CARCASSONNE")),
    # An AE account of 011's Alliance Auto-Ecole (a BER of 034 must not reach it).
    "user_id": lambda: db.session.scalar(
        sa.select(User.id).where(User.email == "alliance@example.test")),
    "mail_id": lambda: _failed_mail_011().id,
    # An absence of DUMAS (011), made once: the owner's POST deletes it, then 404s follow.
    "absence_id": lambda: _absence_011().id,
    "filename": lambda: "app.css",
    # A live reset link of ber011's (public page; the empty POST changes nothing).
    # Alliance Auto-Ecole's live calendar feed link (AE 4, public: the token is the key).
    "feed_token": lambda: _feed_token_011(),
    "token": lambda: accounts.reset_token(db.session.scalar(
        sa.select(User).where(User.email == "ber011@example.test"))),
}


def _routes(app):
    # Sign-out last, so that the actor stays signed in for the others.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout")
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_an_access_rule(app):
    with app.test_request_context():
        missing = [r.endpoint for r, _ in _routes(app) if rule_for(r.endpoint) is None]
    assert missing == []


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("actor", list(ACTORS))
def test_access_grid(reserved_ahead, client, auth, actor, htmx):
    app = reserved_ahead
    if ACTORS[actor]:
        auth.login(ACTORS[actor])
    headers = {"HX-Request": "true"} if htmx else {}
    failures = []
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Unit).where(
            Unit.status == UnitStatus.RESERVED))
        routes = list(_routes(app))
        for rule, method in routes:
            unknown = [a for a in rule.arguments if a not in URL_ARGS]
            assert not unknown, f"{rule.rule}: add {unknown} to URL_ARGS in tests/test_access.py"
            with app.test_request_context():
                url = app.url_for(rule.endpoint, **{a: URL_ARGS[a]() for a in rule.arguments})
                access = rule_for(rule.endpoint)
            response = client.open(url, method=method, headers=headers)
            status = response.status_code
            problem = None
            if status >= 500:
                problem = "server error"
            elif access == "public":
                pass
            elif actor == "anonymous":
                if htmx and not (status == 401 and "/connexion" in response.headers.get(
                        "HX-Redirect", "")):
                    problem = "htmx anonymous must get 401 + HX-Redirect to the login page"
                if not htmx and not (status == 302 and "/connexion" in response.location):
                    problem = "anonymous must be sent to the login page"
            elif access == "signed_in":
                if status in (401, 403, 404):
                    problem = "a signed-in user must reach it"
            elif access == STAFF and ROLE_OF[actor] not in ("ber", "admin"):
                if status != 403:
                    problem = "only a BER agent or the admin may reach it"
            elif access == STAFF and actor in FOREIGN and rule.arguments:
                if status != 404:
                    problem = "another department's id must be a 404"
            elif access == STAFF:
                if status in (401, 403, 404):
                    problem = "a BER agent of the department or the admin must reach it"
            elif ROLE_OF[actor] != access:
                if status != 403:
                    problem = "another role must get 403"
            elif actor in FOREIGN and rule.arguments - {"filename"}:
                if status != 404:
                    problem = "another department's or school's id must be a 404"
            elif status in (401, 403, 404):
                problem = "the owner must reach it"
            if problem:
                failures.append(f"{method} {url} -> {status}: {problem}")
        after = db.session.scalar(sa.select(sa.func.count()).select_from(Unit).where(
            Unit.status == UnitStatus.RESERVED))
    assert failures == []
    if actor != "ber011" and actor != "ae":
        assert after == before, "a refused request changed reservations"


@pytest.mark.parametrize("actor", list(ACTORS))
def test_live_grid_revision_is_the_own_department_s_for_a_ber_agent_only(demo, client, auth,
                                                                          actor):
    """GET /ber/revision (live grids): a BER agent gets their own department's revision, and
    no parameter makes it another's; everyone else is refused."""
    if ACTORS[actor]:
        auth.login(ACTORS[actor])
    with demo.app_context():
        # The two departments' revisions differ, so that the answer says whose it is.
        db.session.execute(sa.update(Department).where(Department.code == "011")
                           .values(grid_revision=Department.grid_revision + 7))
        db.session.commit()
        revisions = dict(db.session.execute(sa.select(Department.code,
                                                      Department.grid_revision)).all())
        other = db.session.scalar(sa.select(Department.id).where(Department.code == "034"))
    response = client.get(f"/ber/revision?department={other}&department_id={other}")
    if ROLE_OF.get(actor) == "ber":
        assert response.status_code == 200
        assert response.get_json() == {"revision": revisions[actor.removeprefix("ber")]}
    elif actor == "anonymous":
        assert response.status_code == 302 and "/connexion" in response.location
    else:
        assert response.status_code == 403
