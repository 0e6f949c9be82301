"""Capacity in Chromium at tablet size: toggle a Saturday and plan on it (BER 7); declare a
2-day leave for DUMAS Anna over planned, partly reserved sessions, read the dialog, confirm,
see the cells "Indisponible (Congé)" and read each school's one e-mail (BER 6)."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from e2e.helpers import body_text, login, open_menu, settled
from e2e.test_ber_planning import banner, cell_name, show_week
from rdvpl import dates
from rdvpl.capacity import coming_saturdays

TODAY = dates.today()
NEXT_MONDAY = dates.monday_of(TODAY) + dt.timedelta(weeks=1)
THURSDAY = NEXT_MONDAY + dt.timedelta(days=3)  # DUMAS: 4 sessions, units of two schools
FRIDAY = THURSDAY + dt.timedelta(days=1)  # DUMAS: 4 sessions


def test_toggle_a_saturday_then_plan_on_it(page):
    saturday = next(d for d in coming_saturdays()[3:] if not dates.public_holiday(d))
    login(page, "ber011@example.test")
    open_menu(page, "Samedis supplémentaires travaillés")
    expect(page.get_by_role("heading", level=1)).to_have_text("Samedis supplémentaires travaillés")
    name = f"MONTEIL Marie, {dates.jour_date(saturday)}"
    toggle = page.get_by_role("button", name=f"{name}, non travaillé", exact=True)
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.tap()
    worked = page.get_by_role("button", name=f"{name}, travaillé", exact=True)
    expect(worked).to_have_attribute("aria-pressed", "true")
    expect(banner(page)).to_contain_text(f"{name} : samedi travaillé.")
    box = worked.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44

    page.goto("/ber/planification?nom=monteil")
    show_week(page, saturday)
    page.get_by_role("checkbox", name=cell_name(saturday, "08:00 - 10:00", "MONTEIL Marie"),
                     exact=True).tap()
    page.get_by_role("button", name="Planifier ces sessions").tap()
    expect(banner(page)).to_contain_text("1 session(s) de permis CE planifiée(s)")
    expect(page.get_by_role(
        "button", name=f"{cell_name(saturday, '08:00 - 10:00', 'MONTEIL Marie')}, CE CARCASSONNE",
        exact=True)).to_be_visible()


def test_two_day_leave_over_reserved_sessions(page, mail_sink):
    login(page, "ber011@example.test")
    open_menu(page, "Indisponibilités et autres charges")
    expect(page.get_by_role("heading", level=1)).to_have_text("Indisponibilités et autres charges")
    form = page.locator(".absence-form")
    form.get_by_label("Inspecteur").select_option(label="DUMAS Anna")
    form.get_by_label("Motif").select_option("Congé")
    page.locator("#absence-du").fill(dates.ddmmyyyy(THURSDAY))
    page.locator("#absence-du-demi").select_option("matin")
    page.locator("#absence-au").fill(dates.ddmmyyyy(FRIDAY))
    page.locator("#absence-au-demi").select_option("apres-midi")
    form.get_by_label("Commentaire").fill("Congé annuel")
    page.get_by_role("button", name="Enregistrer l'indisponibilité").tap()

    dialog = page.get_by_role("dialog", name="Sessions concernées")
    expect(dialog).to_be_visible()
    listed = dialog.get_by_test_id("concerned-sessions").locator("li")
    expect(listed).to_have_count(8)  # Thursday's and Friday's four sessions
    expect(listed.first).to_contain_text(cell_name(THURSDAY, "08:00 - 10:00"))
    expect(dialog).to_contain_text("unités réservées : Alliance Auto-Ecole")
    expect(dialog).to_contain_text("Alliance du 002 (1)")
    dialog.get_by_role("button", name="Supprimer ces sessions et prévenir les auto-écoles").tap()
    expect(banner(page)).to_contain_text("8 session(s) supprimée(s)")
    expect(dialog).to_be_hidden()
    expect(page.locator(".absence-list")).to_contain_text(
        f"Congé du {dates.jour_date(THURSDAY)} matin au {dates.jour_date(FRIDAY)} après-midi")

    page.goto("/ber/planification?nom=dumas")
    show_week(page, THURSDAY)
    for day in (THURSDAY, FRIDAY):
        cell = page.get_by_role("checkbox", name=f"{cell_name(day, '08:00 - 10:00')}, "
                                "Indisponible (Congé)", exact=True)
        expect(cell).to_be_disabled()
    settled(page)

    mails = mail_sink.wait_for(lambda m: "Annulation d'examens" in m["Subject"], count=2)
    recipients = sorted(m["To"] for m in mails)
    assert recipients == ["alliance002@example.test", "alliance@example.test"]
    alliance = body_text(next(m for m in mails if m["To"] == "alliance@example.test"))
    assert f"{dates.jour_date(THURSDAY)}, de 10:00 à 10:30" in alliance
