"""AE 1 read model (rows of consecutive units, months) and the 6-day rule of AE 2."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl import dates, exams
from rdvpl.booking import can_ae_cancel
from rdvpl.errors import NotFound
from rdvpl.extensions import db
from rdvpl.models import (
    AutoEcole,
    Category,
    Centre,
    Inspector,
    Session,
    Unit,
)
from tests.helpers import planned_session, school

T = dt.time
THURSDAY = dt.date(2022, 2, 17)

# --------------------------------------------------------------------------------------------
# Grouping, on plain (unsaved) objects
# --------------------------------------------------------------------------------------------

CE = Category(id=1, code="CE")
CARCASSONNE = Centre(id=1, name="CARCASSONNE")
NARBONNE = Centre(id=2, name="NARBONNE")
DUMAS = Inspector(id=1, last_name="DUMAS", first_name="Anna", matricule="2488")
ARNAUD = Inspector(id=2, last_name="ARNAUD", first_name="Agathe", matricule="240")


def unit(start: str, *, day=THURSDAY, inspector=DUMAS, centre=CARCASSONNE, uid=None) -> Unit:
    """A 30-minute unit starting at ``start`` ("10:30"), in its own unsaved session."""
    begin = dt.datetime.combine(day, T.fromisoformat(start))
    end = (begin + dt.timedelta(minutes=30)).time()
    session = Session(date=day, inspector=inspector, inspector_id=inspector.id, centre=centre,
                      centre_id=centre.id, category=CE, category_id=CE.id, tranche="M1",
                      start_time=begin.time(), end_time=end)
    return Unit(id=uid, session=session, start_time=begin.time(), end_time=end)


def shape(rows) -> list[tuple]:
    return [(r.day, dates.hhmm(r.start), r.count, r.centre.name, r.inspector.public_name)
            for r in rows]


def test_consecutive_units_make_one_row():
    rows = exams.group_rows([unit("10:00"), unit("10:30"), unit("11:00"), unit("11:30")])
    assert shape(rows) == [(THURSDAY, "10:00", 4, "CARCASSONNE", "Inspecteur 2488")]
    assert rows[0].end == T(12, 0)


def test_a_gap_splits_the_row_as_after_a_cancellation():
    # The guide: the 4-unit row at 10:00 whose second unit was cancelled becomes 10:00 1, 11:00 2.
    rows = exams.group_rows([unit("10:00"), unit("11:00"), unit("11:30")])
    assert [(dates.hhmm(r.start), r.count) for r in rows] == [("10:00", 1), ("11:00", 2)]


def test_unsorted_input_is_grouped_and_sorted():
    rows = exams.group_rows([unit("16:30"), unit("11:00"), unit("10:30"), unit("10:00"),
                             unit("15:00"), unit("14:30")])
    assert [(dates.hhmm(r.start), r.count) for r in rows] == [
        ("10:00", 3), ("14:30", 2), ("16:30", 1)]


def test_a_run_crosses_two_sessions_that_touch_but_not_the_lunch_break():
    # S1 ends 15:00 and S2 starts 15:00 (the guide's "14:30 — 2"); M2 ends 12:00, S1 starts 13:00.
    rows = exams.group_rows([unit("11:30"), unit("13:00"), unit("14:30"), unit("15:00")])
    assert [(dates.hhmm(r.start), r.count) for r in rows] == [
        ("11:30", 1), ("13:00", 1), ("14:30", 2)]


def test_inspector_change_splits_the_row():
    rows = exams.group_rows([unit("10:00"), unit("10:30", inspector=ARNAUD), unit("11:00")])
    assert shape(rows) == [
        (THURSDAY, "10:00", 1, "CARCASSONNE", "Inspecteur 2488"),
        (THURSDAY, "10:30", 1, "CARCASSONNE", "Inspecteur 240"),
        (THURSDAY, "11:00", 1, "CARCASSONNE", "Inspecteur 2488"),
    ]


def test_centre_change_splits_the_row():
    rows = exams.group_rows([unit("10:00"), unit("10:30", centre=NARBONNE)])
    assert [(dates.hhmm(r.start), r.centre.name) for r in rows] == [
        ("10:00", "CARCASSONNE"), ("10:30", "NARBONNE")]


def test_different_days_split_the_row():
    friday = THURSDAY + dt.timedelta(days=1)
    rows = exams.group_rows([unit("23:30", day=THURSDAY), unit("00:00", day=friday)])
    assert [(r.day, r.count) for r in rows] == [(THURSDAY, 1), (friday, 1)]


def test_same_hour_rows_are_ordered_by_centre():
    rows = exams.group_rows([unit("10:00", centre=NARBONNE, inspector=ARNAUD), unit("10:00")])
    assert [r.centre.name for r in rows] == ["CARCASSONNE", "NARBONNE"]


def test_a_row_is_addressed_by_its_first_unit():
    rows = exams.group_rows([unit("10:30", uid=12), unit("10:00", uid=11)])
    assert rows[0].first_unit_id == 11 and [u.id for u in rows[0].units] == [11, 12]


def test_months_are_chronological_with_french_names():
    rows = exams.group_rows([
        unit("08:15", day=dt.date(2022, 3, 22), inspector=ARNAUD),
        unit("10:00", day=dt.date(2022, 2, 17)),
        unit("09:00", day=dt.date(2023, 1, 5)),
        unit("16:30", day=dt.date(2022, 2, 17)),
        unit("08:00", day=dt.date(2022, 2, 3)),
    ])
    months = exams.group_months(rows)
    assert [dates.mois(m.month) for m in months] == ["Février 2022", "Mars 2022", "Janvier 2023"]
    assert [(r.day.day, dates.hhmm(r.start)) for r in months[0].rows] == [
        (3, "08:00"), (17, "10:00"), (17, "16:30")]


def test_row_near_a_cancelled_unit():
    rows = exams.group_rows([unit("10:00", uid=1), unit("11:00", uid=3), unit("11:30", uid=4),
                             unit("09:00", day=THURSDAY + dt.timedelta(days=1), uid=9)])
    view = exams.ExamsView([], CE, False, exams.group_months(rows))
    assert exams.row_near(view, THURSDAY, T(10, 30)) == 1  # the row before the gap
    assert exams.row_near(view, THURSDAY, T(12, 0)) == 3
    assert exams.row_near(view, THURSDAY, T(9, 30)) == 1  # nothing before: the day's first
    # That day's last row is gone: the next day's row, else the last row of the table.
    assert exams.row_near(view, THURSDAY - dt.timedelta(days=1), T(9, 0)) == 1
    assert exams.row_near(view, THURSDAY + dt.timedelta(days=2), T(9, 0)) == 9
    empty = exams.ExamsView([], CE, False, [])
    assert exams.row_near(empty, THURSDAY, T(9, 0)) is None


def test_no_units_no_rows_no_months():
    assert exams.group_rows([]) == [] and exams.group_months([]) == []


# --------------------------------------------------------------------------------------------
# The 6-day rule: a unit on day D may be cancelled by the school until D-6 inclusive (Paris)
# --------------------------------------------------------------------------------------------


def paris(*args, fold=0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dates.PARIS, fold=fold)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(("now", "allowed"), [
    (paris(2022, 2, 11, 0, 0), True),     # D-6 at midnight
    (paris(2022, 2, 11, 23, 59), True),   # D-6, last minute
    (paris(2022, 2, 11, 23, 59, 59), True),
    (paris(2022, 2, 12, 0, 0), False),    # D-5 at midnight
    (paris(2022, 2, 12, 23, 59), False),
    (paris(2022, 2, 1, 9, 0), True),      # well ahead
    (paris(2022, 2, 17, 8, 0), False),    # the day itself
    (paris(2022, 2, 20, 8, 0), False),    # after
    (utc(2022, 2, 11, 22, 59), True),     # 23:59 in Paris (UTC+1)
    (utc(2022, 2, 11, 23, 0), False),     # already 00:00 on D-5 in Paris
])
def test_six_day_boundary(now, allowed):
    assert can_ae_cancel(THURSDAY, now) is allowed


@pytest.mark.parametrize(("unit_day", "now", "allowed"), [
    # Spring 2026 (clocks go forward on Sunday 29 March): D = 1 April, D-6 = 26 March (UTC+1).
    (dt.date(2026, 4, 1), paris(2026, 3, 26, 23, 30), True),   # 144 h before D would refuse it
    (dt.date(2026, 4, 1), paris(2026, 3, 26, 23, 59), True),
    (dt.date(2026, 4, 1), paris(2026, 3, 27, 0, 0), False),
    (dt.date(2026, 4, 1), utc(2026, 3, 26, 22, 59), True),
    (dt.date(2026, 4, 1), utc(2026, 3, 26, 23, 0), False),
    # D-6 is the change day itself (28 March 2026 -> D = 3 April): midnight is UTC+1, then +2.
    (dt.date(2026, 4, 3), paris(2026, 3, 28, 23, 59), True),
    (dt.date(2026, 4, 4), paris(2026, 3, 29, 23, 59), True),   # D-6 = the 23-hour day
    (dt.date(2026, 4, 4), utc(2026, 3, 29, 21, 59), True),     # 23:59 CEST
    (dt.date(2026, 4, 4), utc(2026, 3, 29, 22, 0), False),     # 00:00 CEST on D-5
    # Autumn 2026 (clocks go back on Sunday 25 October): D = 28 October, D-6 = 22 October.
    (dt.date(2026, 10, 28), paris(2026, 10, 22, 23, 59), True),
    (dt.date(2026, 10, 28), paris(2026, 10, 23, 0, 0), False),
    (dt.date(2026, 10, 31), paris(2026, 10, 25, 23, 59), True),  # D-6 = the 25-hour day
    (dt.date(2026, 10, 31), utc(2026, 10, 25, 22, 59), True),    # 23:59 CET
    (dt.date(2026, 10, 31), utc(2026, 10, 25, 23, 0), False),    # 00:00 CET on D-5
    (dt.date(2026, 10, 31), paris(2026, 10, 25, 2, 30, fold=1), True),  # the repeated hour
    # Autumn 2027 (31 October): D = 3 November, D-6 = 28 October (UTC+2), D-5 00:00 (UTC+2).
    (dt.date(2027, 11, 3), paris(2027, 10, 28, 23, 59), True),
    (dt.date(2027, 11, 3), utc(2027, 10, 28, 21, 59), True),
    (dt.date(2027, 11, 3), utc(2027, 10, 28, 22, 0), False),
    (dt.date(2027, 11, 3), paris(2027, 10, 29, 0, 0), False),
    # Spring 2027 (28 March): D = 31 March, D-6 = 25 March.
    (dt.date(2027, 3, 31), paris(2027, 3, 25, 23, 59), True),
    (dt.date(2027, 3, 31), paris(2027, 3, 26, 0, 0), False),
])
def test_six_day_boundary_across_daylight_saving_changes(unit_day, now, allowed):
    assert can_ae_cancel(unit_day, now) is allowed


def test_six_day_rule_needs_an_aware_datetime():
    with pytest.raises(ValueError):
        can_ae_cancel(THURSDAY, dt.datetime(2022, 2, 1, 9, 0))


# --------------------------------------------------------------------------------------------
# The read model against the database (demo data, relative to today)
# --------------------------------------------------------------------------------------------


def test_school_sees_only_its_own_upcoming_units_grouped(demo, ctx):
    today = dates.today()
    view = exams.school_exams(school().id, None, past=False, today=today)
    assert view.category.code == "CE" and [c.code for c in view.categories] == ["CE"]
    rows = [r for m in view.months for r in m.rows]
    alliance = school()
    shown = [u.id for r in rows for u in r.units]
    owners = db.session.scalars(sa.select(Unit.auto_ecole_id).where(Unit.id.in_(shown))).all()
    assert len(owners) == len(shown) and set(owners) == {alliance.id}
    assert all(r.day >= today for r in rows)
    thursday = dates.monday_of(today) + dt.timedelta(days=10)
    # The seeded Thursday: 10:00 x4 (M2), 14:30 x2 (last of S1 + first of S2); the 16:30 unit of
    # S2 belongs to another school and is not shown.
    assert [(dates.hhmm(r.start), r.count) for r in rows if r.day == thursday] == [
        ("10:00", 4), ("14:30", 2)]
    expected = sorted(rows, key=lambda r: (r.day, r.start))
    assert rows == expected


def test_other_schools_see_their_own(demo, ctx):
    view = exams.school_exams(school("auto-ecole-aurige-51").id, "CE", past=False,
                              today=dates.today())
    [row] = [r for m in view.months for r in m.rows]
    assert row.count == 3 and row.inspector.public_name == "Inspecteur 2491"


def test_past_exams_only_on_request(demo, ctx):
    past_day = dates.today() - dt.timedelta(days=40)
    planned_session("DUMAS", past_day, reserved=[0, 1], for_school=school())
    upcoming = exams.school_exams(school().id, "CE", past=False, today=dates.today())
    past = exams.school_exams(school().id, "CE", past=True, today=dates.today())
    assert past_day not in {r.day for m in upcoming.months for r in m.rows}
    assert [(r.day, r.count) for m in past.months for r in m.rows] == [(past_day, 2)]
    assert past.query == {"categorie": "CE", "periode": "passes"}


def test_categories_filter(demo, ctx):
    day = dates.today() + dt.timedelta(days=20)
    planned_session("MONTEIL", day, reserved=[1, 2], for_school=school(), category_code="C")
    view = exams.school_exams(school().id, None, past=False, today=dates.today())
    assert [c.code for c in view.categories] == ["C", "CE"] and view.category.code == "CE"
    c_view = exams.school_exams(school().id, "C", past=False, today=dates.today())
    assert [(r.day, r.count) for m in c_view.months for r in m.rows] == [(day, 2)]
    # A category the school has no units in (or a tampered value) falls back to CE.
    assert exams.school_exams(school().id, "ZZ", past=False,
                              today=dates.today()).category.code == "CE"


def test_school_without_units_has_no_category(demo, ctx):
    new = AutoEcole(department_id=school().department_id, raison_sociale="Nouvelle école",
                    aurige_id="auto-ecole-aurige-99", email="nouvelle@example.test")
    db.session.add(new)
    db.session.commit()
    view = exams.school_exams(new.id, None, past=True, today=dates.today())
    assert view.categories == [] and view.category is None and view.months == []


def test_row_containing_a_unit_and_scoping(demo, ctx):
    alliance = school()
    thursday = dates.monday_of(dates.today()) + dt.timedelta(days=10)
    units = db.session.scalars(
        sa.select(Unit).join(Unit.session)
        .where(Unit.auto_ecole_id == alliance.id, Session.date == thursday)
        .order_by(Unit.start_time)).all()
    row = exams.row_containing(alliance.id, units[2].id)
    assert row.first_unit_id == units[0].id and row.count == 4
    with pytest.raises(NotFound):  # another school cannot address it
        exams.row_containing(school("auto-ecole-aurige-2").id, units[0].id)
    with pytest.raises(NotFound):
        exams.row_containing(alliance.id, 10**9)
