"""AE 1-2 in Chromium at tablet size: the school sees its exams grouped in rows, cancels one
unit of a row, reads the banner and the re-grouped table; the BER mailbox gets the e-mail; a
unit less than 6 days ahead cannot be cancelled by the school."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from e2e.helpers import body_text, login
from rdvpl import create_app, dates
from rdvpl.extensions import db
from rdvpl.models import (
    Inspector,
    Session,
    Unit,
    UnitStatus,
)
from tests.helpers import school


@pytest.fixture
def live_db(server_env, demo_db):
    """An application context on the live server's database (demo data just reloaded)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": server_env["DATABASE_URL"],
                      "SECRET_KEY": server_env["SECRET_KEY"], "MAIL_DELIVERY": "off"})
    with app.app_context():
        yield
        db.session.remove()
        db.engine.dispose()


def _kleber_morning() -> dt.date:
    """The day of KLÉBER Thierry's sessions in the demo (NARBONNE, 12 to 17 days ahead), whose
    units are all Dispo AE."""
    day = db.session.scalar(
        sa.select(Session.date).join(Session.inspector)
        .where(Inspector.last_name == "KLÉBER",
               Session.date >= dates.today() + dt.timedelta(days=7))
        .order_by(Session.date))
    _release()
    return day


def _release():
    """End this process's transaction: on SQLite (BEGIN IMMEDIATE) it would block the server."""
    db.session.close()


def _unit_name(day: dt.date, hours: str, state: str) -> str:
    """A unit's accessible name on the BER's grid."""
    return f"KLÉBER Thierry, {dates.jour_date(day)}, {hours}, {state}"


def _ber_reserves_three_for_alliance(ber, day: dt.date) -> None:
    """The BER (ber011) reserves 08:00-09:30 of KLÉBER Thierry for Alliance Auto-Ecole on the
    "Gérer les créneaux" screen."""
    login(ber, "ber011@example.test")
    ber.goto(f"/ber/creneaux?date={dates.ddmmyyyy(day)}")
    ber.get_by_label("Inspecteur").select_option(label="Thierry KLÉBER")
    ber.wait_for_url("**inspecteur=**")
    for hours in ("08:00 - 08:30", "08:30 - 09:00", "09:00 - 09:30"):
        unit = ber.get_by_role("checkbox", name=_unit_name(day, hours, "Dispo AE"))
        unit.tap()
        expect(unit).to_be_checked()
    expect(ber.locator("#selection")).to_contain_text("3 unités sélectionnées")
    ber.get_by_label("Raison sociale de l'auto-école ou ID Aurige").fill("alliance auto")
    ber.get_by_role("option", name="Alliance Auto-Ecole").tap()
    expect(ber.get_by_text("Auto-école choisie")).to_contain_text("Alliance Auto-Ecole")
    ber.get_by_role("button", name="Valider la place d'examen").tap()
    expect(ber.get_by_test_id("banner")).to_contain_text("Réservation enregistrée !")
    expect(ber.get_by_role("button", name=_unit_name(day, "08:30 - 09:00",
                                                    "Alliance Auto-Ecole"))).to_be_visible()


def _row(page, day: dt.date, hour: str, centre: str, count: int):
    name = f"{dates.jour_date_cap(day)}, {hour}, {centre}, {count} unité{'s' if count > 1 else ''}"
    return page.get_by_role("button", name=name, exact=True)


def test_school_cancels_the_middle_unit_of_a_row(page, new_page, live_db, mail_sink):
    day = _kleber_morning()
    ber = new_page()
    _ber_reserves_three_for_alliance(ber, day)

    login(page, "alliance@example.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes examens programmés")
    expect(page.get_by_role("radio", name="Permis CE")).to_be_checked()

    # One row of three units, the inspector by matricule only.
    row = _row(page, day, "08:00", "NARBONNE", 3)
    expect(row).to_be_visible()
    tr = page.locator("tr", has=row)
    expect(tr.locator("td")).to_have_text(
        [dates.jour_date_cap(day), "08:00", "3", "NARBONNE", "Inspecteur 2492",
         re.compile("3 unités")])
    expect(page.get_by_role("table").filter(has=row).locator("caption")).to_have_text(
        dates.mois(day))
    expect(page.locator("main")).not_to_contain_text("KLÉBER")
    # Tap targets of at least 44 px at 768x1024.
    for target in (tr, row, page.get_by_text("Permis CE", exact=True),
                   page.get_by_role("link", name="Voir les examens passés")):
        assert target.bounding_box()["height"] >= 44
    expect(page.locator("main")).not_to_contain_text("Thierry")

    # The whole row is tappable: touch its date cell.
    box = tr.locator("td").first.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    dialog = page.get_by_role("dialog", name="Unité(s)")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(dates.jour_date(day).upper())
    expect(dialog).to_contain_text("NARBONNE")
    expect(dialog).to_contain_text("3 unités")
    for i, hours in enumerate(["08:00 → 08:30", "08:30 → 09:00", "09:00 → 09:30"], start=1):
        expect(dialog.locator("li", has_text=f"Unité {i}")).to_contain_text(hours)
    cancel_second = dialog.get_by_role("button", name="Annuler l'unité 2, 08:30 - 09:00")
    expect(cancel_second).to_be_enabled()
    assert cancel_second.bounding_box()["height"] >= 44
    cancel_second.tap()

    summary = page.get_by_role("dialog", name="Unité programmée")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(dates.jour_date(day))
    expect(summary).to_contain_text("08:30 → 09:00")
    expect(summary).to_contain_text("Permis CE")
    expect(summary).to_contain_text("Centre d'examen NARBONNE")
    expect(summary).to_contain_text("Vous êtes sur le point d'annuler une unité.")
    expect(summary.get_by_role("button", name="Conserver l'unité")).to_be_visible()
    summary.get_by_role("button", name="Confirmer l'annulation").tap()

    banner = page.get_by_test_id("banner")
    expect(banner).to_contain_text("Annulation enregistrée !")
    expect(banner).to_contain_text("Votre place d'examen a bien été annulée.")
    expect(banner).to_be_in_viewport()  # seen on the tablet, whatever the row tapped
    expect(page.locator("dialog")).to_have_count(0)
    # Re-grouped in place: two rows of one unit.
    expect(_row(page, day, "08:00", "NARBONNE", 1)).to_be_visible()
    expect(_row(page, day, "09:00", "NARBONNE", 1)).to_be_visible()
    expect(_row(page, day, "08:00", "NARBONNE", 3)).to_have_count(0)

    # The BER mailbox is told.
    [message] = mail_sink.wait_for(
        lambda m: m["To"] == "pl.ber011@example.test"
        and m["Subject"] == "Annulation examen CE par une auto-école")
    text = " ".join(body_text(message).split())
    assert (f"L'auto-école ALLIANCE AUTO-ECOLE a annulé l'unité de permis de conduire pour la "
            f"catégorie groupe Lourds sur le centre NARBONNE le {dates.en_toutes_lettres(day)} "
            "de 08:30 à 09:00.") in text

    # The BER's grid shows the unit Dispo AE again (it can be assigned anew); the others stay.
    ber.reload()
    expect(ber.get_by_role("checkbox", name=_unit_name(day, "08:30 - 09:00", "Dispo AE"))
           ).to_be_visible()
    for hours in ("08:00 - 08:30", "09:00 - 09:30"):
        expect(ber.get_by_role("button", name=_unit_name(day, hours, "Alliance Auto-Ecole"))
               ).to_be_visible()


def _unit_within_six_days() -> tuple[int, dt.date]:
    """The demo's unit reserved for Alliance 2 to 4 days ahead (never on a weekend)."""
    unit = db.session.scalar(
        sa.select(Unit).join(Unit.session)
        .where(Unit.auto_ecole_id == school().id,
               Session.date > dates.today(),
               Session.date <= dates.today() + dt.timedelta(days=5))
        .order_by(Session.date, Unit.start_time))
    found = unit.id, unit.session.date
    _release()
    return found


def test_unit_within_six_days_cannot_be_cancelled_by_the_school(page, live_db):
    unit_id, day = _unit_within_six_days()
    login(page, "alliance@example.test")
    row = page.get_by_role("button", name=f"{dates.jour_date_cap(day)}, ")
    row.first.tap()
    dialog = page.get_by_role("dialog", name="Unité(s)")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Pour une annulation tardive, contactez votre BER")
    buttons = dialog.get_by_role("button", name=re.compile("^Annuler l'unité"))
    expect(buttons.first).to_be_disabled()
    for button in buttons.all():
        expect(button).to_be_disabled()
    # Escape closes the dialog and gives the focus back to the row.
    page.keyboard.press("Escape")
    expect(page.locator("dialog")).to_have_count(0)
    expect(row.first).to_be_focused()
    assert db.session.get(Unit, unit_id).status == UnitStatus.RESERVED
    _release()


def _tab_to(page, target, limit: int = 40) -> int:
    """Press Tab until ``target`` has the focus (as a keyboard user would); the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return presses
    raise AssertionError(f"{target} not reached in {limit} Tab presses")


def test_school_cancels_a_unit_with_the_keyboard_alone(page):
    """AE 2 without pointer or touch: Tab to the row, Enter, Tab to "Annuler", Enter, confirm;
    the focus is where the next action is after each step."""
    login(page, "alliance@example.test")
    row = page.get_by_role("button", name=re.compile(r"LUCHAPT DU 011, 2 unités$"))
    _tab_to(page, row)
    page.keyboard.press("Enter")

    units = page.get_by_role("dialog", name="Unité(s)")
    expect(units).to_be_visible()
    expect(units.get_by_role("button", name="Fermer")).to_be_focused()
    page.keyboard.press("Tab")
    first = units.get_by_role("button", name=re.compile("^Annuler l'unité 1, "))
    expect(first).to_be_focused()
    page.keyboard.press("Enter")

    summary = page.get_by_role("dialog", name="Unité programmée")
    expect(summary).to_be_visible()
    # The safe answer first: Enter alone does not cancel.
    expect(summary.get_by_role("button", name="Conserver l'unité")).to_be_focused()
    page.keyboard.press("Tab")
    expect(summary.get_by_role("button", name="Confirmer l'annulation")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("banner")).to_contain_text("Annulation enregistrée !")
    expect(page.locator("dialog")).to_have_count(0)
    # The row that is left (one unit) has the focus: the user keeps their place.
    left = page.get_by_role("button", name=re.compile(r"LUCHAPT DU 011, 1 unité$"))
    expect(left).to_be_focused()
    # And the keyboard goes on from there: Enter opens that row.
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Unité(s)")).to_contain_text("1 unité")
    page.keyboard.press("Escape")
    expect(page.locator("dialog")).to_have_count(0)
    expect(left).to_be_focused()
