"""Capacity (SPEC Part 2): public holidays, worked Saturdays, absences — which cells each one
closes, what plan_sessions refuses, and the "Sessions concernées" flow with its e-mails."""

from __future__ import annotations

import datetime as dt

import pytest

from rdvpl import dates
from rdvpl.creneaux import creneaux_week, inspector_choices
from rdvpl.errors import DomainError
from rdvpl.models import Tranche
from rdvpl.planning_grid import CellState, grid_cell, planning_week
from tests.helpers import refused
from tests.test_planning import ber, cells, inspector, plan

# ---------------------------------------------------------------------------------------------
# Public holidays
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day, name", [
    (dt.date(2027, 3, 29), "Lundi de Pâques"),
    (dt.date(2027, 5, 6), "Ascension"),
    (dt.date(2027, 5, 17), "Lundi de Pentecôte"),
    (dt.date(2028, 4, 17), "Lundi de Pâques"),
    (dt.date(2028, 5, 25), "Ascension"),
    (dt.date(2028, 6, 5), "Lundi de Pentecôte"),
    (dt.date(2028, 12, 25), "Noël"),
    (dt.date(2027, 7, 14), "Fête nationale"),
])
def test_public_holidays_of_the_coming_years(day, name):
    assert dates.public_holiday(day) == name


@pytest.mark.parametrize("day", [
    dt.date(2027, 3, 28),  # Easter Sunday's eve is not the holiday; the Monday is
    dt.date(2028, 4, 10),  # a week before Easter Monday 2028 (a hand-written 2027 list)
    dt.date(2027, 12, 26),  # Saint-Étienne: Alsace-Moselle only, not the métropole's list
    dt.date(2028, 4, 14),  # Vendredi saint: Alsace-Moselle only
])
def test_ordinary_days_are_no_holidays(day):
    assert dates.public_holiday(day) is None


CHRISTMAS = dt.date(2028, 12, 25)  # a Monday
BEFORE = dt.date(2028, 12, 1)  # "today" for these tests: the week is within the horizon


def test_a_holiday_closes_its_day_on_the_planning_grid(demo, ctx):
    grid = planning_week(ber(), CHRISTMAS, search="dumas", today=BEFORE)
    rows = dict(grid.inspectors[0].rows)
    for tranche in Tranche:
        monday, tuesday = rows[tranche][0], rows[tranche][1]
        assert monday.state == CellState.HOLIDAY and monday.reason == "Jour férié (Noël)"
        assert tuesday.state == CellState.FREE and tuesday.reason == ""
    # The cell swapped alone after an action says the same.
    one = grid_cell(ber(), inspector("DUMAS").id, CHRISTMAS, Tranche.S2, today=BEFORE)
    assert (one.state, one.reason) == (CellState.HOLIDAY, "Jour férié (Noël)")


def test_a_holiday_on_a_worked_saturday_stays_closed(demo, ctx):
    from rdvpl.extensions import db
    from rdvpl.models import WorkedSaturday

    may_day = dt.date(2027, 5, 1)  # a Saturday
    db.session.add(WorkedSaturday(inspector=inspector("DUMAS"), date=may_day))
    db.session.commit()
    grid = planning_week(ber(), may_day, search="dumas", today=dt.date(2027, 4, 1))
    saturday = dict(grid.inspectors[0].rows)[Tranche.M1][5]
    assert (saturday.state, saturday.reason) == (CellState.HOLIDAY, "Jour férié (Fête du Travail)")


def test_plan_sessions_refuses_a_holiday(demo, ctx):
    whit_monday = dt.date(2027, 5, 17)
    refused(DomainError, r"DUMAS Anna, lundi 17/05/2027, 08:00 - 10:00 : jour férié "
            r"\(Lundi de Pentecôte\), aucune session ne se planifie\.",
            lambda: plan(cells("DUMAS", whit_monday, "M1"), today=dt.date(2027, 5, 1)))
    # The day after is an ordinary Tuesday.
    assert len(plan(cells("DUMAS", whit_monday + dt.timedelta(days=1), "M1"),
                    today=dt.date(2027, 5, 1))) == 1


def test_the_unit_grid_shows_a_holiday_closed(demo, ctx):
    department = ber().department_id
    choices = inspector_choices(department)
    dumas = next(c for c in choices if c.nom_prenom == "DUMAS Anna")
    week = creneaux_week(department, CHRISTMAS, choices, inspector_id=dumas.id)
    monday, tuesday = week.rows[0].days[:2]
    assert monday.closed == "Jour férié (Noël)" and tuesday.closed == ""


def test_planning_page_names_the_holiday_cells(demo, auth, client):
    auth.login()
    page = client.get("/ber/planification?date=25/12/2028&recherche=dumas").get_data(as_text=True)
    assert 'aria-label="DUMAS Anna, lundi 25/12/2028, 08:00 - 10:00, Jour férié (Noël)"' in page
