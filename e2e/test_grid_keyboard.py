"""The BER grids by keyboard on a tablet (issue 10 items 3-5): the focused control is never
under the bar pinned to the bottom of the screen; after each action the focus lands somewhere
meaningful, never on <body>; each grid is one Tab stop, its arrow keys move inside."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from e2e.helpers import login, settled
from e2e.test_ber_creneaux import FRIDAY, FRIDAY_UNITS, NEXT_MONDAY, open_week, unit_name
from rdvpl import dates
from rdvpl.seed import PASSWORDS

NEXT_THURSDAY = dates.monday_of(dates.today()) + dt.timedelta(weeks=1, days=3)
EMPTY_WEEK = dates.monday_of(dates.today()) + dt.timedelta(weeks=3)  # no session in the demo

_FOCUS_UNDER_BAR = """(bar) => {
  const f = document.activeElement.getBoundingClientRect();
  const b = document.querySelector(bar).getBoundingClientRect();
  const overlap = Math.min(f.bottom, b.bottom) - Math.max(f.top, b.top);
  return overlap > 0 && f.right > b.left && f.left < b.right
    ? `${document.activeElement.getAttribute('aria-label')}: ${f.top}-${f.bottom}`
      + ` under the bar ${b.top}-${b.bottom}` : null;
}"""


def controls_under_the_bar(page, bar: str) -> tuple[int, list[str]]:
    """Focus every control of the grid in turn, from the top of the page, as the arrow keys
    do (the grid is one Tab stop); every position where it and the pinned bar overlap."""
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    controls = page.locator("#grid").locator("input[type=checkbox]:enabled, button:enabled")
    hidden, seen = [], 0
    while seen < min(controls.count(), 400):  # a chunk of inspectors may load on the way
        controls.nth(seen).focus()
        seen += 1
        settled(page)
        under = page.evaluate(_FOCUS_UNDER_BAR, bar)
        if under:
            hidden.append(under)
    return seen, hidden


def test_on_a_tablet_the_focused_cell_is_never_under_the_pinned_panel(page):
    login(page, "ber011@example.test")
    page.goto(f"/ber/planification?date={dates.ddmmyyyy(NEXT_THURSDAY)}")
    expect(page.get_by_role("button", name=re.compile("CE CARCASSONNE$")).first).to_be_visible()
    settled(page)
    seen, hidden = controls_under_the_bar(page, "#panel")
    assert seen > 20  # the walk went through the grid, down past the fold
    assert hidden == [], "\n".join(hidden)


def test_on_a_tablet_the_focused_unit_is_never_under_the_selection_bar(page):
    login(page, "ber011@example.test")
    open_week(page)
    page.locator("#grid input[type=checkbox]:enabled").first.check()
    expect(page.locator("#selbar")).to_be_visible()
    settled(page)
    seen, hidden = controls_under_the_bar(page, "#selbar")
    assert seen > 20
    assert hidden == [], "\n".join(hidden)


# ---- Where the focus lands after an action (issue 10 item 3) ---------------------------------

def focused_name(page) -> str:
    """The focused element, as a screen reader would name it ("BODY" if the focus is lost)."""
    return page.evaluate("""() => { const e = document.activeElement;
      return e === document.body ? 'BODY'
        : (e.getAttribute('aria-label') || e.innerText).trim(); }""")


def week_title(monday: dt.date) -> str:
    return f"Semaine du {dates.ddmmyyyy(monday)} au {dates.ddmmyyyy(monday + dt.timedelta(days=5))}"


def press(page, control, key="Enter"):
    """Act on a control by keyboard, as its user would, and wait until the page has settled."""
    control.focus()
    control.press(key)
    settled(page)


def test_after_planifier_ces_sessions_the_focus_is_on_the_first_session_planned(page):
    login(page, "ber011@example.test")
    page.goto(f"/ber/planification?date={dates.ddmmyyyy(EMPTY_WEEK)}")
    tuesday = EMPTY_WEEK + dt.timedelta(days=1)
    for hours in ("10:00 - 12:00", "08:00 - 10:00"):  # page order: 08:00 first
        name = f"DUMAS Anna, {dates.jour_date(tuesday)}, {hours}"
        press(page, page.get_by_role("checkbox", name=name, exact=True), "Space")
    expect(page.locator("#panel")).to_contain_text("2 session(s) sélectionnée(s)")
    press(page, page.get_by_role("button", name="Planifier ces sessions"))
    expect(page.get_by_test_id("banner")).to_contain_text("Succès")
    first = page.get_by_role(
        "button", name=f"DUMAS Anna, {dates.jour_date(tuesday)}, 08:00 - 10:00, CE CARCASSONNE")
    expect(first).to_be_focused()


def test_after_a_week_change_the_focus_is_on_the_weeks_title(page):
    login(page, "ber011@example.test")
    page.goto(f"/ber/planification?date={dates.ddmmyyyy(EMPTY_WEEK)}")
    title = page.get_by_role("heading", name=re.compile("^Semaine du"))
    press(page, page.get_by_role("link", name="Semaine suivante"))
    expect(title).to_have_text(week_title(EMPTY_WEEK + dt.timedelta(weeks=1)))
    expect(title).to_be_focused()
    press(page, page.get_by_role("link", name="Semaine précédente"))
    expect(title).to_have_text(week_title(EMPTY_WEEK))
    expect(title).to_be_focused()


def test_after_a_week_change_on_gerer_les_creneaux_the_focus_is_on_the_weeks_title(page):
    login(page, "ber011@example.test")
    open_week(page)
    title = page.get_by_role("heading", name=re.compile("^Semaine du"))
    shown = title.inner_text()
    press(page, page.get_by_role("link", name="Semaine suivante"))
    expect(title).not_to_have_text(shown)
    expect(title).to_be_focused()
    press(page, page.get_by_role("link", name="Semaine précédente"))
    expect(title).to_have_text(shown)
    expect(title).to_be_focused()


def test_valider_with_nothing_selected_puts_the_focus_on_the_message(page):
    login(page, "ber011@example.test")
    open_week(page)
    press(page, page.get_by_role("button", name="Valider la place d'examen"))
    banner = page.get_by_test_id("banner")
    expect(banner).to_contain_text("Aucune unité sélectionnée")
    assert page.evaluate("() => !!document.activeElement.closest('[data-testid=banner]')"), \
        focused_name(page)


# ---- One Tab stop per grid, the arrows inside (issue 10 item 4) --------------------------------

def grid_tab_stops(page) -> int:
    return page.evaluate("""() => [...document.querySelectorAll(
        '#grid input:not([type=hidden]), #grid button')].filter(c => !c.disabled && c.tabIndex >= 0)
        .length""")


def test_the_planning_grid_is_one_tab_stop_and_its_arrows_move_inside(page):
    login(page, "ber011@example.test")
    page.goto(f"/ber/planification?date={dates.ddmmyyyy(EMPTY_WEEK)}")
    settled(page)
    assert grid_tab_stops(page) == 1
    days = [dates.jour_date(EMPTY_WEEK + dt.timedelta(days=n)) for n in range(2)]

    def cell(day, hours):
        return page.get_by_role("checkbox", name=f"DUMAS Anna, {day}, {hours}", exact=True)

    page.get_by_role("link", name="Aller au panneau de sélection").focus()
    page.keyboard.press("Tab")
    expect(cell(days[0], "08:00 - 10:00")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(cell(days[1], "08:00 - 10:00")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(cell(days[1], "10:00 - 12:00")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#panel")).to_contain_text("1 session(s) sélectionnée(s)")
    settled(page)
    page.keyboard.press("ArrowLeft")
    expect(cell(days[0], "10:00 - 12:00")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(cell(days[0], "08:00 - 10:00")).to_be_focused()
    page.keyboard.press("Control+End")  # the last cell of the grid: the last inspector's
    last = page.locator("#grid input[type=checkbox]:enabled, #grid button:enabled").last
    expect(last).to_be_focused()
    page.keyboard.press("Control+Home")
    expect(cell(days[0], "08:00 - 10:00")).to_be_focused()
    assert grid_tab_stops(page) == 1

    # One Tab leaves the grid, one Shift+Tab comes back to the cell left.
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Planifier ces sessions")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(cell(days[0], "08:00 - 10:00")).to_be_focused()

    # The link before the grid leads to the panel, its next stop is "Planifier ces sessions".
    page.get_by_role("link", name="Aller au panneau de sélection").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Planifier ces sessions")).to_be_focused()


def test_the_creneaux_grid_is_one_tab_stop_and_its_arrows_move_inside(page):
    login(page, "ber011@example.test")
    open_week(page)
    assert grid_tab_stops(page) == 1
    page.get_by_role("link", name="Aller au panneau de sélection").focus()
    page.keyboard.press("Tab")
    first = focused_name(page)
    day = re.match(r"DUMAS Anna, \w+ [\d/]+", first).group(0)
    page.keyboard.press("ArrowDown")  # the next unit of the day
    below = focused_name(page)
    assert below.startswith(day) and below != first, (first, below)
    page.keyboard.press("ArrowUp")
    assert focused_name(page) == first
    page.keyboard.press("ArrowRight")  # the next day's units, or this unit's status button
    right = focused_name(page)
    assert right != first and (not right.startswith(day) or right.startswith("Statut")), right
    assert page.evaluate("() => !!document.activeElement.closest('#grid')")
    page.keyboard.press("Tab")
    assert not page.evaluate("() => !!document.activeElement.closest('#grid')"), \
        focused_name(page)
    assert grid_tab_stops(page) == 1


# ---- BER 1 and BER 4 from start to end with the keyboard alone (issue 10) --------------------
# No click, no tap, no fill: page.keyboard only (goto for the first page). After each action
# the test checks where the focus is, as a keyboard or screen reader user would find it.

def tab_to(page, target, limit: int = 40) -> int:
    """Press Tab until ``target`` has the focus, as a keyboard user would; the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return presses
    raise AssertionError(f"{target} not reached in {limit} Tab presses ({focused_name(page)})")


def keyboard_login(page, email: str):
    page.goto("/connexion")
    tab_to(page, page.get_by_label("Adresse électronique"))
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    page.keyboard.type(PASSWORDS[email])
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion" not in url)


def shown_monday(page) -> dt.date:
    title = page.get_by_role("heading", name=re.compile("^Semaine du")).inner_text()
    return dt.datetime.strptime(title.split()[2], "%d/%m/%Y").date()


def go_to_week(page, monday: dt.date):
    """Tab to "Semaine suivante", then Enter (and Tab, Enter from the title) until ``monday``."""
    assert shown_monday(page) <= monday
    if shown_monday(page) < monday:
        tab_to(page, page.get_by_role("link", name="Semaine suivante"))
        page.keyboard.press("Shift+Tab")  # back to the stop before it: the same first step
    title = page.get_by_role("heading", name=re.compile("^Semaine du"))
    while shown_monday(page) < monday:
        shown = shown_monday(page)
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Semaine suivante")).to_be_focused()
        page.keyboard.press("Enter")
        expect(title).to_have_text(week_title(shown + dt.timedelta(weeks=1)))
        expect(title).to_be_focused()
        settled(page)
    assert shown_monday(page) == monday


def assert_seen(page, bar: str, on_screen: bool = True):
    """The focused control is not under the bar pinned to the bottom (tablet), and on screen
    unless the page shows the outcome's banner at the top instead (``on_screen=False``)."""
    settled(page)
    under = page.evaluate(_FOCUS_UNDER_BAR, bar)
    assert under is None, under
    assert not on_screen or page.evaluate("""() => {
        const r = document.activeElement.getBoundingClientRect();
        return r.bottom > 0 && r.top < window.innerHeight; }"""), focused_name(page)


def in_grid(page) -> bool:
    return page.evaluate("() => !!document.activeElement.closest('#grid [role=grid]')")


def test_ber1_plan_sessions_with_the_keyboard_alone(page):
    keyboard_login(page, "ber011@example.test")
    # The menu: its sub-menu opens with Enter, its entries follow by Tab.
    menu = page.get_by_role("navigation", name="Menu principal")
    tab_to(page, menu.get_by_role("button", name="Planifier les activités"))
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Planification des sessions")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Planifier les activités des IPCSR")

    # To the week with nothing planned: each week change leaves the focus on the week's title.
    go_to_week(page, EMPTY_WEEK)
    assert shown_monday(page) == EMPTY_WEEK

    # Into the grid: one Tab stop past "Semaine suivante" and the link to the panel.
    tuesday = dates.jour_date(EMPTY_WEEK + dt.timedelta(days=1))
    monday_8 = page.get_by_role("checkbox", name=f"DUMAS Anna, {dates.jour_date(EMPTY_WEEK)}, "
                                "08:00 - 10:00", exact=True)
    assert tab_to(page, monday_8, 3) == 3
    expect(page.get_by_role("grid", name=re.compile("^Sessions de DUMAS Anna"))).to_be_visible()
    page.keyboard.press("ArrowRight")
    tuesday_8 = page.get_by_role("checkbox", name=f"DUMAS Anna, {tuesday}, 08:00 - 10:00",
                                 exact=True)
    expect(tuesday_8).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#panel")).to_contain_text("1 session(s) sélectionnée(s)")
    settled(page)
    expect(tuesday_8).to_be_checked()
    expect(tuesday_8).to_be_focused()  # the panel's refresh leaves the focus in the grid
    page.keyboard.press("ArrowDown")
    tuesday_10 = page.get_by_role("checkbox", name=f"DUMAS Anna, {tuesday}, 10:00 - 12:00",
                                  exact=True)
    expect(tuesday_10).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#panel")).to_contain_text("2 session(s) sélectionnée(s)")
    settled(page)
    expect(tuesday_10).to_be_focused()
    assert_seen(page, "#panel")

    # One Tab out of the grid to "Planifier ces sessions"; Enter plans; the focus is on the
    # first session planned.
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Planifier ces sessions")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("banner")).to_contain_text(
        "2 session(s) de permis CE planifiée(s) sur le centre CARCASSONNE")
    planned = page.get_by_role("button", name=f"DUMAS Anna, {tuesday}, 08:00 - 10:00, "
                               "CE CARCASSONNE", exact=True)
    expect(planned).to_be_focused()
    expect(page.get_by_role("button", name=f"DUMAS Anna, {tuesday}, 10:00 - 12:00, "
                            "CE CARCASSONNE", exact=True)).to_be_visible()
    assert_seen(page, "#panel")

    # Enter on a planned session opens its dialog on the safe answer; Escape closes it and the
    # focus is back on the session.
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Session déjà planifiée")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Non, conserver la session")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(planned).to_be_focused()
    # So does the safe answer, by Enter.
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Non, conserver la session")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(planned).to_be_focused()
    assert in_grid(page)
    assert_seen(page, "#panel")


def test_ber4_reserve_units_for_a_school_with_the_keyboard_alone(page):
    keyboard_login(page, "ber011@example.test")
    menu = page.get_by_role("navigation", name="Menu principal")
    tab_to(page, menu.get_by_role("link", name="Gérer les créneaux"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gérer les plannings IPCSR")

    # The week of the demo's Friday (DUMAS Anna, the agent's first favourite, is shown).
    go_to_week(page, NEXT_MONDAY)
    assert shown_monday(page) == NEXT_MONDAY

    # Into the grid (one Tab stop), then the arrows: right to Friday, down to 15:30.
    for _ in range(6):
        page.keyboard.press("Tab")
        if in_grid(page):
            break
    assert in_grid(page), focused_name(page)
    friday = f"DUMAS Anna, {dates.jour_date(FRIDAY)}"
    for _ in range(40):
        if focused_name(page).startswith(friday):
            break
        page.keyboard.press("ArrowRight")
    assert focused_name(page).startswith(friday), focused_name(page)
    wanted = []
    for start, end in FRIDAY_UNITS[:2]:
        name = f"{friday}, {start} - {end}, Dispo AE"
        for _ in range(40):
            if focused_name(page) == name:
                break
            page.keyboard.press("ArrowDown" if focused_name(page) < name else "ArrowUp")
        assert focused_name(page) == name
        page.keyboard.press("Space")
        wanted.append(name)
        expect(page.locator("#panel")).to_contain_text(
            f"{len(wanted)} unité{'s' if len(wanted) > 1 else ''} sélectionnée")
        settled(page)
        box = page.get_by_role("checkbox", name=name, exact=True)
        expect(box).to_be_checked()
        expect(box).to_be_focused()  # the selection's refresh leaves the focus in the grid
        assert_seen(page, "#selbar")

    # Out of the grid to the school search, a combobox: type, ArrowDown, Enter.
    field = page.get_by_role("combobox", name="Raison sociale de l'auto-école ou ID Aurige")
    assert tab_to(page, field, 8) <= 8
    page.keyboard.type("aut")
    option = page.get_by_role("option", name="Alliance Auto-Ecole — Aurige ID : "
                                             "auto-ecole-aurige-1")
    expect(option).to_be_visible()
    settled(page)
    expect(field).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(field).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Auto-école choisie")).to_contain_text("Alliance Auto-Ecole")
    valider = page.get_by_role("button", name="Valider la place d'examen")
    expect(valider).to_be_focused()  # the school chosen, the next step has the focus

    # Valider: the banner says it; the focus is on the first unit just reserved.
    page.keyboard.press("Enter")
    banner = page.get_by_test_id("banner")
    expect(banner).to_contain_text("Réservation enregistrée !")
    expect(banner).to_be_in_viewport()
    first = page.get_by_role("button", name=unit_name(FRIDAY, *FRIDAY_UNITS[0],
                                                      "Alliance Auto-Ecole"), exact=True)
    expect(first).to_be_focused()
    expect(page.get_by_role("button", name=unit_name(FRIDAY, *FRIDAY_UNITS[1],
                                                     "Alliance Auto-Ecole"), exact=True)
           ).to_be_visible()
    # The banner is scrolled into view (app.js), the unit may be below it, off screen: a known
    # trade-off (the accessibility statement says it); the next arrow key brings it back.
    assert_seen(page, "#selbar", on_screen=False)

    # Enter opens the exam's detail; Escape closes it, the focus back on the unit.
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Détail de l'examen")
    expect(dialog).to_be_visible()
    assert page.evaluate("() => !!document.activeElement.closest('dialog')")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(first).to_be_focused()
    assert_seen(page, "#selbar")
