"""BER 11 "Suivre l'activité": the figures of a small department built through the real
domain functions (so that the history is the one the app writes), checked against numbers
computed by hand; a constant number of statements whatever the period; the .xlsx export read
back with openpyxl."""

from __future__ import annotations

import datetime as dt
import html
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import event

from rdvpl import activity, dates
from rdvpl.booking import cancel_unit_by_ae, cancel_unit_by_ber, reserve_units, set_unit_status
from rdvpl.extensions import db
from rdvpl.models import (
    AutoEcole,
    Category,
    Centre,
    Department,
    Inspector,
    Role,
    Session,
    UnitStatus,
    User,
)
from rdvpl.sessions import delete_session, plan_sessions
from tests.helpers import ordinary_week

PASSWORD = "mot-de-passe-de-test"


@pytest.fixture
def small(app):
    """Department 099: centres ALPHA and BETA, inspectors UN (ALPHA) and DEUX (BETA),
    schools S1 and S2; two weeks, three weeks ahead (so that a school may cancel).

    Week 1: UN Monday M1 and M2 at ALPHA, DEUX Tuesday M1 at BETA (CE).
    Week 2: DEUX Monday S1 at BETA (CE), deleted with its 4 units reserved for S2;
            UN Tuesday M1 at ALPHA in category C (left out of the CE figures).
    """
    with app.app_context():
        ce = Category(code="CE", heavy=True, position=1)
        c = Category(code="C", heavy=True, position=0)
        department = Department(code="099", name="Test", ber_email="ber099@example.test")
        alpha = Centre(department=department, name="ALPHA")
        beta = Centre(department=department, name="BETA")
        un = Inspector(department=department, home_centre=alpha, last_name="UN",
                       first_name="Inès", matricule="1")
        deux = Inspector(department=department, home_centre=beta, last_name="DEUX",
                         first_name="Denis", matricule="2")
        s1 = AutoEcole(department=department, raison_sociale="S1", aurige_id="s1",
                       email="s1@example.test")
        s2 = AutoEcole(department=department, raison_sociale="S2", aurige_id="s2",
                       email="s2@example.test")
        agent = User(email="agent099@example.test", first_name="A", last_name="B",
                     role=Role.BER, department=department)
        school_user = User(email="user-s1@example.test", first_name="C", last_name="D",
                           role=Role.AE, auto_ecole=s1)
        for user in (agent, school_user):
            user.set_password(PASSWORD)
        db.session.add_all([ce, c, department, alpha, beta, un, deux, s1, s2, agent,
                            school_user])
        db.session.commit()

        week1 = ordinary_week(dates.monday_of(dates.today()) + dt.timedelta(weeks=3))
        week2 = week1 + dt.timedelta(weeks=1)
        tuesday1 = week1 + dt.timedelta(days=1)
        un_m1, un_m2 = plan_sessions(agent, alpha.id, ce.id,
                                     [(un.id, week1, "M1"), (un.id, week1, "M2")])
        [deux_m1] = plan_sessions(agent, beta.id, ce.id, [(deux.id, tuesday1, "M1")])
        [deux_s1] = plan_sessions(agent, beta.id, ce.id, [(deux.id, week2, "S1")])
        [un_c] = plan_sessions(agent, alpha.id, c.id,
                               [(un.id, week2 + dt.timedelta(days=1), "M1")])
        ids = {name: [u.id for u in s.units] for name, s in
               (("un_m1", un_m1), ("un_m2", un_m2), ("deux_m1", deux_m1),
                ("deux_s1", deux_s1), ("un_c", un_c))}

        reserve_units(agent, ids["un_m1"][:3], s1.id)
        reserve_units(agent, ids["un_m2"][:1], s2.id)
        reserve_units(agent, ids["deux_m1"][:2], s1.id)
        reserve_units(agent, ids["deux_s1"], s2.id)
        reserve_units(agent, ids["un_c"][:1], s1.id)
        cancel_unit_by_ber(agent, ids["un_m1"][2])  # -> Indispo
        cancel_unit_by_ae(school_user, ids["deux_m1"][1])  # -> Dispo AE
        set_unit_status(agent, ids["un_m2"][3], UnitStatus.INDISPO)  # not a cancellation
        delete_session(agent, deux_s1.id)  # 4 units of S2 cancelled by the BER
        return {"department": department.id, "week1": week1, "week2": week2,
                "agent": agent.email}


def as_dict(rows):
    return {label: activity.values(f) for label, f in rows}


def test_figures_match_the_hand_computed_ones(small, ctx):
    week1, week2 = small["week1"], small["week2"]
    a = activity.activity(small["department"], week1, week2 + dt.timedelta(days=5), "CE")
    #            sessions offered reserved dispo cancelled_ber cancelled_ae
    assert as_dict(a.weeks) == {
        f"Semaine du {week1:%d/%m/%Y}": [3, 10, 4, 6, 1, 1],
        f"Semaine du {week2:%d/%m/%Y}": [0, 0, 0, 0, 4, 0],
    }
    assert as_dict(a.centres) == {"ALPHA": [2, 6, 3, 3, 1, 0], "BETA": [1, 4, 1, 3, 4, 1]}
    assert as_dict(a.inspectors) == {"UN Inès": [2, 6, 3, 3, 1, 0],
                                     "DEUX Denis": [1, 4, 1, 3, 4, 1]}
    assert {name: activity.school_values(f) for name, f in a.schools} == {
        "S1": [3, 1, 1], "S2": [1, 4, 0]}
    assert activity.values(a.total) == [3, 10, 4, 6, 5, 1]

    # Every category: the C session of week 2 (1 unit reserved for S1, 3 Dispo AE) counts.
    every = activity.activity(small["department"], week1, week2 + dt.timedelta(days=5), None)
    assert as_dict(every.weeks)[f"Semaine du {week2:%d/%m/%Y}"] == [1, 4, 1, 3, 4, 0]
    # Only week 1: the deleted session of week 2 is out of the period.
    one = activity.activity(small["department"], week1, week1 + dt.timedelta(days=5), "CE")
    assert activity.values(one.total) == [3, 10, 4, 6, 1, 1]


def test_a_constant_number_of_statements(small, app):
    def statements(weeks: int) -> int:
        seen = []

        def listener(*args):
            if args[2].lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
                seen.append(args[2])

        with app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", listener)
            try:
                activity.activity(small["department"], small["week1"] - dt.timedelta(weeks=20),
                                  small["week1"] + dt.timedelta(weeks=weeks), "CE")
            finally:
                event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    assert statements(1) == statements(30) == 7, "seven GROUP BY queries and lookups"


def test_the_page_and_the_export(small, app):
    client = app.test_client()
    client.post("/connexion", data={"email": small["agent"], "password": PASSWORD})
    week1, week2 = small["week1"], small["week2"]
    query = f"du={week1:%d/%m/%Y}&au={week2 + dt.timedelta(days=5):%d/%m/%Y}&categorie=CE"
    page = html.unescape(client.get(f"/ber/activite?{query}").get_data(as_text=True))
    assert "Suivre l'activité" in page and "Annulées par une auto-école" in page
    assert page.count("<bar-chart") == 4
    assert "dsfr-chart-2.0.4/BarChart/BarChart.js" in page

    response = client.get(f"/ber/activite/export?{query}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Semaines", "Centres", "Inspecteurs", "Auto-écoles"]
    weeks = list(book["Semaines"].iter_rows(min_row=2, values_only=True))
    assert weeks[0] == ("Semaine", *activity.COLUMNS)
    assert weeks[1:] == [(f"Semaine du {week1:%d/%m/%Y}", 3, 10, 4, 6, 1, 1),
                         (f"Semaine du {week2:%d/%m/%Y}", 0, 0, 0, 0, 4, 0)]
    schools = list(book["Auto-écoles"].iter_rows(min_row=3, values_only=True))
    assert schools == [("S1", 3, 1, 1), ("S2", 1, 4, 0)]


def test_another_department_sees_none_of_it(small, ctx):
    other = Department(code="098", name="Autre", ber_email="b@example.test")
    db.session.add(other)
    db.session.commit()
    a = activity.activity(other.id, small["week1"], small["week2"], None)
    assert activity.values(a.total) == [0] * 6
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Session)) == 4
