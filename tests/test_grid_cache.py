"""Cached grids (rdvpl/grid_cache.py) are never stale: every change the grids show is on the
next page, whatever was cached before it (the department's grid revision keys the entries);
two departments never share an entry; the clock (a unit that has started) is part of the key.
The same holds with the Redis backend when a Redis server is reachable."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import socket
import uuid

import pytest
import sqlalchemy as sa

from rdvpl import booking, capacity, dates, referentiels, sessions
from rdvpl.extensions import db
from rdvpl.models import Centre, Inspector, Session, Tranche, Unit, UnitStatus
from tests.conftest import user_by_email
from tests.helpers import AGENT_PASSWORD, category, department_with, ordinary_week, school

AGENT = "ber011@example.test"
AHEAD = ordinary_week(dates.monday_of(dates.today()) + dt.timedelta(weeks=3))


@pytest.fixture
def ber(demo, client, auth):
    auth.login(AGENT)
    return client


def dumas(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Inspector.id).where(Inspector.last_name == "DUMAS"))


def creneaux(client, inspector_id: int, monday: dt.date) -> str:
    page = client.get(f"/ber/creneaux?inspecteur={inspector_id}&categorie=Tous"
                      f"&date={dates.ddmmyyyy(monday)}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def planning(client, monday: dt.date, name: str = "DUMAS") -> str:
    page = client.get(f"/ber/planification?nom={name}&date={dates.ddmmyyyy(monday)}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def unit_class(page: str, unit_id: int) -> str | None:
    found = re.search(rf'id="unit-{unit_id}" class="cunit cunit--([a-z]+)( cunit--past)?', page)
    return found and found.group(1) + (found.group(2) or "")


def cell_class(page: str, inspector_id: int, day: dt.date, tranche: str) -> str | None:
    found = re.search(rf'id="cell-{inspector_id}-{day:%Y%m%d}-{tranche}" class="pcell '
                      rf'pcell--([a-z]+)"', page)
    return found and found.group(1)


def a_free_unit(app) -> tuple[int, int, dt.date]:
    """An inspector of the agent's department, a Dispo AE unit of his from tomorrow on, and
    the Monday of its week."""
    with app.app_context():
        unit = db.session.scalar(
            sa.select(Unit).join(Unit.session)
            .where(Session.department_id == user_by_email(AGENT).department_id,
                   Unit.status == UnitStatus.DISPO,
                   Session.date > dates.today())
            .order_by(Session.date, Unit.start_time).limit(1))
        return unit.session.inspector_id, unit.id, dates.monday_of(unit.session.date)


def statements(app, action) -> int:
    with app.app_context():
        engine = db.engine
    count = [0]

    def counter(*_args):
        count[0] += 1

    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    return count[0]


def test_the_second_visit_is_served_from_the_cache(app, ber):
    who, _, monday = a_free_unit(app)
    first = statements(app, lambda: creneaux(ber, who, monday))
    second = statements(app, lambda: creneaux(ber, who, monday))
    assert second < first
    first = statements(app, lambda: planning(ber, monday))
    second = statements(app, lambda: planning(ber, monday))
    assert second < first


def form_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_a_cached_page_gives_each_browser_its_own_form_token(demo):
    from rdvpl.grid_cache import CSRF_PLACEHOLDER

    demo.config["WTF_CSRF_ENABLED"] = True
    browsers, counts = [], []
    for _ in range(2):  # the same agent in two browsers
        browser = demo.test_client()
        token = form_token(browser.get("/connexion").get_data(as_text=True))
        assert browser.post("/connexion", data={"csrf_token": token, "email": AGENT,
                                                "password": "demo-ber-011"}).status_code == 302
        browser.get("/ber/creneaux")  # the first page after the sign-in
        if not browsers:
            demo.extensions["grid_cache"].clear()  # the first browser's page is rendered
        page = []
        counts.append(statements(demo, lambda b=browser, p=page: p.append(
            b.get("/ber/creneaux").get_data(as_text=True))))
        assert CSRF_PLACEHOLDER not in page[0] and "Gérer les créneaux" in page[0]
        browsers.append((browser, form_token(page[0])))
    assert counts[1] < counts[0]  # the second browser's page came from the cache
    (first, first_token), (second, second_token) = browsers
    expired = "Le formulaire a expiré"
    assert expired not in first.post("/ber/creneaux/reservation",
                                     data={"csrf_token": first_token}).get_data(as_text=True)
    assert expired in first.post("/ber/creneaux/reservation",
                                 data={"csrf_token": second_token}).get_data(as_text=True)
    assert expired not in second.post("/ber/creneaux/reservation",
                                      data={"csrf_token": second_token}).get_data(as_text=True)


def test_a_page_kept_as_bytes_is_the_page_rendered():
    from rdvpl.grid_cache import CSRF_PLACEHOLDER, PageBody

    html = f"<p>Équipe – {CSRF_PLACEHOLDER} é {CSRF_PLACEHOLDER}</p>"
    body = PageBody(html)
    assert str(body) == html and len(body) == len(html.replace(CSRF_PLACEHOLDER, "").encode())
    assert body.with_token("t0k") == "<p>Équipe – t0k é t0k</p>".encode()


def test_a_reservation_and_a_status_change_show_on_the_next_visit(app, ber):
    who, unit_id, monday = a_free_unit(app)
    for _ in range(2):  # cached
        assert unit_class(creneaux(ber, who, monday), unit_id) == "dispo"
    with app.app_context():
        booking.reserve_units(user_by_email(AGENT), [unit_id], school().id)
    page = creneaux(ber, who, monday)
    assert unit_class(page, unit_id) == "reserved"
    assert school_name(app) in page
    with app.app_context():
        booking.cancel_unit_by_ber(user_by_email(AGENT), unit_id)
    assert unit_class(creneaux(ber, who, monday), unit_id) == "indispo"
    with app.app_context():
        booking.set_unit_status(user_by_email(AGENT), unit_id, UnitStatus.DISPO)
    assert unit_class(creneaux(ber, who, monday), unit_id) == "dispo"


def school_name(app) -> str:
    with app.app_context():
        return school().raison_sociale


def test_a_planned_session_shows_on_both_grids(app, ber):
    who = dumas(app)
    day = AHEAD + dt.timedelta(days=1)
    before = creneaux(ber, who, AHEAD)
    assert cell_class(planning(ber, AHEAD), who, day, "M1") == "free"
    assert cell_class(planning(ber, AHEAD), who, day, "M1") == "free"  # cached
    with app.app_context():
        carcassonne = db.session.scalar(sa.select(Centre.id).where(Centre.name == "CARCASSONNE"))
        planned = sessions.plan_sessions(user_by_email(AGENT), carcassonne, category("CE").id,
                                         [sessions.CellRef(who, day, Tranche.M1)])
        unit_ids = [u.id for u in planned[0].units]
        session_id = planned[0].id
    assert cell_class(planning(ber, AHEAD), who, day, "M1") == "planned"
    after = creneaux(ber, who, AHEAD)
    assert all(unit_class(before, i) is None for i in unit_ids)
    assert all(unit_class(after, i) == "dispo" for i in unit_ids)
    with app.app_context():
        sessions.delete_session(user_by_email(AGENT), session_id)
    assert cell_class(planning(ber, AHEAD), who, day, "M1") == "free"
    assert all(unit_class(creneaux(ber, who, AHEAD), i) is None for i in unit_ids)


def test_a_worked_saturday_and_an_absence_show_on_the_planning_grid(app, ber):
    who = dumas(app)
    saturday = AHEAD + dt.timedelta(days=5)
    wednesday = AHEAD + dt.timedelta(days=2)
    for _ in range(2):
        page = planning(ber, AHEAD)
        assert cell_class(page, who, saturday, "M1") == "closed"
        assert cell_class(page, who, wednesday, "S1") == "free"
    with app.app_context():
        capacity.set_worked_saturday(user_by_email(AGENT), who, saturday, True)
    assert cell_class(planning(ber, AHEAD), who, saturday, "M1") == "free"
    with app.app_context():
        capacity.add_absence(user_by_email(AGENT), who, "Formation", wednesday, False,
                             wednesday, True)
    page = planning(ber, AHEAD)
    assert cell_class(page, who, wednesday, "S1") == "unavailable"
    assert "Indisponible (Formation)" in page


def test_the_day_after_the_horizon_opens_on_the_next_day(app, ber, paris_clock):
    """A cell a year and a day ahead is "Au-delà d'un an"; the next day it is free, though
    nothing changed in the database (the cached week keys by the date)."""
    who = dumas(app)
    horizon = dates.one_year_after(dates.today())
    beyond = horizon + dt.timedelta(days=1)
    while beyond.weekday() not in (1, 2, 3, 4) or dates.public_holiday(beyond) \
            or dates.public_holiday(beyond - dt.timedelta(days=1)):
        beyond += dt.timedelta(days=1)  # Tuesday to Friday: its eve is a weekday of its week
    today = dates.today() + (beyond - dt.timedelta(days=1) - horizon)
    paris_clock(dt.datetime.combine(today, dt.time(9)))
    monday = dates.monday_of(beyond)
    for _ in range(2):
        page = planning(ber, monday)
        assert cell_class(page, who, beyond, "M1") == "beyond"
        assert cell_class(page, who, beyond - dt.timedelta(days=1), "M1") == "free"
    assert "Au-delà d'un an" in html.unescape(page)
    paris_clock(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(9)))
    assert cell_class(planning(ber, monday), who, beyond, "M1") == "free"


def test_a_renamed_inspector_shows_everywhere(app, ber):
    who, _, monday = a_free_unit(app)
    creneaux(ber, who, monday), planning(ber, monday)
    with app.app_context():
        inspector = db.session.get(Inspector, who)
        first = inspector.first_name
        referentiels.update_inspector(user_by_email(AGENT), who, "DURAND-DUMAS",
                                      inspector.first_name, inspector.matricule,
                                      inspector.home_centre_id)
    page = creneaux(ber, who, monday)
    assert f"{first} DURAND-DUMAS" in page  # the filter and the heading
    assert f"DURAND-DUMAS {first}, " in page  # the units' accessible names
    assert f"DURAND-DUMAS {first}" in planning(ber, monday, name="DURAND")


def test_two_departments_never_share_an_entry(app, demo):
    monday = AHEAD
    week = [(monday + dt.timedelta(days=d), t) for d in range(5) for t in Tranche]
    with app.app_context():
        emails = [department_with(2, code, week) for code in ("901", "902")]
        # The same grid revision in both: only the department tells their entries apart.
        db.session.execute(sa.text("UPDATE department SET grid_revision = 7 "
                                   "WHERE code IN ('901', '902')"))
        db.session.commit()
    pages = {}
    for email in emails:
        client = app.test_client()
        client.post("/connexion", data={"email": email, "password": AGENT_PASSWORD})
        for _ in range(2):
            pages[email] = (
                client.get(f"/ber/creneaux?inspecteur=tous&categorie=Tous"
                           f"&date={dates.ddmmyyyy(monday)}").get_data(as_text=True),
                client.get(f"/ber/planification?date={dates.ddmmyyyy(monday)}")
                .get_data(as_text=True))
    for email, code in zip(emails, ("901", "902"), strict=True):
        for page in pages[email]:
            assert f"CENTRE {code}" in page
            other = "902" if code == "901" else "901"
            assert f"CENTRE {other}" not in page


def test_a_unit_that_starts_becomes_past_on_the_next_visit(app, ber, paris_clock):
    who, unit_id, monday = a_free_unit(app)
    with app.app_context():
        unit = db.session.get(Unit, unit_id)
        day, start = unit.session.date, unit.start_time
    wall = dt.datetime.combine(day, start) - dt.timedelta(minutes=1)
    paris_clock(wall)
    for _ in range(2):
        assert unit_class(creneaux(ber, who, monday), unit_id) == "dispo"
    paris_clock(wall + dt.timedelta(minutes=1))
    assert unit_class(creneaux(ber, who, monday), unit_id) == "dispo cunit--past"


def suggestions(client, text: str) -> list[str]:
    page = client.get(f"/ber/creneaux/auto-ecoles?q={text}",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    return re.findall(r'<span class="creneaux-suggestion__name">([^<]+)</span>', page)


def test_the_school_search_follows_a_new_a_renamed_and_a_deactivated_school(app, ber):
    from rdvpl import referentiels

    assert suggestions(ber, "zébulon") == []
    with app.app_context():
        agent = user_by_email(AGENT)
        created = referentiels.create_school(agent, agent.department_id, "Auto-École Zébulon",
                                             "ZEB-1", "zebulon@example.test")
        created_id = created.id
    assert suggestions(ber, "zebulon") == ["Auto-École Zébulon"]  # folded: accents, case
    with app.app_context():
        referentiels.update_school(user_by_email(AGENT), created_id, "Auto-École Zébulon II",
                                   "ZEB-1", "zebulon@example.test")
    assert suggestions(ber, "zebulon") == ["Auto-École Zébulon II"]
    with app.app_context():
        referentiels.set_school_active(user_by_email(AGENT), created_id, False)
    assert suggestions(ber, "zebulon") == []


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_reachable(), reason="no Redis server on 127.0.0.1:6379")
def test_with_redis_a_reservation_shows_on_the_next_visit(app, ber, monkeypatch):
    from rdvpl import grid_cache

    monkeypatch.setattr(grid_cache, "PREFIX", f"rdvpl:test:{uuid.uuid4().hex}:")
    url = "redis://127.0.0.1:6379/0"
    app.extensions["grid_cache"] = grid_cache.TieredCache(grid_cache.LocalCache(),
                                                          grid_cache.RedisCache(url))
    try:
        who, unit_id, monday = a_free_unit(app)
        first = statements(app, lambda: creneaux(ber, who, monday))
        assert statements(app, lambda: creneaux(ber, who, monday)) < first
        # Another worker (its own, empty LRU) finds the page in Redis: nothing rendered.
        app.extensions["grid_cache"] = grid_cache.TieredCache(grid_cache.LocalCache(),
                                                              grid_cache.RedisCache(url))
        assert statements(app, lambda: creneaux(ber, who, monday)) < first
        assert len(app.extensions["grid_cache"].near) >= 1  # and keeps its own copy
        with app.app_context():
            booking.reserve_units(user_by_email(AGENT), [unit_id], school().id)
        assert unit_class(creneaux(ber, who, monday), unit_id) == "reserved"
    finally:
        app.extensions["grid_cache"].clear()


def test_with_redis_down_the_page_is_rendered_from_the_database(app, ber, caplog):
    from rdvpl import grid_cache

    # Nothing listens on port 1: every Redis call fails, and the page still shows.
    app.extensions["grid_cache"] = grid_cache.TieredCache(
        grid_cache.LocalCache(), grid_cache.RedisCache("redis://127.0.0.1:1/0"))
    who, unit_id, monday = a_free_unit(app)
    with caplog.at_level(logging.WARNING, logger="rdvpl.grid_cache"):
        assert unit_class(creneaux(ber, who, monday), unit_id) == "dispo"
    assert "Redis read failed" in caplog.text


def test_the_process_cache_holds_at_most_its_size_in_html():
    from markupsafe import Markup

    from rdvpl.grid_cache import LocalCache

    cache = LocalCache(size=100, max_mb=1)
    page = Markup("x" * 300_000)  # ~0.3 MB
    for n in range(5):
        cache.set(f"k{n}", (page, {}))
    assert len(cache) == 3  # the 4th pushed out the oldest
    assert cache.get("k0") is None and cache.get("k4") is not None
    assert cache.chars <= 1024 * 1024
    cache.set("huge", (Markup("x" * 2_000_000), {}))  # bigger than the whole cache: not kept
    assert cache.get("huge") is None and len(cache) == 3
    cache.set("k4", (Markup("y"), {}))  # replaced, not counted twice
    assert cache.chars == 2 * (300_000 + 64) + 1 + 64


# --- "Mes examens programmés" (AE 1): cached rows, one page at a time --------------------------

SCHOOL = "alliance@example.test"


@pytest.fixture
def ae(demo, client, auth):
    auth.login(SCHOOL)
    return client


def exam_rows(page: str) -> list[str]:
    return re.findall(r'id="exam-(\d+)" data-testid="exam-row"', page)


def units_total(page: str) -> int:
    """The sum of the column "Unités attribuées"."""
    return sum(int(n) for n in re.findall(r"<td>\d\d:\d\d</td><td>(\d+)</td>", page))


def test_the_school_sees_a_reservation_and_its_own_cancellation_at_once(app, ae):
    page = ae.get("/ae/examens?categorie=CE").get_data(as_text=True)
    assert ae.get("/ae/examens?categorie=CE").get_data(as_text=True).count("exam-row") == \
        page.count("exam-row")  # cached
    _, unit_id, _ = a_free_unit(app)
    with app.app_context():
        booking.reserve_units(user_by_email(AGENT), [unit_id], school().id)
    after = ae.get("/ae/examens?categorie=CE").get_data(as_text=True)
    assert units_total(after) == units_total(page) + 1
    with app.app_context():
        far = db.session.scalar(
            sa.select(Unit.id).join(Unit.session)
            .where(Unit.auto_ecole_id == school().id, Unit.status == UnitStatus.RESERVED,
                   Session.date >= dates.today() + dt.timedelta(days=8))
            .order_by(Session.date, Unit.start_time).limit(1))
        booking.cancel_unit_by_ae(user_by_email(SCHOOL), far)
    assert units_total(ae.get("/ae/examens?categorie=CE").get_data(as_text=True)) == \
        units_total(after) - 1


def test_the_exams_come_a_page_at_a_time(app, ae, monkeypatch):
    from rdvpl import exams

    all_rows = exam_rows(ae.get("/ae/examens?categorie=CE").get_data(as_text=True))
    assert len(all_rows) >= 3
    app.extensions["grid_cache"].clear()
    monkeypatch.setattr(exams, "PAGE_ROWS", 2)
    first = ae.get("/ae/examens?categorie=CE").get_data(as_text=True)
    assert exam_rows(first) == all_rows[:2]
    assert (f"Afficher les examens suivants (3 à {min(4, len(all_rows))} sur {len(all_rows)})"
            in first)
    second = ae.get("/ae/examens?categorie=CE&page=2", headers={"HX-Request": "true"})
    html = second.get_data(as_text=True)
    assert exam_rows(html) == all_rows[2:4]
    assert "<form" not in html  # only the rows and the next "more" line
