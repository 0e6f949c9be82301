"""The BER grids by keyboard on a tablet (issue 10 items 3-5): the focused control is never
under the bar pinned to the bottom of the screen; after each action the focus lands somewhere
meaningful, never on <body>; each grid is one Tab stop, its arrow keys move inside."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from e2e.helpers import login, settled
from e2e.test_ber_creneaux import open_week
from rdvpl import dates

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
