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
    SchoolDemand,
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
                "agent": agent.email, "ids": {"ce": ce.id, "c": c.id, "s1": s1.id,
                                              "s2": s2.id, "department": department.id}}


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
        "S1": [0, 3, 1, 1], "S2": [0, 1, 4, 0]}
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

    assert statements(1) == statements(30) == 8, "eight GROUP BY queries and lookups"


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
    schools = list(book["Auto-écoles"].iter_rows(min_row=2, values_only=True))
    assert schools == [("Auto-école", *activity.SCHOOL_COLUMNS),
                       ("S1", 0, 3, 1, 1), ("S2", 0, 1, 4, 0)]


def test_another_department_sees_none_of_it(small, ctx):
    other = Department(code="098", name="Autre", ber_email="b@example.test")
    db.session.add(other)
    db.session.commit()
    a = activity.activity(other.id, small["week1"], small["week2"], None)
    assert activity.values(a.total) == [0] * 6
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Session)) == 4


def _months(day: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after ``day``'s (n may be negative)."""
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


@pytest.fixture
def demands(small, app):
    """The schools' demands (AE 3) around the period week1..week2 (which touches the month of
    week1, and maybe the next one):
    - S1: 5 CE and 2 C for the month of week1;
    - S2: 3 CE for the month of week1; 7 CE three months later and 9 CE the month before
      (both out of the period);
    - S3 (no unit at all): 4 CE for the month of week1;
    - a school of another department: 50 CE for the month of week1 (never counted here)."""
    ids = small["ids"]
    month = small["week1"].replace(day=1)
    with app.app_context():
        s3 = AutoEcole(department_id=ids["department"], raison_sociale="S3", aurige_id="s3",
                       email="s3@example.test")
        other = Department(code="097", name="Autre", ber_email="ber097@example.test")
        foreign = AutoEcole(department=other, raison_sociale="ÉTRANGÈRE", aurige_id="x",
                            email="x@example.test")
        db.session.add_all([s3, other, foreign])
        db.session.flush()
        for school_id, department_id, category_id, when, units in (
                (ids["s1"], ids["department"], ids["ce"], month, 5),
                (ids["s1"], ids["department"], ids["c"], month, 2),
                (ids["s2"], ids["department"], ids["ce"], month, 3),
                (ids["s2"], ids["department"], ids["ce"], _months(month, 3), 7),
                (ids["s2"], ids["department"], ids["ce"], _months(month, -1), 9),
                (s3.id, ids["department"], ids["ce"], month, 4),
                (foreign.id, other.id, ids["ce"], month, 50)):
            db.session.add(SchoolDemand(auto_ecole_id=school_id, department_id=department_id,
                                        category_id=category_id, month=when, units=units))
        db.session.commit()
    return small


def test_demanded_per_school(demands, ctx):
    week1, week2 = demands["week1"], demands["week2"]
    last = week2 + dt.timedelta(days=5)
    a = activity.activity(demands["department"], week1, last, "CE")
    #                                   demanded reserved cancelled_ber cancelled_ae
    assert {name: activity.school_values(f) for name, f in a.schools} == {
        "S1": [5, 3, 1, 1], "S2": [3, 1, 4, 0], "S3": [4, 0, 0, 0]}
    assert a.total.demanded == 12
    # Every category: S1's C demand counts too.
    every = activity.activity(demands["department"], week1, last, None)
    assert {name: f.demanded for name, f in every.schools} == {"S1": 7, "S2": 3, "S3": 4}
    # The month three months later only: S2's 7.
    later = _months(week1, 3)
    far = activity.activity(demands["department"], later, later + dt.timedelta(days=3), "CE")
    assert {name: activity.school_values(f) for name, f in far.schools} == {
        "S2": [7, 0, 0, 0]}


def test_demanded_on_the_page_and_in_the_export(demands, app):
    client = app.test_client()
    client.post("/connexion", data={"email": demands["agent"], "password": PASSWORD})
    week1, week2 = demands["week1"], demands["week2"]
    query = f"du={week1:%d/%m/%Y}&au={week2 + dt.timedelta(days=5):%d/%m/%Y}&categorie=CE"
    page = html.unescape(client.get(f"/ber/activite?{query}").get_data(as_text=True))
    table = page[page.index('<table id="ecoles">'):]
    table = table[:table.index("</table>")]
    assert "<th scope=\"col\">Demandées</th>" in table
    assert "<th scope=\"row\">S3</th><td>4</td><td>0</td><td>0</td><td>0</td>" in table
    assert "<th scope=\"row\">S1</th><td>5</td><td>3</td><td>1</td><td>1</td>" in table
    assert "ÉTRANGÈRE" not in page
    assert "12</strong> unité(s) demandée(s)" in page
    # The chart's data: the "Demandées" series first.
    assert '"Demandées"' in page and "[[5, 3, 4]" in page

    book = load_workbook(io.BytesIO(client.get(f"/ber/activite/export?{query}").data))
    assert list(book["Auto-écoles"].iter_rows(min_row=2, values_only=True)) == [
        ("Auto-école", "Demandées", "Réservées", "Annulées par le BER",
         "Annulées par l'auto-école"),
        ("S1", 5, 3, 1, 1), ("S2", 3, 1, 4, 0), ("S3", 4, 0, 0, 0)]
