"""A week runs Monday to Saturday (SPEC "Week"): a Sunday opens onto the coming week, so an agent
who opens the grids on a Sunday sees the week ahead, not the one that has just ended."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from rdvpl import dates
from tests.helpers import page_text

A_MONDAY = dt.date(2027, 3, 1)


@pytest.mark.parametrize("offset", range(6))
def test_monday_to_saturday_belong_to_their_own_week(offset):
    assert dates.monday_of(A_MONDAY + dt.timedelta(days=offset)) == A_MONDAY


def test_a_sunday_belongs_to_the_coming_week():
    sunday = A_MONDAY - dt.timedelta(days=1)
    assert dates.monday_of(sunday) == A_MONDAY
    assert dates.monday_of(A_MONDAY + dt.timedelta(days=6)) == A_MONDAY + dt.timedelta(days=7)


def words(response) -> str:
    return page_text(response.get_data(as_text=True))


@pytest.fixture
def on_a_sunday(demo, client, auth, paris_clock):
    """The BER agent of 011, on the first Sunday after today at 10:00 in Paris."""
    today = dates.today()
    sunday = today + dt.timedelta(days=(6 - today.weekday()) or 7)
    paris_clock(dt.datetime.combine(sunday, dt.time(10)))
    auth.login("ber011@example.test")
    return sunday


@pytest.mark.parametrize("path", ["/ber/creneaux", "/ber/planification"])
def test_on_a_sunday_both_grids_open_on_the_coming_week(on_a_sunday, client, path):
    monday, saturday = (on_a_sunday + dt.timedelta(days=n) for n in (1, 6))
    page = words(client.get(path))
    assert f"Semaine du {dates.ddmmyyyy(monday)} au {dates.ddmmyyyy(saturday)}" in page
    ended = on_a_sunday - dt.timedelta(days=6)
    assert f"Semaine du {dates.ddmmyyyy(ended)}" not in page


def test_a_sunday_typed_as_the_date_shows_the_week_it_opens_onto(on_a_sunday, client):
    monday = on_a_sunday + dt.timedelta(days=8)
    typed = dates.ddmmyyyy(on_a_sunday + dt.timedelta(days=7))
    for path in ("/ber/creneaux", "/ber/planification"):
        assert f"Semaine du {dates.ddmmyyyy(monday)}" in words(client.get(f"{path}?date={typed}"))


def test_on_a_sunday_the_export_starts_on_the_coming_monday(on_a_sunday, client):
    response = client.get("/ber/planification/export?semaines=1")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.cell(4, 1).value.date() == on_a_sunday + dt.timedelta(days=1)
    assert sheet.cell(sheet.max_row, 1).value.date() == on_a_sunday + dt.timedelta(days=6)


def test_on_a_sunday_recopier_cette_semaine_copies_the_coming_week(on_a_sunday, client):
    # The demo plans DUMAS Anna's Thursday of the coming week, all four tranches (seed.py).
    thursday = on_a_sunday + dt.timedelta(days=4)
    preview = words(client.get(f"/ber/planification/recopie?date={dates.ddmmyyyy(on_a_sunday)}"
                               "&semaines=1&nom=dumas", headers={"HX-Request": "true"}))
    assert f"{dates.jour_date(thursday + dt.timedelta(weeks=1))} 08:00 - 10:00 CE CARCASSONNE" \
        in preview
