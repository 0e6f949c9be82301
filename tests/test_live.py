"""Live grids (SPEC Part 2): GET /ber/revision answers 204 while the agent's department's grids
are unchanged and 200 with the new revision once they changed (whichever process wrote the
change); it is not the user's activity and no rate limit counts it. The refresh of each grid
returns its rows as they are now, keeps the ticked units or cells still free, and names those
taken meanwhile."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa

from rdvpl import booking, create_app, dates, revision, sessions
from rdvpl.accounts import utcnow
from rdvpl.extensions import db, limiter
from rdvpl.models import Centre, Inspector, Session, SignInSession, Tranche, Unit, UnitStatus
from tests.conftest import AuthActions, user_by_email
from tests.helpers import category, page_text, school

HX = {"HX-Request": "true"}
NEXT_MONDAY = dates.monday_of(dates.today()) + dt.timedelta(days=7)
FRIDAY = NEXT_MONDAY + dt.timedelta(days=4)
WEEK = dates.monday_of(dates.today()) + dt.timedelta(weeks=3)  # empty in the demo data
TUESDAY = WEEK + dt.timedelta(days=1)


text = page_text


def labels(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'aria-label="([^"]*)"', page)]


def ticked(page: str) -> list[str]:
    return re.findall(r'name="(?:unit|cell)" value="([^"]+)"[^>]*checked', page)


def live_notice(page: str) -> str:
    match = re.search(r'<div id="live-notice" hx-swap-oob="innerHTML">(.*?)</div></div>', page,
                      re.S)
    return text(match.group(1)) if match else ""


@pytest.fixture
def ber(demo, client, auth):
    auth.login("ber011@example.test")
    with demo.app_context():
        yield client


def rev(code: str = "011") -> int:
    db.session.expire_all()
    return revision.current(user_by_email(f"ber{code}@example.test").department_id)


def dumas_units(day, status=UnitStatus.DISPO) -> list[Unit]:
    return db.session.scalars(
        sa.select(Unit).join(Unit.session).join(Session.inspector)
        .where(Inspector.last_name == "DUMAS", Session.date == day, Unit.status == status)
        .order_by(Unit.start_time)).all()


def another_agent_reserves(unit_id: int) -> None:
    """What another BER agent of 011 does meanwhile (through another request, or worker)."""
    booking.reserve_units(user_by_email("ber011@example.test"), [unit_id], school().id)
    db.session.expire_all()


# --- GET /ber/revision ---------------------------------------------------------------------


def test_204_while_nothing_changed_then_200_with_the_new_revision(ber):
    known = rev()
    unchanged = ber.get(f"/ber/revision?depuis={known}")
    assert unchanged.status_code == 204 and unchanged.get_data() == b""
    another_agent_reserves(dumas_units(FRIDAY)[0].id)
    changed = ber.get(f"/ber/revision?depuis={known}")
    assert changed.status_code == 200
    assert changed.get_json() == {"revision": known + 1}
    assert ber.get(f"/ber/revision?depuis={known + 1}").status_code == 204
    assert changed.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("depuis", ["", "abc", "-1", "1e3", "9" * 40, "\x00"])
def test_any_other_depuis_gets_the_revision(ber, depuis):
    response = ber.get("/ber/revision", query_string={"depuis": depuis} if depuis else {})
    assert response.status_code == 200 and response.get_json() == {"revision": rev()}


def test_it_is_the_agent_s_own_department_s_revision(demo, client, auth):
    auth.login("ber034@example.test")
    with demo.app_context():
        own, other = rev("034"), rev("011")
        # No department from the client: a department parameter is ignored.
        assert client.get(f"/ber/revision?depuis={own}&department=1&code=011").status_code == 204
        another_agent_reserves(dumas_units(FRIDAY)[0].id)  # in 011
        assert rev("011") == other + 1
        assert client.get(f"/ber/revision?depuis={own}").status_code == 204


def test_schools_and_anonymous_are_refused(demo, client, auth):
    anonymous = client.get("/ber/revision?depuis=0", headers=HX)
    assert anonymous.status_code == 401 and "/connexion" in anonymous.headers["HX-Redirect"]
    assert client.get("/ber/revision?depuis=0").status_code == 302
    auth.login("alliance@example.test")
    assert client.get("/ber/revision?depuis=0").status_code == 403
    auth.logout()
    auth.login("admin@example.test")
    assert client.get("/ber/revision?depuis=0").status_code == 403


def test_a_change_through_one_process_reaches_a_page_served_by_another(demo, database_url,
                                                                       client, auth):
    """Two apps on one database stand for two gunicorn workers: the revision is read from
    the database at each poll, never kept in a worker's memory."""
    worker_b = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                           "WTF_CSRF_ENABLED": False, "MAIL_DELIVERY": "sync",
                           "MAIL_SERVER": None})
    browser_b = worker_b.test_client()
    AuthActions(browser_b).login("ber011@example.test")
    auth.login("ber011@example.test")  # the other agent, on worker A
    with demo.app_context():
        known = rev()
        unit = dumas_units(FRIDAY)[0]
        form = {"unit": str(unit.id), "school_id": str(school().id), "categorie": "CE",
                "date": dates.ddmmyyyy(FRIDAY)}
    assert browser_b.get(f"/ber/revision?depuis={known}").status_code == 204
    assert client.post("/ber/creneaux/reservation", data=form, headers=HX).status_code == 200
    answer = browser_b.get(f"/ber/revision?depuis={known}")
    assert answer.status_code == 200 and answer.get_json() == {"revision": known + 1}
    with worker_b.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_poll_is_not_the_user_s_activity(demo, client, auth):
    """An open page left alone still signs out after the idle limit: its polls do not mark
    the sign-in session as used; a page the agent asks for does. (No app context is held
    around the requests: each loads its user afresh.)"""
    auth.login("ber011@example.test")
    long_ago = utcnow() - dt.timedelta(minutes=30)

    def last_seen():
        with demo.app_context():
            return db.session.scalar(sa.select(SignInSession.last_seen_at))

    with demo.app_context():
        db.session.execute(sa.update(SignInSession).values(last_seen_at=long_ago))
        db.session.commit()
        known = rev()
    assert client.get(f"/ber/revision?depuis={known}").status_code == 204
    assert last_seen() == long_ago
    assert client.get("/ber/creneaux").status_code == 200
    assert last_seen() > long_ago


@pytest.fixture
def limited_app(demo, database_url):
    """An app under a default rate limit that would bite a normal agent. The limiter is one
    per process (rdvpl.extensions): its default limits are taken away afterwards, so that the
    next tests' apps do not inherit them."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "WTF_CSRF_ENABLED": False, "MAIL_SERVER": None,
                      "RATELIMIT_DEFAULT": "3 per hour"})
    try:
        yield app
    finally:
        limiter.limit_manager.set_default_limits([])
        limiter.reset()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_no_rate_limit_counts_the_polls(limited_app):
    """Even under a default limit that would bite, an agent's grid polls for hours."""
    client = limited_app.test_client()
    AuthActions(client).login("ber011@example.test")
    polls = [client.get("/ber/revision?depuis=-1").status_code for _ in range(20)]
    assert polls == [200] * 20
    pages = [client.get("/ber/creneaux/auto-ecoles?q=al", headers=HX).status_code
             for _ in range(5)]
    assert 429 in pages  # the limit does bite elsewhere: the polls are exempt, not unlimited


# --- the pages carry their revision --------------------------------------------------------


@pytest.mark.parametrize("url", ["/ber/creneaux", "/ber/planification"])
def test_each_grid_page_knows_the_revision_it_was_rendered_at(ber, url):
    known = rev()
    page = ber.get(url).get_data(as_text=True)
    assert f'data-live-revision="{known}"' in page
    assert 'data-live-url="/ber/revision"' in page
    assert 'id="live-notice"' in page and 'role="status"' in page


# --- "Gérer les créneaux": the refresh ------------------------------------------------------


def refresh_creneaux(client, unit_ids, **extra):
    dumas = db.session.scalar(sa.select(Inspector.id).where(Inspector.last_name == "DUMAS"))
    query = {"inspecteur": dumas, "categorie": "CE", "date": dates.ddmmyyyy(FRIDAY),
             "unit": [str(i) for i in unit_ids], "nombre": "1", **extra}
    return client.get("/ber/creneaux/actualisation", query_string=query, headers=HX)


def test_a_ticked_unit_reserved_meanwhile_leaves_the_selection_with_a_notice(ber):
    taken, kept = dumas_units(FRIDAY)[:2]
    name = (f"L'unité du {dates.jour_date(FRIDAY)} de {taken.start_time:%H:%M} à "
            f"{taken.end_time:%H:%M} (DUMAS Anna)")
    taken_id, kept_id = taken.id, kept.id
    another_agent_reserves(taken_id)
    response = refresh_creneaux(ber, [taken_id, kept_id])
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert response.headers["X-Grid-Revision"] == str(rev())
    # The grid: the unit shows the school's name; the other one stays ticked.
    assert page.lstrip().startswith('<div id="grid"')
    assert f"DUMAS Anna, {dates.jour_date(FRIDAY)}, {taken.start_time:%H:%M} - " \
           f"{taken.end_time:%H:%M}, Alliance Auto-Ecole" in labels(page)
    assert ticked(page) == [str(kept_id)]
    # The panel lists only the unit still free, and the notice names the one taken.
    assert "1 unité sélectionnée" in text(page)
    assert live_notice(page) == (f"{name} a été attribuée entre-temps : elle est retirée de "
                                 "votre sélection.")
    # The summary comes along.
    assert 'id="summary-total"' in page and 'id="summary-lines"' in page


def test_indispo_and_deleted_sessions_are_named_too(ber):
    first, second = dumas_units(FRIDAY)[:2]
    first_id, second_id, session_id = first.id, second.id, second.session_id
    booking.set_unit_status(user_by_email("ber011@example.test"), first_id, UnitStatus.INDISPO)
    db.session.expire_all()
    same_session = first.session_id == session_id
    sessions.delete_session(user_by_email("ber011@example.test"), session_id)
    page = refresh_creneaux(ber, [first_id, second_id]).get_data(as_text=True)
    notice = live_notice(page)
    assert ticked(page) == []
    assert "Une unité de votre sélection a été supprimée entre-temps avec sa session : elle " \
           "est retirée de votre sélection." in notice
    if not same_session:
        assert "est passée au statut Indispo entre-temps" in notice


def test_nothing_taken_no_notice(ber):
    free = [u.id for u in dumas_units(FRIDAY)[:2]]
    page = refresh_creneaux(ber, free).get_data(as_text=True)
    assert ticked(page) == [str(i) for i in free]
    assert 'id="live-notice"' not in page and "2 unités sélectionnées" in text(page)


def test_another_department_s_unit_is_dropped_unnamed(demo, client, auth):
    with demo.app_context():
        ours = dumas_units(FRIDAY)[0].id
    auth.login("ber034@example.test")
    with demo.app_context():
        page = client.get("/ber/creneaux/actualisation", query_string={"unit": str(ours)},
                          headers=HX).get_data(as_text=True)
    assert "DUMAS" not in page and ticked(page) == []
    assert "supprimée entre-temps" in live_notice(page)


def test_all_inspectors_refresh_the_rows_the_page_shows(ber):
    query = {"inspecteur": "tous", "date": dates.ddmmyyyy(FRIDAY), "depuis": "0"}
    one_chunk = ber.get("/ber/creneaux/actualisation", query_string={**query, "nombre": "1"},
                        headers=HX).get_data(as_text=True)
    many = ber.get("/ber/creneaux/actualisation", query_string={**query, "nombre": "100"},
                   headers=HX).get_data(as_text=True)
    assert one_chunk.count('class="creneaux-inspector"') >= 1
    assert many.count('class="creneaux-inspector"') >= one_chunk.count(
        'class="creneaux-inspector"')
    assert "Afficher les inspecteurs suivants" not in many


def test_a_direct_visit_of_the_refresh_is_the_page(ber):
    response = ber.get("/ber/creneaux/actualisation?inspecteur=tous")
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)


# --- "Planifier les activités": the refresh -------------------------------------------------


def test_a_ticked_cell_planned_meanwhile_leaves_the_selection_with_a_notice(ber):
    dumas = db.session.scalar(sa.select(Inspector).where(Inspector.last_name == "DUMAS"))
    carcassonne = db.session.scalar(sa.select(Centre).where(Centre.name == "CARCASSONNE"))
    dumas_id, centre_id = dumas.id, carcassonne.id
    planned = f"{dumas_id}|{TUESDAY.isoformat()}|M1"
    still = f"{dumas_id}|{TUESDAY.isoformat()}|M2"
    sessions.plan_sessions(user_by_email("ber011@example.test"), centre_id, category("CE").id,
                           [sessions.CellRef(dumas_id, TUESDAY, Tranche.M1)])
    response = ber.get("/ber/planification/actualisation", headers=HX, query_string={
        "date": dates.ddmmyyyy(TUESDAY), "centre": centre_id, "categorie": "CE",
        "nom": "DUMAS", "cell": [planned, still], "nombre": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["X-Grid-Revision"] == str(rev())
    assert page.lstrip().startswith('<div id="grid"')
    assert f"DUMAS Anna, {dates.jour_date(TUESDAY)}, 08:00 - 10:00, CE CARCASSONNE" \
        in labels(page)
    assert ticked(page) == [still]
    assert "1 session(s) sélectionnée(s)" in text(page)
    assert live_notice(page) == (
        f"La session du {dates.jour_date(TUESDAY)} de 08:00 à 10:00 (DUMAS Anna) a été "
        "planifiée entre-temps (CE CARCASSONNE) : elle est retirée de votre sélection.")
