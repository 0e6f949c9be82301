"""AE 3 "Mes demandes de places": the school's monthly demand, the closing date, the
confirmation e-mail, the history; bad input refused in French with nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl import dates, demand
from rdvpl.errors import DomainError, NotFound
from rdvpl.extensions import db
from rdvpl.models import (
    Centre,
    DemandClosing,
    History,
    OutboxMail,
    SchoolDemand,
    school_demand_centre,
)
from tests.conftest import user_by_email
from tests.helpers import school

TODAY = dt.date(2026, 11, 10)
DECEMBER, JANUARY = dt.date(2026, 12, 1), dt.date(2027, 1, 1)


def centre(name: str) -> Centre:
    return db.session.scalar(sa.select(Centre).where(Centre.name == name))


def demand_state() -> dict:
    db.session.expire_all()
    return {
        "demands": db.session.execute(sa.select(
            SchoolDemand.id, SchoolDemand.units, SchoolDemand.half_day,
            SchoolDemand.comment).order_by(SchoolDemand.id)).all(),
        "history": db.session.scalar(sa.select(sa.func.count()).select_from(History)),
        "outbox": db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)),
    }


def save(email="alliance@example.test", *, month=DECEMBER, category="CE", units=8,
         centres=("CARCASSONNE",), half_day="matin", comment="", today=TODAY):
    return demand.save_demand(
        user_by_email(email), month=month, category_code=category, units=units,
        centre_ids=[centre(n).id if isinstance(n, str) else n for n in centres],
        half_day=half_day, comment=comment, today=today)


def _without_demo_demands(app):
    """The demo's demands are for next month: the tests here start from none."""
    with app.app_context():
        db.session.execute(school_demand_centre.delete())
        db.session.execute(sa.delete(SchoolDemand))
        db.session.commit()


@pytest.fixture
def aude(demo):
    _without_demo_demands(demo)
    with demo.app_context():
        yield demo


def test_months_and_default_closing_date():
    assert demand.demand_months(TODAY) == [DECEMBER, JANUARY]
    assert demand.demand_months(dt.date(2026, 12, 31)) == [JANUARY, dt.date(2027, 2, 1)]
    assert demand.default_closing(DECEMBER) == dt.date(2026, 11, 20)
    assert demand.default_closing(JANUARY) == dt.date(2026, 12, 20)


def test_saving_records_the_demand_history_and_mails_the_school_only(aude):
    saved = save(units=12, centres=("CARCASSONNE", "NARBONNE"), comment="Deux formateurs")
    assert (saved.units, saved.half_day, saved.comment) == (12, "matin", "Deux formateurs")
    assert [c.name for c in saved.centres] == ["CARCASSONNE", "NARBONNE"]
    row = db.session.scalar(sa.select(History).where(History.action == "demand.saved"))
    assert row.before is None and row.after["units"] == 12
    assert row.actor.email == "alliance@example.test"
    mails = db.session.scalars(sa.select(OutboxMail)).all()
    assert [m.recipients for m in mails] == [school().email]  # the BER mailbox is told nothing
    assert mails[0].subject == "Votre demande de places d'examen a bien été enregistrée"
    assert "Nombre d'unités souhaitées : 12" in mails[0].body_text
    assert "Centres souhaités : CARCASSONNE, NARBONNE" in mails[0].body_text
    assert "Décembre 2026" in mails[0].body_text
    assert "vendredi 20/11/2026 inclus" in mails[0].body_text


def test_saving_again_replaces_the_demand(aude):
    first = save(units=12)
    second = save(units=4, centres=("NARBONNE",), half_day="indifferent")
    assert first.id == second.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SchoolDemand)) == 1
    rows = db.session.scalars(sa.select(History).where(History.action == "demand.saved")
                              .order_by(History.id)).all()
    assert rows[1].before["units"] == 12 and rows[1].after["units"] == 4
    assert rows[1].after["centres"] == ["NARBONNE"]


def test_editable_until_the_closing_date_inclusive(aude):
    save(units=3, today=dt.date(2026, 11, 20))
    before = demand_state()
    with pytest.raises(DomainError, match="Demandes closes le 20/11/2026"):
        save(units=5, today=dt.date(2026, 11, 21))
    db.session.rollback()
    assert demand_state() == before


def test_the_ber_moves_the_closing_date(aude):
    ber = user_by_email("ber011@example.test")
    demand.set_closing_date(ber, DECEMBER, dt.date(2026, 11, 25), today=TODAY)
    assert demand.closing_date(ber.department_id, DECEMBER) == dt.date(2026, 11, 25)
    save(units=3, today=dt.date(2026, 11, 25))  # later than the default 20th: still open
    demand.set_closing_date(ber, JANUARY, dt.date(2026, 11, 9), today=TODAY)
    with pytest.raises(DomainError, match="Demandes closes le 09/11/2026"):
        save(month=JANUARY, today=TODAY)
    db.session.rollback()
    # Another department keeps the default date.
    ber034 = user_by_email("ber034@example.test")
    assert demand.closing_date(ber034.department_id, JANUARY) == dt.date(2026, 12, 20)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(History).where(
        History.action == "demand.closing_set")) == 2


@pytest.mark.parametrize("month, closes_on, message", [
    (dt.date(2026, 11, 1), dt.date(2026, 10, 20), "déjà commencé"),
    (DECEMBER, dt.date(2026, 12, 1), "doit précéder le 01/12/2026"),
    (DECEMBER, None, "jj/mm/aaaa"),
])
def test_closing_date_refusals(aude, month, closes_on, message):
    ber = user_by_email("ber011@example.test")
    with pytest.raises(DomainError, match=message):
        demand.set_closing_date(ber, month, closes_on, today=TODAY)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DemandClosing)) == 0


@pytest.mark.parametrize("changes, message", [
    ({"units": -1}, "nombre entier de 0 à 500"),
    ({"units": 501}, "nombre entier de 0 à 500"),
    ({"units": 10**30}, "nombre entier de 0 à 500"),
    ({"units": "douze"}, "nombre entier de 0 à 500"),
    ({"units": "12.5"}, "nombre entier de 0 à 500"),
    ({"units": None}, "nombre entier de 0 à 500"),
    ({"units": True}, "nombre entier de 0 à 500"),
    ({"centres": ("MONTPELLIER",)}, "Centre inconnu"),
    ({"centres": (10**12,)}, "Centre inconnu"),
    ({"centres": (None,)}, "Centre inconnu"),
    ({"centres": ()}, "au moins un centre"),
    ({"half_day": "soir"}, "Demi-journées"),
    ({"half_day": None}, "Demi-journées"),
    ({"comment": "x" * 501}, "500 caractères"),
    ({"month": dt.date(2027, 2, 1)}, "pas ouvert aux demandes"),
    ({"month": dt.date(2026, 11, 1)}, "pas ouvert aux demandes"),
    ({"month": None}, "pas ouvert aux demandes"),
    ({"category": "B"}, "Catégorie inconnue"),
    ({"category": "ZZ"}, "Catégorie inconnue"),
])
def test_bad_input_is_refused_in_french_and_changes_nothing(aude, changes, message):
    save(units=6)  # an existing demand that a refusal must leave as it was
    before = demand_state()
    with pytest.raises(DomainError, match=message):
        save(**{"units": 7, **changes})
    db.session.rollback()
    assert demand_state() == before


def test_zero_units_without_centre_withdraws_the_demand(aude):
    saved = save(units=0, centres=())
    assert saved.units == 0 and saved.centres == []


def test_only_a_school_user_files_a_demand(aude):
    with pytest.raises(NotFound):
        save("ber011@example.test")


def test_a_school_sees_only_its_own_demands(aude):
    mine = save(units=5)
    herault = save("herault@example.test", units=2, centres=("MONTPELLIER",))
    alliance = school()
    assert demand.scoped_demand(alliance.id, mine.id) == mine
    with pytest.raises(NotFound):
        demand.scoped_demand(alliance.id, herault.id)
    view = demand.school_view(alliance, "CE", today=TODAY)
    assert [(m.month, m.closes_on, m.is_open) for m in view.months] == [
        (DECEMBER, dt.date(2026, 11, 20), True), (JANUARY, dt.date(2026, 12, 20), True)]
    assert view.months[0].demand == mine and view.months[1].demand is None
    assert [c.name for c in view.centres] == ["CARCASSONNE", "LUCHAPT DU 011", "NARBONNE"]


# --- routes -------------------------------------------------------------------------------


def _months():
    return demand.demand_months(dates.today())


@pytest.fixture
def alliance_client(demo, client, auth):
    """Signed in as Alliance Auto-Ecole; next month open until its last day's eve, the month
    after closed since yesterday (so that the test does not depend on today's date)."""
    first, second = _months()
    _without_demo_demands(demo)
    with demo.app_context():
        department_id = school().department_id
        db.session.add_all([
            DemandClosing(department_id=department_id, month=first,
                          closes_on=first - dt.timedelta(days=1)),
            DemandClosing(department_id=department_id, month=second,
                          closes_on=dates.today() - dt.timedelta(days=1)),
        ])
        db.session.commit()
    auth.login("alliance@example.test")
    return client


def _form(month, **changes):
    ids = [str(centre("CARCASSONNE").id)]
    data = {"mois": f"{month:%Y-%m}", "categorie": "CE", "unites": "9", "centres": ids,
            "demi_journee": "apres-midi", "commentaire": ""}
    data.update(changes)
    return data


def test_page_shows_the_open_and_the_closed_month(alliance_client, demo):
    first, second = _months()
    page = alliance_client.get("/ae/demandes").get_data(as_text=True)
    assert "Mes demandes de places" in page
    assert f"{dates.mois(first)} — permis CE" in page
    assert page.count("Enregistrer ma demande") == 1  # only the open month has a form
    closed = (dates.today() - dt.timedelta(days=1)).strftime("%d/%m/%Y")
    assert f"Demandes closes le {closed}" in page
    for label in ("Nombre d'unités souhaitées", "Centres souhaités", "Demi-journées",
                  "Commentaire", "Matin", "Après-midi", "Indifférent", "NARBONNE"):
        assert label in page
    assert "MONTPELLIER" not in page  # another department's centre


def test_saving_through_the_page(alliance_client, demo):
    first, _ = _months()
    with demo.app_context():
        response = alliance_client.post("/ae/demandes", data=_form(first),
                                        headers={"HX-Request": "true"})
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and "<html" not in body
        assert "Demande enregistrée !" in body and 'value="9"' in body
        saved = db.session.scalar(sa.select(SchoolDemand))
        assert (saved.units, saved.half_day, saved.month) == (9, "apres-midi", first)
        assert db.session.scalar(sa.select(OutboxMail.recipients)) == school().email


@pytest.mark.parametrize("changes, message", [
    ({"unites": "-3"}, "nombre entier de 0 à 500"),
    ({"unites": "99999999999999999999999"}, "nombre entier de 0 à 500"),
    ({"unites": "trois"}, "nombre entier de 0 à 500"),
    ({"unites": ""}, "nombre entier de 0 à 500"),
    ({"centres": ["999999999999"]}, "Centre inconnu"),
    ({"centres": ["abc"]}, "Centre inconnu"),
    ({"centres": ["²"]}, "Centre inconnu"),  # a digit to str.isdigit, not to int()
    ({"centres": ["١٢"]}, "Centre inconnu"),  # Arabic-Indic digits: no id is written so
    ({"mois": "2026-13"}, "pas ouvert aux demandes"),
    ({"categorie": "<b>"}, "Catégorie inconnue"),
])
def test_bad_input_through_the_page(alliance_client, demo, changes, message):
    first, _ = _months()
    with demo.app_context():
        response = alliance_client.post("/ae/demandes", data=_form(first, **changes))
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in body and "Demande non enregistrée" in body
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SchoolDemand)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 0


def test_a_centre_of_another_department_through_the_page(alliance_client, demo):
    first, _ = _months()
    with demo.app_context():
        montpellier = str(centre("MONTPELLIER").id)
        response = alliance_client.post("/ae/demandes", data=_form(first, centres=[montpellier]))
        assert response.status_code == 422
        assert "Centre inconnu" in response.get_data(as_text=True)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SchoolDemand)) == 0


def test_a_closed_month_is_refused_through_the_page(alliance_client, demo):
    _, second = _months()
    with demo.app_context():
        response = alliance_client.post("/ae/demandes", data=_form(second))
        assert response.status_code == 422
        assert "Demandes closes le" in response.get_data(as_text=True)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SchoolDemand)) == 0


def test_another_schools_demand_is_a_404(alliance_client, demo, client, auth):
    first, _ = _months()
    with demo.app_context():
        alliance_client.post("/ae/demandes", data=_form(first))
        mine = db.session.scalar(sa.select(SchoolDemand.id))
    assert client.get(f"/ae/demandes/{mine}").status_code == 200
    auth.logout()
    auth.login("herault@example.test")
    assert client.get(f"/ae/demandes/{mine}").status_code == 404
    assert client.get(f"/ae/demandes/{10**15}").status_code == 404
