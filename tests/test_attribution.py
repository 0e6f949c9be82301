"""BER 10 "Demandes et attributions": the month's table, the proposal, removing a line,
applying it all or nothing through BER 4's reservation code, and department isolation."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa

from rdvpl import attribution, booking, dates, demand
from rdvpl.errors import DomainError, NotFound
from rdvpl.extensions import db
from rdvpl.models import (
    Centre,
    HalfDay,
    History,
    OutboxMail,
    SchoolDemand,
    Session,
    Tranche,
    Unit,
    UnitStatus,
    school_demand_centre,
)
from tests.conftest import user_by_email
from tests.helpers import ALLIANCE, category, planned_session, school

HX = {"HX-Request": "true"}
LINE = re.compile(r"\w+ \d\d/\d\d/\d{4}, [A-Z0-9 ]+, \d\d:\d\d - \d\d:\d\d, \d+ unités?, "
                  r"Inspecteur \d+")


def next_month() -> dt.date:
    return demand.demand_months(dates.today())[0]


def month_days(count: int) -> list[dt.date]:
    day, days = next_month(), []
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@pytest.fixture
def month(demo):
    """Next month with known sessions (24 Dispo AE units) and demands (40 units)."""
    first = next_month()
    end = demand.add_months(first, 1)
    with demo.app_context():
        in_month = sa.select(Session.id).where(Session.date >= first, Session.date < end)
        db.session.execute(sa.delete(Unit).where(Unit.session_id.in_(in_month)))
        db.session.execute(sa.delete(Session).where(Session.date >= first, Session.date < end))
        db.session.execute(school_demand_centre.delete())
        db.session.execute(sa.delete(SchoolDemand))
        db.session.commit()
        d1, d2, d3 = month_days(3)
        for who, day, tranches in [("DUMAS", d1, [Tranche.M1, Tranche.M2]),
                                   ("MONTEIL", d1, [Tranche.S1]), ("BARBET", d2, [Tranche.M1]),
                                   ("ARNAUD", d3, [Tranche.S1, Tranche.S2])]:
            for tranche in tranches:
                planned_session(who, day, tranche)
        centres = {c.name: c for c in db.session.scalars(sa.select(Centre))}
        for aurige, units, wished, half in [
                (ALLIANCE, 20, ("CARCASSONNE", "NARBONNE"), HalfDay.ANY),
                ("auto-ecole-aurige-2", 10, ("CARCASSONNE",), HalfDay.MORNING),
                ("auto-ecole-aurige-11", 6, ("NARBONNE", "LUCHAPT DU 011"), HalfDay.ANY),
                ("auto-ecole-aurige-51", 4, ("LUCHAPT DU 011",), HalfDay.AFTERNOON)]:
            s = school(aurige)
            db.session.add(SchoolDemand(auto_ecole=s, department_id=s.department_id,
                                        category=category("CE"), month=first, units=units,
                                        half_day=half, centres=[centres[c] for c in wished]))
        db.session.commit()
    return demo


def _query():
    return {"mois": f"{next_month():%Y-%m}", "categorie": "CE"}


def _lines(body: str) -> list[str]:
    return re.findall(r'name="ligne" value="([^"]+)"', body)


def _plan(lines) -> dict[int, list[int]]:
    plan: dict[int, list[int]] = {}
    for line in lines:
        school_id, _, ids = line.partition(":")
        plan.setdefault(int(school_id), []).extend(int(i) for i in ids.split(","))
    return plan


def test_page_shows_demanded_attributed_and_gap(month, client, auth):
    auth.login()
    page = client.get("/ber/demandes", query_string=_query()).get_data(as_text=True)
    assert "Demandes des auto-écoles" in page
    assert "40 unités demandées par 4 auto-écoles, 24 unités Dispo AE ce mois-ci" in page
    for heading in ("Auto-école", "Demandées", "Attribuées", "Écart", "Centres",
                    "Demi-journées", "Proposer une répartition"):
        assert heading in page
    assert "CARCASSONNE, NARBONNE" in page and "Matin" in page


def test_another_department_never_sees_011s_demands(month, client, auth):
    auth.login("ber034@example.test")
    for url in ("/ber/demandes", "/ber/demandes/proposition"):
        page = client.get(url, query_string=_query()).get_data(as_text=True)
        assert "Alliance" not in page
        assert "0 unité demandée par 0 auto-école" in page


def test_proposal_lists_runs_and_uses_every_free_unit(month, client, auth):
    auth.login()
    response = client.get("/ber/demandes/proposition", query_string=_query(), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "Répartition proposée" in body and "Part équitable : 12" in body
    words = re.findall(r'<span class="app-proposal__words">([^<]+)</span>', body)
    assert words and all(LINE.fullmatch(w) for w in words)
    plan = _plan(_lines(body))
    assert sum(len(v) for v in plan.values()) == 24  # the wishes allow every unit to be used
    assert "Appliquer la répartition" in body


def test_removing_a_line_keeps_the_others(month, client, auth):
    auth.login()
    body = client.get("/ber/demandes/proposition", query_string=_query()).get_data(as_text=True)
    lines = _lines(body)
    removed = lines[0]
    key = removed.partition(":")[2].split(",")[0]
    response = client.post("/ber/demandes/proposition", headers=HX,
                           data={**_query(), "ligne": lines, "retirer": key})
    after = _lines(response.get_data(as_text=True))
    assert response.status_code == 200
    assert after == lines[1:]


def test_apply_reserves_everything_with_one_mail_per_school(month, client, auth):
    auth.login()
    body = client.get("/ber/demandes/proposition", query_string=_query()).get_data(as_text=True)
    lines = _lines(body)[1:]  # one line removed by the agent
    plan = _plan(lines)
    response = client.post("/ber/demandes/repartition", headers=HX,
                           data={**_query(), "ligne": lines})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Répartition appliquée !" in page
    with month.app_context():
        for school_id, ids in plan.items():
            rows = db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids))).all()
            assert {(u.status, u.auto_ecole_id) for u in rows} == {
                (UnitStatus.RESERVED, school_id)}
        mails = db.session.scalars(sa.select(OutboxMail)).all()
        assert sorted(m.kind for m in mails) == ["reservation"] * len(plan)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(History).where(
            History.action == "unit.reserved")) == sum(len(v) for v in plan.values())
        view = attribution.month_view(school().department_id, next_month(), category("CE"))
        assert sum(r.attributed for r in view.rows) == sum(len(v) for v in plan.values())


def test_a_unit_taken_meanwhile_fails_it_whole_and_proposes_again(month, client, auth):
    auth.login()
    lines = _lines(client.get("/ber/demandes/proposition",
                              query_string=_query()).get_data(as_text=True))
    plan = _plan(lines)
    victim = plan[min(plan)][0]
    with month.app_context():  # another agent reserves one of its units (BER 4)
        herault_free = school("auto-ecole-aurige-51")
        booking.reserve_units(user_by_email("ber011@example.test"), [victim], herault_free.id)
        outbox = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail))
    response = client.post("/ber/demandes/repartition", headers=HX,
                           data={**_query(), "ligne": lines})
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "vient d'être attribuée à une autre auto-école (Alliance du 051)" in body
    assert "Une nouvelle répartition est proposée" in body
    assert all(victim not in units for units in _plan(_lines(body)).values())
    with month.app_context():
        others = [i for ids in plan.values() for i in ids if i != victim]
        assert set(db.session.scalars(sa.select(Unit.status).where(Unit.id.in_(others)))) == {
            UnitStatus.DISPO}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == outbox


def test_a_foreign_agent_cannot_apply_011s_units(month, client, auth):
    auth.login()
    lines = _lines(client.get("/ber/demandes/proposition",
                              query_string=_query()).get_data(as_text=True))
    auth.logout()
    auth.login("ber034@example.test")
    response = client.post("/ber/demandes/repartition", data={**_query(), "ligne": lines})
    assert response.status_code == 404
    with month.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit).where(
            Unit.id.in_([i for ids in _plan(lines).values() for i in ids]),
            Unit.status == UnitStatus.RESERVED)) == 0


@pytest.mark.parametrize("data, status, message", [
    ({"ligne": []}, 422, "ne contient plus aucune unité"),
    ({"ligne": ["abc:1,2"]}, 404, "introuvable"),
    ({"ligne": ["1:x"]}, 404, "introuvable"),
    ({"ligne": ["99999999999999999999:1"]}, 404, "introuvable"),
    ({"ligne": [f"1:{2**40}"]}, 404, "introuvable"),
    ({"mois": "1999-01", "ligne": []}, 422, "Mois inconnu"),
])
def test_bad_apply_requests_change_nothing(month, client, auth, data, status, message):
    auth.login()
    response = client.post("/ber/demandes/repartition", data={**_query(), **data})
    assert response.status_code == status
    assert message in html.unescape(response.get_data(as_text=True))


def test_the_same_unit_for_two_schools_is_refused(month):
    with month.app_context():
        ber = user_by_email("ber011@example.test")
        unit_id = db.session.scalar(sa.select(Unit.id).join(Unit.session).where(
            Session.date >= next_month(), Unit.status == UnitStatus.DISPO))
        with pytest.raises(DomainError, match="deux auto-écoles"):
            booking.reserve_for_schools(ber, {school().id: [unit_id],
                                              school("auto-ecole-aurige-2").id: [unit_id]})
        with pytest.raises(NotFound):
            booking.reserve_for_schools(ber, {school("auto-ecole-aurige-34").id: [unit_id]})


def test_closing_date_through_the_page(month, client, auth):
    auth.login()
    closes = next_month() - dt.timedelta(days=3)
    response = client.post("/ber/demandes/cloture", headers=HX,
                           data={**_query(), "date_cloture": closes.strftime("%d/%m/%Y")})
    assert response.status_code == 200
    assert "Date de clôture enregistrée" in html.unescape(response.get_data(as_text=True))
    with month.app_context():
        assert demand.closing_date(school().department_id, next_month()) == closes
    response = client.post("/ber/demandes/cloture",
                           data={**_query(), "date_cloture": "31/02/2026"})
    assert response.status_code == 422
    assert "jj/mm/aaaa" in html.unescape(response.get_data(as_text=True))
