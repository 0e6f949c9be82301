"""BER 12 "Consulter les examens" and "Feuille du jour": the department's reserved units of a
period, filtered, grouped by day then inspector, paginated; one inspector's day to print."""

from __future__ import annotations

import datetime as dt
import html

import sqlalchemy as sa

from rdvpl import dates, exam_list
from rdvpl.extensions import db
from rdvpl.models import Centre, Department, Tranche
from tests.helpers import inspector, planned_session, school

BER = "ber011@example.test"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def aude() -> int:
    return db.session.scalar(sa.select(Department.id).where(Department.code == "011"))


def far_monday() -> dt.date:
    """A Monday beyond the demo's weeks, so that only this test's sessions are there."""
    return dates.monday_of(dates.today()) + dt.timedelta(weeks=10)


def setup_week(app):
    """MONTEIL: Monday M1 (2 units for Alliance, 1 for Alliance du 002) and Tuesday S1 (1 for
    Alliance); BARBET (NARBONNE): Monday M2 (4 for Alliance du 011)."""
    monday = far_monday()
    with app.app_context():
        planned_session("MONTEIL", monday, Tranche.M1, reserved=[0, 1], for_school=school())
        planned_session("MONTEIL", monday, Tranche.M2, reserved=[3],
                            for_school=school("auto-ecole-aurige-2"))
        planned_session("MONTEIL", monday + dt.timedelta(days=1), Tranche.S1, reserved=[2],
                        for_school=school())
        planned_session("BARBET", monday, Tranche.M2, reserved=range(4),
                        for_school=school("auto-ecole-aurige-11"))
    return monday


def test_the_list_groups_by_day_and_inspector(demo, ctx):
    monday = setup_week(demo)
    page = exam_list.exams(aude(), exam_list.Filters(monday, monday + dt.timedelta(days=5)))
    assert page.total == 8
    assert [d.day for d in page.days] == [monday, monday + dt.timedelta(days=1)]
    first = page.days[0]
    assert [i.name for i in first.inspectors] == ["BARBET Anaïs", "MONTEIL Marie"]
    assert [(r.hours, r.school) for r in first.inspectors[1].rows] == [
        ("08:00 - 08:30", "Alliance Auto-Ecole"), ("08:30 - 09:00", "Alliance Auto-Ecole"),
        ("11:30 - 12:00", "Alliance du 002")]


def test_filters_and_pages(demo, ctx):
    monday = setup_week(demo)
    week = (monday, monday + dt.timedelta(days=5))
    narbonne = db.session.scalar(sa.select(Centre.id).where(Centre.name == "NARBONNE"))
    by_centre = exam_list.exams(aude(), exam_list.Filters(*week, centre_id=narbonne))
    assert by_centre.total == 4 and by_centre.days[0].inspectors[0].name == "BARBET Anaïs"
    by_inspector = exam_list.exams(aude(), exam_list.Filters(
        *week, inspector_id=inspector("MONTEIL").id))
    assert by_inspector.total == 4
    by_school = exam_list.exams(aude(), exam_list.Filters(*week, school_id=school().id))
    assert by_school.total == 3
    # Another department's inspector as a filter finds nothing of 011 (nor of 034).
    foreign = exam_list.exams(aude(), exam_list.Filters(*week,
                                                        inspector_id=inspector("LEROY").id))
    assert foreign.total == 0
    pages = [exam_list.exams(aude(), exam_list.Filters(*week, page=n), size=3)
             for n in (1, 2, 3)]
    assert [p.pages for p in pages] == [3, 3, 3]
    rows = [r.unit_id for p in pages for d in p.days for i in d.inspectors for r in i.rows]
    assert len(rows) == 8 and len(set(rows)) == 8


def test_the_page_and_its_filters(demo, client, auth):
    monday = setup_week(demo)
    auth.login(BER)
    url = f"/ber/examens?du={monday:%d/%m/%Y}&au={monday + dt.timedelta(days=5):%d/%m/%Y}"
    page = text(client.get(url))
    assert "8 examen(s) réservé(s)" in page
    assert ('Feuille du jour<span class="fr-sr-only"> de MONTEIL Marie, '
            f'{dates.jour_date(monday)}</span>') in page
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in text(fragment)
    assert 'id="exam-results"' in text(fragment)
    bad = text(client.get("/ber/examens?du=32/13/2026"))
    assert "Date non valide" in bad
    # 034's agent sees none of 011's exams.
    auth.logout()
    auth.login("ber034@example.test")
    assert "0 examen(s) réservé(s)" in text(client.get(url))


def test_the_day_sheet(demo, client, auth):
    monday = setup_week(demo)
    auth.login(BER)
    with demo.app_context():
        monteil = inspector("MONTEIL").id
        leroy = inspector("LEROY").id
    page = text(client.get(f"/ber/examens/feuille?inspecteur={monteil}&date={monday:%d/%m/%Y}"))
    assert "Feuille du jour — " + dates.jour_date_cap(monday) in page
    assert "MONTEIL Marie" in page and "3 unité(s) réservée(s)" in page
    assert "Session 08:00 - 10:00 — CARCASSONNE — catégorie CE" in page
    assert page.count("Dispo AE") == 5 and "Alliance du 002" in page
    assert client.get(f"/ber/examens/feuille?inspecteur={leroy}&date={monday:%d/%m/%Y}"
                      ).status_code == 404
    assert client.get("/ber/examens/feuille?inspecteur=abc&date=x").status_code == 422
    assert client.get("/ber/examens/feuille").status_code == 200
