"""Live grids (SPEC Part 2) in Chromium, with the app under gunicorn with 2 workers: two BER
agents of 011 in two browser contexts. What agent A does shows on agent B's open grid within
5 seconds, without a reload, whichever worker served each of them; a unit or cell B had ticked
and A took leaves B's selection with a notice naming it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from e2e.conftest import ARTIFACTS, TABLET
from e2e.helpers import login, settled
from e2e.test_ber_creneaux import FRIDAY, choose_school, open_week, unit_name
from e2e.test_ber_planning import HOURS, TUESDAY, WEEK, cell_name, show_week
from rdvpl import create_app, dates
from rdvpl.extensions import db
from rdvpl.models import Department, Role, User
from tests.helpers import AGENT_PASSWORD

# A poll every 5 s, then one refresh: the tests give it this long (a shared CI machine).
WITHIN = 7_000
SECOND_AGENT = "ber011-bis@example.test"


@pytest.fixture
def agents(browser, gunicorn_db, server_env, request):
    """Two signed-in BER agents of 011 (the demo's, and a second one made here), each in its
    own browser context on the gunicorn server: returns (page A, page B)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": server_env["DATABASE_URL"],
                      "SECRET_KEY": server_env["SECRET_KEY"], "MAIL_DELIVERY": "off"})
    with app.app_context():
        aude = db.session.scalar(sa.select(Department).where(Department.code == "011"))
        second = User(email=SECOND_AGENT, first_name="Inès", last_name="BERTIN", role=Role.BER,
                      department=aude)
        second.set_password(AGENT_PASSWORD)
        db.session.add(second)
        db.session.commit()
        db.engine.dispose()
    contexts, pages = [], []
    for _ in range(2):
        context = browser.new_context(viewport=TABLET, has_touch=True, locale="fr-FR",
                                      timezone_id="Europe/Paris", base_url=gunicorn_db)
        context.set_default_timeout(10_000)
        contexts.append(context)
        pages.append(context.new_page())
    login(pages[0], "ber011@example.test")
    page = pages[1]
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(SECOND_AGENT)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion" not in url)
    yield pages
    failed = getattr(request.node, "rep_call", None)
    for i, context in enumerate(contexts):
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            context.pages[0].screenshot(path=ARTIFACTS / f"{request.node.name}-{i}.png",
                                        full_page=True)
        context.close()


def mark_no_reload(page):
    """A flag a reload would wipe out."""
    page.evaluate("window.__stillTheSamePage = true")


def not_reloaded(page) -> bool:
    return page.evaluate("window.__stillTheSamePage === true")


def test_a_unit_reserved_by_agent_a_leaves_agent_b_s_selection(agents):
    a, b = agents
    taken = unit_name(FRIDAY, "15:30", "16:00", "Dispo AE")
    kept = unit_name(FRIDAY, "16:00", "16:30", "Dispo AE")

    # Agent B ticks two units and keeps the focus on the second one.
    open_week(b)
    b.get_by_role("checkbox", name=taken, exact=True).check()
    b.get_by_role("checkbox", name=kept, exact=True).check()
    expect(b.locator("#panel")).to_contain_text("2 unités sélectionnées")
    settled(b)
    b.get_by_role("checkbox", name=kept, exact=True).focus()
    mark_no_reload(b)

    # Agent A reserves the first one for Alliance Auto-Ecole.
    open_week(a)
    a.get_by_role("checkbox", name=taken, exact=True).check()
    choose_school(a, "auto-ecole", "Alliance Auto-Ecole — Aurige ID : auto-ecole-aurige-1")
    a.get_by_role("button", name="Valider la place d'examen").click()
    expect(a.get_by_test_id("banner")).to_contain_text("Réservation enregistrée !")

    # Agent B's grid shows the school on that unit, without a reload.
    reserved = b.get_by_role("button", name=unit_name(FRIDAY, "15:30", "16:00",
                                                        "Alliance Auto-Ecole"), exact=True)
    expect(reserved).to_be_visible(timeout=WITHIN)
    expect(reserved).to_contain_text("Alliance Auto-Ecole")
    # The panel dropped it, with the notice naming it (a polite live region); the other unit
    # stays ticked and keeps the focus.
    notice = b.locator("#live-notice")
    expect(notice).to_have_text(
        f"L'unité du {dates.jour_date(FRIDAY)} de 15:30 à 16:00 (DUMAS Anna) a été attribuée "
        "entre-temps : elle est retirée de votre sélection.")
    expect(notice).to_have_attribute("role", "status")
    expect(b.locator("#panel")).to_contain_text("1 unité sélectionnée")
    expect(b.locator("#selection")).not_to_contain_text("15:30 → 16:00")
    expect(b.get_by_role("checkbox", name=kept, exact=True)).to_be_checked()
    expect(b.get_by_role("checkbox", name=kept, exact=True)).to_be_focused()
    assert not_reloaded(b)


def test_a_cell_planned_by_agent_a_shows_on_agent_b_s_grid(agents):
    a, b = agents
    first = cell_name(TUESDAY, HOURS[0])
    for page in (a, b):
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Planifier les activités des IPCSR")
        show_week(page, WEEK)
    b.get_by_role("checkbox", name=first, exact=True).check()
    expect(b.locator("#panel")).to_contain_text("1 session(s) sélectionnée(s)")
    settled(b)
    mark_no_reload(b)

    a.get_by_role("checkbox", name=first, exact=True).check()
    expect(a.locator("#panel")).to_contain_text("1 session(s) sélectionnée(s)")
    settled(a)
    a.get_by_role("button", name="Planifier ces sessions").click()
    expect(a.get_by_test_id("banner")).to_contain_text("Succès")

    planned = b.get_by_role("button", name=f"{first}, CE CARCASSONNE", exact=True)
    expect(planned).to_be_visible(timeout=WITHIN)
    expect(planned).to_contain_text("CE CARCASSONNE")
    expect(b.locator("#panel")).to_contain_text("0 session(s) sélectionnée(s)")
    expect(b.locator("#live-notice")).to_have_text(
        f"La session du {dates.jour_date(TUESDAY)} de 08:00 à 10:00 (DUMAS Anna) a été "
        "planifiée entre-temps (CE CARCASSONNE) : elle est retirée de votre sélection.")
    assert not_reloaded(b)


def test_a_hidden_tab_does_not_poll_and_checks_at_once_when_shown(agents):
    """While the tab is hidden no request leaves it, however long; shown again, it asks at
    once. The page's clock is Playwright's: minutes pass without waiting for them."""
    _, b = agents
    b.clock.install()
    open_week(b)
    with b.expect_request(lambda r: "/ber/revision" in r.url):
        b.clock.run_for(6_000)  # visible: it asks every 5 s
    polls = []
    b.on("request", lambda r: polls.append(r.url) if "/ber/revision" in r.url else None)

    def show(hidden: bool):
        b.evaluate("""hidden => {
            Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
            document.dispatchEvent(new Event('visibilitychange'));
        }""", hidden)

    show(False)  # nothing pending any more: a check asked at once has come back
    settled(b)
    show(True)
    settled(b)
    polls.clear()
    b.clock.run_for(10 * 60_000)  # ten minutes hidden
    assert polls == []
    with b.expect_request(lambda r: "/ber/revision" in r.url):
        show(False)


def test_a_refresh_never_replaces_the_rows_under_an_open_dialog(agents):
    """Agent B opens the dialog of a planned session just as a refresh is on its way (agent A
    planned meanwhile): the rows are not replaced under the dialog, so Escape gives the focus
    back to the very session; the refresh comes once the dialog is closed."""
    a, b = agents
    first, second = cell_name(TUESDAY, HOURS[0]), cell_name(TUESDAY, HOURS[1])
    for page in (a, b):
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Planifier les activités des IPCSR")
        show_week(page, WEEK)

    def plan(cell: str):
        a.get_by_role("checkbox", name=cell, exact=True).check()
        expect(a.locator("#panel")).to_contain_text("1 session(s) sélectionnée(s)")
        settled(a)
        a.get_by_role("button", name="Planifier ces sessions").click()
        expect(a.get_by_test_id("banner")).to_contain_text("Succès")

    plan(first)
    planned = b.get_by_role("button", name=f"{first}, CE CARCASSONNE", exact=True)
    expect(planned).to_be_visible(timeout=WITHIN)
    settled(b)
    # B's next check finds A's new session; its refresh is held back the moment it leaves,
    # and B opens the dialog before the answer comes.
    held = []
    def refresh(url: str) -> bool:
        return "/ber/planification/actualisation" in url

    b.route(refresh, lambda route: held.append(route))
    plan(second)
    second_b = b.get_by_role("button", name=f"{second}, CE CARCASSONNE", exact=True)
    waited = 0
    while not held and waited < WITHIN:
        b.wait_for_timeout(100)
        waited += 100
    assert held, "no refresh asked within the poll's delay"
    planned.focus()
    b.keyboard.press("Enter")
    dialog = b.get_by_role("dialog", name="Session déjà planifiée")
    expect(dialog).to_be_visible()
    held[0].continue_()
    b.unroute(refresh)
    b.wait_for_timeout(500)  # the answer has arrived (and must not have been swapped in)
    expect(second_b).to_have_count(0)
    b.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(planned).to_be_focused()
    expect(second_b).to_be_visible(timeout=WITHIN)  # the refresh, asked again


def test_the_agent_s_own_change_needs_no_refresh_of_its_grid(agents):
    """The answer to agent A's reservation says the revision it committed (X-Grid-Committed):
    A's page, one revision behind, takes it and asks for no refresh of rows that already show
    the change; agent B's page, which did not make it, refreshes."""
    a, b = agents
    refreshes = {"a": 0, "b": 0}
    a.on("request", lambda r: "/creneaux/actualisation" in r.url
         and refreshes.__setitem__("a", refreshes["a"] + 1))
    b.on("request", lambda r: "/creneaux/actualisation" in r.url
         and refreshes.__setitem__("b", refreshes["b"] + 1))
    open_week(b)
    open_week(a)
    before = int(a.locator("[data-live-revision]").get_attribute("data-live-revision"))
    a.get_by_role("checkbox", name=unit_name(FRIDAY, "15:30", "16:00", "Dispo AE"),
                  exact=True).check()
    choose_school(a, "auto-ecole", "Alliance Auto-Ecole — Aurige ID : auto-ecole-aurige-1")
    a.get_by_role("button", name="Valider la place d'examen").click()
    expect(a.get_by_test_id("banner")).to_contain_text("Réservation enregistrée !")
    expect(a.locator("[data-live-revision]")).to_have_attribute("data-live-revision",
                                                                str(before + 1))

    reserved = b.get_by_role("button", name=unit_name(FRIDAY, "15:30", "16:00",
                                                        "Alliance Auto-Ecole"), exact=True)
    expect(reserved).to_be_visible(timeout=WITHIN)  # B refreshed
    a.wait_for_timeout(6_000)  # more than a poll's period after the answer
    assert refreshes["b"] >= 1
    assert refreshes["a"] == 0, refreshes
