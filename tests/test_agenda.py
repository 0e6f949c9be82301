""""Mon agenda" (AE 4): the private feed link (generated, shown once, stored hashed, revoked by
a new one) and the feed itself (no session, the school's upcoming PL exams only, 404 for an
unknown or revoked link, rate-limited). Feeds are read with tests/ical_parse.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import sqlalchemy as sa

from rdvpl import booking
from rdvpl.extensions import db
from rdvpl.models import AutoEcole, History, Tranche, Unit
from rdvpl.seed import seed_demo
from tests import ical_parse
from tests.conftest import user_by_email
from tests.helpers import planned_session, school

FRIDAY = dt.date(2027, 3, 26)
FEED = re.compile(r'value="(http://localhost/ae/agenda/flux/([A-Za-z0-9_-]+)\.ics)"')


@pytest.fixture(autouse=True)
def _before_those_dates(paris_clock):
    """"Today" is 01/03/2027 for these tests, so that their fixed dates stay ahead of it."""
    paris_clock(dt.datetime(2027, 3, 1, 9))


@pytest.fixture
def exams(app):
    """Friday 26/03/2027, DUMAS 10:00-12:00: 10:00-11:00 for Alliance Auto-Ecole, 11:30 for
    Alliance du 002; a past exam of Alliance's. Returns (Alliance's UID, the other's UID)."""
    with app.app_context():
        seed_demo()
        ber = user_by_email("ber011@example.test")
        session = planned_session("DUMAS", FRIDAY, Tranche.M2)
        units = sorted(session.units, key=lambda u: u.start_time)
        booking.reserve_units(ber, [units[0].id, units[1].id], school().id)
        booking.reserve_units(ber, [units[3].id], school("auto-ecole-aurige-2").id)
        past = planned_session("DUMAS", dt.date(2026, 1, 9), Tranche.M1, reserved=[0],
                               for_school=school())
        mine = db.session.get(Unit, units[0].id).ics_uid
        theirs = db.session.get(Unit, units[3].id).ics_uid
        past_unit = past.units[0].id
    return mine, theirs, past_unit


def generate(client) -> tuple[str, str]:
    """Press "Générer un nouveau lien": (the page, the feed URL's token)."""
    response = client.post("/ae/agenda/lien")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    url, token = FEED.search(page).groups()
    return page, token


def feed(app, token: str):
    """The feed as a calendar app reads it: a client with no cookie at all."""
    return app.test_client().get(f"/ae/agenda/flux/{token}.ics")


def test_the_page_generates_a_link_shown_once(app, exams, client, auth):
    auth.login("alliance@example.test")
    page = client.get("/ae/agenda").get_data(as_text=True)
    assert "Vous n'avez pas encore de lien d'agenda." in page
    assert "Générer un nouveau lien" in page and 'aria-current="page">Mon agenda' in page

    page, token = generate(client)
    assert "Nouveau lien généré !" in page
    assert len(token) >= 22  # ≥ 128 bits in URL-safe base64
    with app.app_context():
        row = db.session.get(AutoEcole, school().id)
        assert row.calendar_token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(db.session.execute(sa.select(AutoEcole.__table__)).all())
        [entry] = db.session.scalars(sa.select(History).where(
            History.action == "calendar.link_generated")).all()
        assert token not in str(entry.before) + str(entry.after)

    # Shown once: the page now only says a link is live.
    page = client.get("/ae/agenda").get_data(as_text=True)
    assert token not in page and "Un lien d'agenda est actif depuis le" in page


def test_the_feed_lists_the_school_s_upcoming_exams_only(app, exams, client, auth):
    mine, theirs, past_unit = exams
    auth.login("alliance@example.test")
    _, token = generate(client)
    response = feed(app, token)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "Set-Cookie" not in response.headers
    text = response.get_data(as_text=True)
    calendar, events = ical_parse.events(text)
    assert "METHOD" not in {p.name for p in calendar.props}
    assert calendar.one("X-WR-CALNAME").text == "Examens PL — Alliance Auto-Ecole"
    by_uid = {e["UID"]: e for e in events}
    # The same UID as the reservation e-mail's event, 10:00-11:00 Paris = 09:00-10:00 UTC.
    ours = by_uid[mine]
    assert ours.one("DTSTART").moment.astimezone(dt.UTC) == dt.datetime(2027, 3, 26, 9,
                                                                        tzinfo=dt.UTC)
    assert ours.one("DTEND").moment.astimezone(dt.UTC) == dt.datetime(2027, 3, 26, 10,
                                                                      tzinfo=dt.UTC)
    assert ours.one("LOCATION").text == "CARCASSONNE"
    assert theirs not in text  # another school's exam
    assert f"examen-unite-{past_unit}@" not in text  # a past exam
    assert "DUMAS" not in text
    with app.app_context():  # every event is one of Alliance's upcoming reserved units
        alliance_units = db.session.scalars(sa.select(Unit).where(
            Unit.auto_ecole_id == school().id)).all()
        known = {u.ics_uid for u in alliance_units} | {
            f"examen-unite-{u.id}@rdvpermis.example.test" for u in alliance_units}
    assert set(by_uid) <= known


def test_a_new_link_revokes_the_old_one_at_once(app, exams, client, auth):
    auth.login("alliance@example.test")
    _, old = generate(client)
    assert feed(app, old).status_code == 200
    _, new = generate(client)
    assert new != old
    assert feed(app, old).status_code == 404
    assert feed(app, new).status_code == 200


@pytest.mark.parametrize("token", ["A" * 43, "court", "A" * 44, "%2e%2e", "x" * 300])
def test_unknown_links_are_404(app, exams, token):
    assert feed(app, token).status_code == 404


def test_another_school_s_link_shows_none_of_these_exams(app, exams, client, auth):
    mine, theirs, _ = exams
    auth.login("herault@example.test")  # a school of 034
    _, token = generate(client)
    response = feed(app, token)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert mine not in text and theirs not in text and "CARCASSONNE" not in text


def test_other_roles_cannot_generate_a_link(app, exams, client, auth):
    auth.login("ber011@example.test")
    assert client.get("/ae/agenda").status_code == 403
    assert client.post("/ae/agenda/lien").status_code == 403
    auth.logout()
    response = client.post("/ae/agenda/lien")
    assert response.status_code == 302 and "/connexion" in response.location
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AutoEcole).where(
            AutoEcole.calendar_token_hash.is_not(None))) == 0


def test_the_feed_is_rate_limited_per_link(app, exams, client, auth):
    auth.login("alliance@example.test")
    _, token = generate(client)
    reader = app.test_client()
    statuses = [reader.get(f"/ae/agenda/flux/{token}.ics").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


def test_guessing_links_is_rate_limited_per_address(app, exams):
    reader = app.test_client()
    statuses = [reader.get(f"/ae/agenda/flux/{i:043d}.ics").status_code for i in range(31)]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429


def test_htmx_swaps_the_block_and_the_banner(app, exams, client, auth):
    auth.login("alliance@example.test")
    response = client.post("/ae/agenda/lien", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="agenda"' in html and 'data-testid="feed-url"' in html
    assert 'hx-swap-oob="innerHTML"' in html and "Nouveau lien généré !" in html


def test_an_inactive_school_s_feed_is_404(app, exams, client, auth):
    auth.login("alliance@example.test")
    _, token = generate(client)
    with app.app_context():
        db.session.get(AutoEcole, school().id).active = False
        db.session.commit()
    assert feed(app, token).status_code == 404
