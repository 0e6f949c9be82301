"""AE 1-2 screens through the Flask client: the page or its fragment, the dialogs, the
cancellation's response (banner, re-grouped table, emptied dialog), refusals, scoping."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from rdvpl import dates, revision
from rdvpl.booking import can_ae_cancel
from rdvpl.extensions import db
from rdvpl.models import (
    Category,
    History,
    Inspector,
    OutboxMail,
    Session,
    Tranche,
    Unit,
    UnitStatus,
)
from rdvpl.sessions import new_session
from tests.helpers import inspector, school

HX = {"HX-Request": "true"}


class _Rows(HTMLParser):
    """The cells of every table row marked data-testid="exam-row" (visible text only)."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("data-testid") == "exam-row":
            self.rows.append([])
        elif tag == "td" and self.rows is not None:
            self._cell = []
        elif tag == "span" and "fr-sr-only" in (attrs.get("class") or ""):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "span" and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if self._cell is not None and not self._hidden:
            self._cell.append(data)


def rows_of(html: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(html)
    return [r[:5] for r in parser.rows]


SEEDED_THURSDAY = dates.monday_of(dates.today()) + dt.timedelta(days=10)


def thursday() -> dt.date:
    """The demo's guide Thursday: DUMAS Anna, 10:00 x4 and 14:30 x2 for Alliance. The demo
    seeds it next week; these tests want the school able to cancel it, so on a Saturday or a
    Sunday (less than 6 days before) the `demo` fixture below moves it a week later."""
    if can_ae_cancel(SEEDED_THURSDAY, dates.now()):
        return SEEDED_THURSDAY
    return SEEDED_THURSDAY + dt.timedelta(days=7)


@pytest.fixture
def demo(demo):
    """The demo data, with the guide Thursday where thursday() says."""
    if thursday() != SEEDED_THURSDAY:
        with demo.app_context():
            db.session.execute(sa.update(Session).where(
                Session.inspector_id == inspector("DUMAS").id,
                Session.date == SEEDED_THURSDAY).values(date=thursday()))
            db.session.commit()
    return demo


def alliance_units(day: dt.date) -> list[Unit]:
    return db.session.scalars(
        sa.select(Unit).join(Unit.session)
        .where(Unit.auto_ecole_id == school().id, Session.date == day)
        .order_by(Unit.start_time)).all()


@pytest.fixture
def ae(demo, client, auth):
    auth.login("alliance@example.test")
    return client


@pytest.fixture
def guide_units(demo):
    """Ids of Alliance's six units on the guide Thursday (10:00-12:00, 14:30-15:30)."""
    with demo.app_context():
        return [u.id for u in alliance_units(thursday())]


def snapshot(app) -> tuple:
    with app.app_context():
        return (
            db.session.execute(sa.select(Unit.id, Unit.status, Unit.auto_ecole_id)
                               .order_by(Unit.id)).all(),
            db.session.scalar(sa.select(sa.func.count()).select_from(History)),
            db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)),
        )


# --- AE 1: the page ---------------------------------------------------------------------------


def test_page_shows_months_rows_and_public_inspector_names(ae):
    response = ae.get("/ae/examens")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Mes examens programmés" in html and "Catégorie de permis" in html
    assert "Permis CE" in html and "Voir les examens passés" in html
    for column in ("Date des examens", "Heure de convocation", "Unités attribuées",
                   "Centre d'examen", "Inspecteur"):
        assert column in html
    day = dates.jour_date_cap(thursday())
    rows = rows_of(html)
    assert [day, "10:00", "4", "CARCASSONNE", "Inspecteur 2488"] in rows
    assert [day, "14:30", "2", "CARCASSONNE", "Inspecteur 2488"] in rows
    assert f"<caption>{dates.mois(thursday())}</caption>" in html
    # The accessible name of the row's button: date, hour, centre, units.
    assert f"{day}, 10:00, CARCASSONNE, 4 unités" in html
    # Inspectors appear by matricule only, never by name.
    for name in ("DUMAS", "Anna", "ARNAUD", "Agathe", "MONTEIL", "MARAIS"):
        assert name not in html


def test_page_shows_only_the_schools_own_units(ae, demo):
    html = ae.get("/ae/examens").get_data(as_text=True)
    with demo.app_context():
        own = db.session.scalar(sa.select(sa.func.count()).select_from(Unit).join(Unit.session)
                                .where(Unit.auto_ecole_id == school().id,
                                       Session.date >= dates.today()))
    assert sum(int(r[2]) for r in rows_of(html)) == own
    assert "MONTPELLIER" not in html and "NARBONNE" not in html  # Hérault's, Alliance du 051's


def test_months_are_in_chronological_order(ae):
    html = ae.get("/ae/examens").get_data(as_text=True)
    days = [dt.datetime.strptime(r[0].split()[1], "%d/%m/%Y").date() for r in rows_of(html)]
    assert days == sorted(days) and days[0] >= dates.today()
    captions = re.findall(r"<caption>(.*?)</caption>", html)
    assert captions == list(dict.fromkeys(dates.mois(d) for d in days))


def test_fragment_for_htmx_has_no_layout(ae):
    response = ae.get("/ae/examens?categorie=CE", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="exams"') and "Inspecteur 2488" in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_tampered_filters_fall_back_to_the_default_view(ae):
    html = ae.get("/ae/examens?categorie=%3Cscript%3E&periode=x").get_data(as_text=True)
    assert "<script>" not in html and 'value="CE" id=' in html and "checked" in html
    assert "Voir les examens passés" in html


def test_past_exams_on_request(ae, demo):
    with demo.app_context():
        dumas = db.session.scalar(sa.select(Inspector).where(Inspector.matricule == "2488"))
        past_day = dates.today() - dt.timedelta(days=35)
        session = new_session(dumas, dumas.home_centre,
                              db.session.scalar(sa.select(Category).where(Category.code == "CE")),
                              past_day, Tranche.M1, start=dt.time(8), end=dt.time(10))
        for unit in session.units[:3]:
            unit.status, unit.auto_ecole = UnitStatus.RESERVED, school()
        revision.grid_changed(school().department_id)  # as every domain change does
        db.session.commit()
    label = dates.jour_date_cap(past_day)
    assert label not in ae.get("/ae/examens").get_data(as_text=True)
    html = ae.get("/ae/examens?categorie=CE&periode=passes").get_data(as_text=True)
    assert rows_of(html) == [[label, "08:00", "3", "CARCASSONNE", "Inspecteur 2488"]]
    assert "Examens passés" in html and "Voir les examens à venir" in html
    # Past rows open, but cannot be cancelled.
    with demo.app_context():
        first = alliance_units(past_day)[0].id
    dialog = ae.get(f"/ae/examens/unites/{first}?periode=passes", headers=HX)
    assert "ne peuvent plus être annulés" in dialog.get_data(as_text=True)
    assert "disabled" in dialog.get_data(as_text=True)


def test_page_uses_a_constant_number_of_statements(ae, demo):
    def count_statements(url):
        statements = []
        with demo.app_context():
            engine = db.engine

        def listener(*args):
            statements.append(args[2])

        demo.extensions["grid_cache"].clear()  # the rows rendered, not taken from the cache
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert ae.get(url, headers=HX).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    few = count_statements("/ae/examens")
    with demo.app_context():  # reserve many more units, on other inspectors and days
        for unit in db.session.scalars(sa.select(Unit).where(Unit.status == UnitStatus.DISPO)
                                       .join(Unit.session)
                                       .where(Session.department_id == school().department_id)):
            unit.status, unit.auto_ecole = UnitStatus.RESERVED, school()
        revision.grid_changed(school().department_id)  # as every domain change does
        db.session.commit()
    many_html = ae.get("/ae/examens", headers=HX).get_data(as_text=True)
    assert len(rows_of(many_html)) > 10
    assert count_statements("/ae/examens") == few


# --- AE 2: the dialogs ------------------------------------------------------------------------


def test_units_dialog_lists_the_row(ae, guide_units):
    response = ae.get(f"/ae/examens/unites/{guide_units[0]}?categorie=CE", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert '<dialog class="app-dialog"' in html and "Unité(s)" in html
    assert dates.jour_date(thursday()).upper() in html
    assert "CARCASSONNE" in html and "4 unités" in html
    for i, hours in enumerate(["10:00 → 10:30", "10:30 → 11:00", "11:00 → 11:30",
                               "11:30 → 12:00"], start=1):
        assert f"Unité {i}" in html and hours in html
    assert html.count(">Annuler</button>") == 4 and "disabled" not in html
    assert f"/ae/examens/unites/{guide_units[1]}/annulation?categorie=CE" in html
    assert "DUMAS" not in html


def test_any_unit_of_a_row_opens_the_whole_row(ae, guide_units):
    html = ae.get(f"/ae/examens/unites/{guide_units[2]}", headers=HX).get_data(as_text=True)
    assert "4 unités" in html and "Unité 4" in html


def test_units_dialog_direct_visit_renders_the_page(ae, guide_units):
    html = ae.get(f"/ae/examens/unites/{guide_units[0]}").get_data(as_text=True)
    assert "<html" in html and "Mes examens programmés" in html and "Unité(s)" in html


def test_summary_dialog(ae, guide_units):
    response = ae.get(f"/ae/examens/unites/{guide_units[1]}/annulation?categorie=CE",
                      headers=HX)
    html = " ".join(response.get_data(as_text=True).split())
    assert response.status_code == 200 and "<html" not in html
    assert "Unité programmée" in html
    assert f"{dates.jour_date(thursday())}<br>10:30 → 11:00" in html
    assert "Permis <strong>CE</strong>" in html
    assert "Centre d'examen <strong>CARCASSONNE</strong>" in html
    assert "Vous êtes sur le point d'annuler une unité." in html
    assert "Conserver l'unité" in html and "Confirmer l'annulation" in html
    assert 'name="categorie" value="CE"' in html


def test_late_row_cannot_be_cancelled_from_the_dialog(ae, demo):
    with demo.app_context():
        from tests.test_ae_cancel import soon_unit

        soon = soon_unit().id
    html = ae.get(f"/ae/examens/unites/{soon}", headers=HX).get_data(as_text=True)
    assert "Pour une annulation tardive, contactez votre BER" in html
    assert html.count("disabled") == html.count(">Annuler</button>") >= 1
    assert "/annulation" not in html
    summary = ae.get(f"/ae/examens/unites/{soon}/annulation", headers=HX).get_data(as_text=True)
    assert "Pour une annulation tardive, contactez votre BER" in summary
    assert "disabled>Confirmer" in " ".join(summary.split()).replace("disabled >", "disabled>")


# --- AE 2: confirming -------------------------------------------------------------------------


def test_cancel_with_htmx_regroups_the_table(ae, demo, guide_units):
    response = ae.post(f"/ae/examens/unites/{guide_units[1]}/annulation",
                       data={"categorie": "CE"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "Annulation enregistrée !" in html
    assert "Votre place d&#39;examen a bien été annulée." in html
    assert '<div id="dialog" hx-swap-oob="innerHTML"></div>' in html
    assert '<div id="banner" aria-live="polite" hx-swap-oob="innerHTML">' in html
    day = dates.jour_date_cap(thursday())
    rows = [r for r in rows_of(html) if r[0] == day]
    assert [r[1:3] for r in rows] == [["10:00", "1"], ["11:00", "2"], ["14:30", "2"]]
    # The focus goes to the row the cancelled unit was next to (10:00), not lost on the page.
    [focused] = re.findall(r'id="row-(\d+)"[^>]*autofocus', html)
    assert int(focused) == guide_units[0]
    with demo.app_context():
        unit = db.session.get(Unit, guide_units[1])
        assert unit.status == UnitStatus.DISPO and unit.auto_ecole_id is None


def test_cancel_without_htmx_renders_the_page_with_the_banner(ae, guide_units):
    response = ae.post(f"/ae/examens/unites/{guide_units[0]}/annulation")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Annulation enregistrée !" in html and "hx-swap-oob" not in html
    day = dates.jour_date_cap(thursday())
    assert [r[1:3] for r in rows_of(html) if r[0] == day] == [["10:30", "3"], ["14:30", "2"]]


def test_double_submit_shows_a_message_and_changes_nothing(ae, demo, guide_units):
    url = f"/ae/examens/unites/{guide_units[1]}/annulation"
    assert ae.post(url, headers=HX).status_code == 200
    before = snapshot(demo)
    response = ae.post(url, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "déjà été annulée" in html and "fr-alert--error" in html
    assert '<div id="exams"' in html  # the current table comes with the message
    assert snapshot(demo) == before


def test_crafted_late_cancellation_is_refused(ae, demo):
    with demo.app_context():
        from tests.test_ae_cancel import soon_unit

        soon = soon_unit().id
    before = snapshot(demo)
    response = ae.post(f"/ae/examens/unites/{soon}/annulation", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Pour une annulation tardive, contactez votre BER" in html
    assert snapshot(demo) == before
    page = ae.post(f"/ae/examens/unites/{soon}/annulation")  # without htmx too
    assert page.status_code == 422 and "annulation tardive" in page.get_data(as_text=True)
    assert snapshot(demo) == before


def test_another_school_gets_404_everywhere(demo, client, auth, guide_units):
    auth.login("herault@example.test")
    before = snapshot(demo)
    unit = guide_units[0]
    for url in (f"/ae/examens/unites/{unit}", f"/ae/examens/unites/{unit}/annulation"):
        assert client.get(url).status_code == 404
        assert client.get(url, headers=HX).status_code == 404
    assert client.post(f"/ae/examens/unites/{unit}/annulation", headers=HX).status_code == 404
    assert client.post(f"/ae/examens/unites/{unit}/annulation").status_code == 404
    assert snapshot(demo) == before
    html = client.get("/ae/examens").get_data(as_text=True)
    assert "CARCASSONNE" not in html and "MONTPELLIER" in html


def test_unknown_unit_is_404(ae):
    assert ae.get("/ae/examens/unites/999999", headers=HX).status_code == 404
    assert ae.post("/ae/examens/unites/999999/annulation", headers=HX).status_code == 404


def test_ber_cannot_use_the_school_screens(demo, client, auth, guide_units):
    auth.login("ber011@example.test")
    assert client.get("/ae/examens").status_code == 403
    assert client.post(f"/ae/examens/unites/{guide_units[0]}/annulation").status_code == 403
