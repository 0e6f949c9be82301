"""AE 3 and BER 10 in Chromium at tablet size: the school files its demand and gets the
confirmation e-mail; the BER proposes a split of next month's units, removes one line and
applies it; every school served gets its e-mail; the school sees its new exams."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from e2e.helpers import body_text, login, settled
from rdvpl import create_app, dates, demand
from rdvpl.extensions import db
from rdvpl.models import Session, Tranche, Unit, UnitStatus
from tests.helpers import planned_session

LINE = re.compile(r"\w+ \d\d/\d\d/\d{4}, [A-Z0-9 ]+, \d\d:\d\d - \d\d:\d\d, \d+ unités?, "
                  r"Inspecteur \d+")


def _next_month() -> dt.date:
    return demand.demand_months(dates.today())[0]


@pytest.fixture
def live_db(server_env, demo_db):
    """The demo data; late in a month, when the demo's sessions of next month do not exist
    (see seed._demands_next_month), DUMAS gets three days at the end of next month."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": server_env["DATABASE_URL"],
                      "SECRET_KEY": server_env["SECRET_KEY"], "MAIL_DELIVERY": "off"})
    with app.app_context():
        month = _next_month()
        free = db.session.scalar(sa.select(sa.func.count()).select_from(Unit).join(Unit.session)
                                 .where(Session.date >= month, Unit.status == UnitStatus.DISPO,
                                        Session.date < demand.add_months(month, 1)))
        if not free:
            day = demand.add_months(month, 1) - dt.timedelta(days=1)
            while day.weekday() >= 5:
                day -= dt.timedelta(days=1)
            for tranche in Tranche:
                planned_session("DUMAS", day, tranche)
        db.session.close()  # on SQLite an open transaction would block the server
        db.engine.dispose()
    yield


def test_school_demand_then_ber_split_applied(page, new_page, live_db, mail_sink):
    month = _next_month()
    key = f"{month:%Y-%m}"

    # The BER keeps next month's demands open until the end of this month.
    ber = new_page()
    login(ber, "ber011@example.test")
    ber.get_by_role("link", name="Demandes des auto-écoles").tap()
    expect(ber.get_by_role("heading", level=1)).to_have_text("Demandes des auto-écoles")
    expect(ber.get_by_label("Mois")).to_have_value(key)
    closes = month - dt.timedelta(days=1)
    ber.get_by_label(re.compile("Clôture des demandes")).fill(dates.ddmmyyyy(closes))
    ber.get_by_role("button", name="Modifier la date de clôture").tap()
    expect(ber.get_by_test_id("banner")).to_contain_text("Date de clôture enregistrée")

    # The school files its demand for next month.
    login(page, "alliance@example.test")
    page.get_by_role("link", name="Mes demandes").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes demandes de places")
    form = page.get_by_test_id(f"demand-{key}")
    expect(form).to_contain_text(f"Modifiable jusqu'au {dates.jour_date(closes)} inclus.")
    units = form.get_by_label(re.compile("Nombre d'unités souhaitées"))
    units.fill("16")
    form.get_by_label("CARCASSONNE").check()
    form.get_by_label("NARBONNE").check()
    form.get_by_label("Indifférent").check()
    form.get_by_label("Commentaire").fill("Deux formateurs disponibles")
    save = form.get_by_role("button", name=f"Enregistrer ma demande pour {dates.mois(month)}")
    assert save.bounding_box()["height"] >= 44
    save.tap()
    expect(page.get_by_test_id("banner")).to_contain_text("Demande enregistrée !")
    settled(page)
    expect(page.get_by_test_id(f"demand-{key}").get_by_label(
        re.compile("Nombre d'unités souhaitées"))).to_have_value("16")
    [confirmation] = mail_sink.wait_for(
        lambda m: m["Subject"].startswith("Votre demande de places"), count=1)
    assert confirmation["To"] == "alliance@example.test"
    assert "Nombre d'unités souhaitées : 16" in body_text(confirmation)
    mail_sink.clear()

    # The BER sees it, proposes a split, removes one line and applies it.
    ber.reload()
    table = ber.get_by_role("table")
    expect(table.get_by_role("row", name=re.compile("Alliance Auto-Ecole"))).to_contain_text(
        "16")
    expect(ber.get_by_test_id("demand-summary")).to_contain_text(
        re.compile(r"\d+ unités demandées par 4 auto-écoles, \d+ unités? Dispo AE ce mois-ci"))
    ber.get_by_role("button", name="Proposer une répartition").tap()
    lines = ber.get_by_test_id("proposal-line")
    expect(lines.first).to_be_visible()
    count = lines.count()
    words = [w.strip() for w in ber.locator(".app-proposal__words").all_inner_texts()]
    assert all(LINE.fullmatch(w) for w in words), words
    expect(ber.get_by_test_id("proposal-school").first).to_contain_text("Part équitable")
    remove = lines.first.get_by_role("button", name=re.compile("^Retirer la ligne "))
    assert remove.bounding_box()["height"] >= 44
    removed_words = words[0]
    remove.tap()
    expect(lines).to_have_count(count - 1)
    settled(ber)
    expect(ber.locator("#proposal")).not_to_contain_text(removed_words)
    schools = [t for t in ber.get_by_test_id("proposal-school").all()
               if t.get_by_test_id("proposal-line").count()]
    alliance = ber.get_by_test_id("proposal-school").filter(
        has=ber.get_by_role("heading", name="Alliance Auto-Ecole", exact=True))
    day, centre, hours = alliance.locator(".app-proposal__words").first.inner_text().split(
        ", ")[:3]
    ber.get_by_role("button", name="Appliquer la répartition").tap()
    expect(ber.get_by_test_id("banner")).to_contain_text("Répartition appliquée !")
    expect(ber.get_by_test_id("banner")).to_contain_text(
        f"pour {len(schools)} auto-école{'s' if len(schools) > 1 else ''}")

    # One reservation e-mail per school served.
    mails = mail_sink.wait_for(lambda m: m["Subject"].startswith("Réservation d'examens"),
                               count=len(schools))
    assert len(mails) == len(schools)
    assert len({m["To"] for m in mails}) == len(schools)

    assert "alliance@example.test" in {m["To"] for m in mails}

    # The school sees its new exams of next month: a row for its first proposed line.
    page.get_by_role("link", name="Mes examens programmés").tap()
    start = hours.split(" - ")[0]
    expect(page.get_by_role("button", name=f"{day.capitalize()}, {start}, {centre}, ")
           ).to_be_visible()
