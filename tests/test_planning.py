"""Domain of BER 1-3: the week grid, plan_sessions, delete_session, export_table.

Dates are relative to today, like the demo data: WEEK is a week three weeks ahead in which the
demo has no session at all.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl import dates, scopes
from rdvpl.errors import Conflict, DomainError, NotFound
from rdvpl.export import export_table
from rdvpl.extensions import db
from rdvpl.models import (
    AutoEcole,
    Category,
    Centre,
    History,
    Inspector,
    OutboxMail,
    Session,
    Tranche,
    Unit,
    UnitStatus,
)
from rdvpl.names import name_capitalised
from rdvpl.planning_grid import CellState, grid_cell, planning_week
from rdvpl.sessions import CellRef, delete_session, plan_sessions, reserved_by_school
from tests.conftest import user_by_email
from tests.helpers import ordinary_day

TODAY = dates.today()
MONDAY = dates.monday_of(TODAY)
NEXT_MONDAY = MONDAY + dt.timedelta(weeks=1)
WEEK = MONDAY + dt.timedelta(weeks=3)  # empty in the demo data
TUESDAY = WEEK + dt.timedelta(days=1)
FRIDAY = WEEK + dt.timedelta(days=4)
SATURDAY = WEEK + dt.timedelta(days=5)  # not worked by anyone
WORKED_SATURDAY = MONDAY + dt.timedelta(weeks=2, days=5)  # worked by DUMAS and MARAIS


def ber(code="011"):
    return user_by_email(f"ber{code}@example.test")


def inspector(last_name) -> Inspector:
    return db.session.scalar(sa.select(Inspector).where(Inspector.last_name == last_name))


def centre(name) -> Centre:
    return db.session.scalar(sa.select(Centre).where(Centre.name == name))


def category(code) -> Category:
    return db.session.scalar(sa.select(Category).where(Category.code == code))


def school(name) -> AutoEcole:
    return db.session.scalar(sa.select(AutoEcole).where(AutoEcole.raison_sociale == name))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def state() -> tuple:
    """Every row count a refused action must leave as it was."""
    db.session.expire_all()
    return (count(Session), count(Unit), count(History), count(OutboxMail),
            db.session.scalar(sa.select(sa.func.count()).select_from(Unit).where(
                Unit.status == UnitStatus.RESERVED)))


def cells(last_name, day, *tranches) -> list[CellRef]:
    inspector_id = inspector(last_name).id
    return [CellRef(inspector_id, day, Tranche(t)) for t in tranches or Tranche]


def plan(cell_refs, centre_name="CARCASSONNE", code="CE", actor=None, today=TODAY):
    return plan_sessions(actor or ber(), centre(centre_name).id, category(code).id,
                                  cell_refs, today=today)


def session_at(last_name, day, tranche) -> Session:
    return db.session.scalar(sa.select(Session).where(
        Session.inspector_id == inspector(last_name).id, Session.date == day,
        Session.tranche == tranche))


# ---------------------------------------------------------------------------------------------
# plan_sessions
# ---------------------------------------------------------------------------------------------


def test_plan_creates_sessions_with_dispo_units_and_history(demo, ctx):
    before = state()
    made = plan(cells("DUMAS", TUESDAY))
    assert len(made) == 4
    db.session.expire_all()
    sessions = db.session.scalars(sa.select(Session).where(
        Session.inspector_id == inspector("DUMAS").id, Session.date == TUESDAY
    ).order_by(Session.start_time)).all()
    assert [(s.tranche, s.start_time, s.end_time) for s in sessions] == [
        ("M1", dt.time(8), dt.time(10)), ("M2", dt.time(10), dt.time(12)),
        ("S1", dt.time(13), dt.time(15)), ("S2", dt.time(15), dt.time(17)),
    ]
    for s in sessions:
        assert (s.centre.name, s.category.code, s.department_id) == (
            "CARCASSONNE", "CE", inspector("DUMAS").department_id)
        assert [u.status for u in s.units] == [UnitStatus.DISPO] * 4
        assert s.units[0].start_time == s.start_time and s.units[-1].end_time == s.end_time
    rows = db.session.scalars(sa.select(History).where(History.action == "session.planned")).all()
    assert sorted(r.object_id for r in rows) == sorted(s.id for s in sessions)
    assert rows[0].actor_id == ber().id and rows[0].after["centre"] == "CARCASSONNE"
    after = state()
    assert after[:3] == (before[0] + 4, before[1] + 16, before[2] + 4)


def test_friday_afternoon_follows_the_guides_hours(demo, ctx):
    friday = ordinary_day(FRIDAY)  # not Christmas nor New Year's Day
    plan(cells("MONTEIL", friday, "S1", "S2"), centre_name="NARBONNE", code="C")
    s1 = session_at("MONTEIL", friday, "S1")
    assert (s1.start_time, s1.end_time) == (dt.time(13, 30), dt.time(15, 30))
    assert [u.start_time for u in s1.units] == [dt.time(13, 30), dt.time(14), dt.time(14, 30),
                                                 dt.time(15)]
    assert session_at("MONTEIL", friday, "S2").category.code == "C"


def test_worked_saturday_can_be_planned(demo, ctx):
    plan(cells("DUMAS", WORKED_SATURDAY, "M1"))
    assert session_at("DUMAS", WORKED_SATURDAY, "M1") is not None


def test_tomorrow_can_be_planned_but_not_today(demo, ctx):
    day = WEEK + dt.timedelta(days=2)
    plan(cells("BARBET", day, "M1"), today=day - dt.timedelta(days=1))
    with pytest.raises(DomainError, match="le jour même"):
        plan(cells("BARBET", day, "M2"), today=day)


REFUSALS = {
    # name: (cells(), keyword arguments of plan(), error type, words of the message)
    "empty": (lambda: [], {}, DomainError, "Sélectionnez au moins une session"),
    "past": (lambda: cells("DUMAS", MONDAY - dt.timedelta(days=7), "M1"), {}, DomainError,
             "cette date est passée"),
    "today": (lambda: cells("DUMAS", TUESDAY, "M1"), {"today": TUESDAY}, DomainError,
              "le jour même"),
    "sunday": (lambda: cells("DUMAS", WEEK + dt.timedelta(days=6), "M1"), {}, DomainError,
               "dimanche"),
    "unworked saturday": (lambda: cells("DUMAS", SATURDAY, "M1"), {}, DomainError,
                          "ce samedi n'est pas déclaré travaillé pour DUMAS Anna"),
    "duplicate": (lambda: cells("DUMAS", TUESDAY, "M1", "M2", "M1"), {}, DomainError,
                  "sélectionnée deux fois"),
    "light category": (lambda: cells("DUMAS", TUESDAY, "M1"), {"code": "B"}, DomainError,
                       "La catégorie B n'est pas une catégorie du groupe lourd"),
    "other department's inspector": (lambda: cells("LEROY", TUESDAY, "M1"), {}, NotFound,
                                     "Inspecteur introuvable"),
    "other department's centre": (lambda: cells("DUMAS", TUESDAY, "M1"),
                                  {"centre_name": "MONTPELLIER"}, NotFound, "Centre introuvable"),
    "already planned": (lambda: cells("DUMAS", NEXT_MONDAY + dt.timedelta(days=3), "S1"), {},
                        Conflict, "est déjà planifiée (CE CARCASSONNE)"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_change_nothing(demo, ctx, case):
    make_cells, kwargs, error, words = REFUSALS[case]
    # A free cell first: the whole request is refused, not only the offending cell.
    good = cells("MARAIS", TUESDAY, "M1") if case not in ("empty",) else []
    before = state()
    with pytest.raises(error) as raised:
        plan(good + make_cells(), **kwargs)
    assert words in raised.value.message
    assert state() == before
    assert session_at("MARAIS", TUESDAY, "M1") is None


def test_refusal_names_the_offending_cell(demo, ctx):
    with pytest.raises(DomainError) as raised:
        plan(cells("DUMAS", SATURDAY, "M2"))
    day = dates.jour_date(SATURDAY)
    assert raised.value.message.startswith(f"DUMAS Anna, {day}, 10:00 - 12:00 :")


def test_already_planned_names_the_cell(demo, ctx):
    thursday = NEXT_MONDAY + dt.timedelta(days=3)
    with pytest.raises(Conflict) as raised:
        plan(cells("DUMAS", thursday, "M2"))
    assert raised.value.message.startswith(
        f"La session DUMAS Anna, {dates.jour_date(thursday)}, 10:00 - 12:00 est déjà planifiée")


def test_another_agent_planned_meanwhile_the_unique_constraint_decides(demo, ctx, monkeypatch):
    """Both agents passed the check; the database refuses the second insert: nothing planned."""
    plan(cells("DUMAS", TUESDAY, "S1"))  # the other agent's session
    monkeypatch.setattr("rdvpl.sessions._existing_sessions", lambda refs: [])
    before = state()
    with pytest.raises(Conflict, match="vient d'être planifiée par un autre agent"):
        plan(cells("DUMAS", TUESDAY, "M1", "M2", "S1"))
    assert state() == before
    assert session_at("DUMAS", TUESDAY, "M1") is None


# ---------------------------------------------------------------------------------------------
# delete_session
# ---------------------------------------------------------------------------------------------


def test_delete_free_session(demo, ctx):
    plan(cells("MONTEIL", TUESDAY, "M1"))
    session = session_at("MONTEIL", TUESDAY, "M1")
    session_id, before = session.id, state()
    deleted = delete_session(ber(), session_id)
    assert (deleted.category, deleted.centre, deleted.date, deleted.start, deleted.end) == (
        "CE", "CARCASSONNE", TUESDAY, dt.time(8), dt.time(10))
    assert name_capitalised(deleted.inspector) == "Monteil Marie"
    assert deleted.cancelled_units == 0 and deleted.schools == []
    assert session_at("MONTEIL", TUESDAY, "M1") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit).where(
        Unit.session_id == session_id)) == 0
    row = db.session.scalar(sa.select(History).where(History.action == "session.deleted"))
    assert row.object_id == session_id and row.before["inspector"] == "MONTEIL Marie"
    assert row.before["reserved_units"] == 0
    assert state()[0] == before[0] - 1 and state()[3] == before[3]  # no e-mail


def test_delete_session_cancels_reservations_one_mail_per_school(demo, ctx):
    thursday = NEXT_MONDAY + dt.timedelta(days=3)
    session = session_at("DUMAS", thursday, "S2")  # Alliance Auto-Ecole + Alliance du 002
    reserved = [u.id for u in session.units if u.status == UnitStatus.RESERVED]
    assert len(reserved) == 2
    deleted = delete_session(ber(), session.id)
    assert deleted.cancelled_units == 2
    assert deleted.schools == [("Alliance Auto-Ecole", 1), ("Alliance du 002", 1)]
    cancelled = db.session.scalars(sa.select(History).where(
        History.action == "unit.cancelled")).all()
    assert sorted(r.object_id for r in cancelled) == sorted(reserved)
    assert {r.before["auto_ecole"] for r in cancelled} == {"Alliance Auto-Ecole",
                                                           "Alliance du 002"}
    mails = db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.recipients)).all()
    assert [m.recipients for m in mails] == ["alliance002@example.test", "alliance@example.test"]
    for mail in mails:
        assert mail.subject == "Annulation d'examens pratiques du permis de conduire"
        assert mail.kind == "cancel_by_ber"
    alliance = mails[1].body_text
    assert "Alliance Auto-Ecole" in alliance and "groupe lourd" in alliance
    assert f"{dates.jour_date(thursday)}, de 15:00 à 15:30, centre CARCASSONNE, catégorie CE" \
        in alliance
    assert "16:30" not in alliance  # the other school's unit is not in this mail


def test_delete_session_one_mail_lists_all_units_of_the_school(demo, ctx):
    thursday = NEXT_MONDAY + dt.timedelta(days=3)
    session = session_at("DUMAS", thursday, "M2")  # 4 units for Alliance Auto-Ecole
    delete_session(ber(), session.id)
    [mail] = db.session.scalars(sa.select(OutboxMail)).all()
    assert mail.recipients == "alliance@example.test"
    for start in ("10:00 à 10:30", "10:30 à 11:00", "11:00 à 11:30", "11:30 à 12:00"):
        assert start in mail.body_text


def test_past_session_cannot_be_deleted(demo, ctx):
    past = MONDAY - dt.timedelta(days=5)
    plan(cells("MARAIS", past, "M1"), today=past - dt.timedelta(days=1))
    session_id, before = session_at("MARAIS", past, "M1").id, state()
    with pytest.raises(DomainError, match="est passée : elle ne peut plus être supprimée"):
        delete_session(ber(), session_id)
    assert state() == before


def test_todays_session_can_still_be_deleted(demo, ctx):
    plan(cells("MARAIS", TUESDAY, "M1"))
    session_id = session_at("MARAIS", TUESDAY, "M1").id
    delete_session(ber(), session_id, today=TUESDAY)
    assert session_at("MARAIS", TUESDAY, "M1") is None


@pytest.mark.parametrize("whose", ["other department", "unknown"])
def test_delete_foreign_or_unknown_session_is_not_found(demo, ctx, whose):
    if whose == "unknown":
        session_id = 10**9
    else:
        session_id = db.session.scalar(sa.select(Session.id).where(
            Session.inspector_id == inspector("LEROY").id).limit(1))
    before = state()
    with pytest.raises(NotFound):
        delete_session(ber(), session_id)
    assert state() == before


def test_session_for_dialog_is_scoped(demo, ctx):
    leroy = db.session.scalar(sa.select(Session).where(
        Session.inspector_id == inspector("LEROY").id).limit(1))
    assert scopes.session(ber("034").department_id, leroy.id).id == leroy.id
    with pytest.raises(NotFound):
        scopes.session(ber("011").department_id, leroy.id)


def test_reserved_by_school_groups_units(demo, ctx):
    thursday = NEXT_MONDAY + dt.timedelta(days=3)
    session = scopes.session(ber().department_id, session_at("DUMAS", thursday, "S2").id)
    groups = reserved_by_school(session)
    assert [(s.raison_sociale, len(u)) for s, u in groups] == [("Alliance Auto-Ecole", 1),
                                                               ("Alliance du 002", 1)]


# ---------------------------------------------------------------------------------------------
# planning_week
# ---------------------------------------------------------------------------------------------


def test_week_grid_favourites_first_then_by_name(demo, ctx):
    grid = planning_week(ber(), WEEK)
    names = [(iw.inspector.nom_prenom, iw.favourite) for iw in grid.inspectors]
    assert names == [("DUMAS Anna", True), ("MONTEIL Marie", True), ("ARNAUD Agathe", False),
                     ("BARBET Anaïs", False), ("GONZALEZ Grégory", False),
                     ("KLÉBER Thierry", False), ("MARAIS Pierrette", False)]
    assert grid.days[0] == WEEK and grid.saturday == SATURDAY


@pytest.mark.parametrize("search, expected", [
    ("kleber", ["KLÉBER Thierry"]), ("Dumas Anna", ["DUMAS Anna"]), ("anna DUMAS", ["DUMAS Anna"]),
    ("ANAIS", ["BARBET Anaïs"]), ("  marie  ", ["MONTEIL Marie"]), ("leroy", []), ("zz", []),
])
def test_week_grid_search_ignores_case_and_accents_and_stays_in_department(
        demo, ctx, search, expected):
    grid = planning_week(ber(), WEEK, search=search)
    assert [iw.inspector.nom_prenom for iw in grid.inspectors] == expected


def test_week_grid_cell_states(demo, ctx):
    thursday = NEXT_MONDAY + dt.timedelta(days=3)
    grid = planning_week(ber(), NEXT_MONDAY, search="dumas", today=thursday)
    rows = dict(grid.inspectors[0].rows)
    m1 = rows[Tranche.M1]
    # Monday to Wednesday are past; one of them may hold the demo's session "within six
    # days" (2 to 4 days after the real today), which stays shown as planned.
    dumas_days = set(db.session.scalars(sa.select(Session.date).where(
        Session.inspector_id == inspector("DUMAS").id)))
    assert [c.state for c in m1] == [
        *(CellState.PLANNED if c.day in dumas_days else CellState.PAST for c in m1[:3]),
        CellState.PLANNED, CellState.PLANNED, CellState.FREE]
    assert m1[5].day.weekday() == 5  # DUMAS works that Saturday
    assert m1[3].planned_label == "CE CARCASSONNE"
    friday_s1 = rows[Tranche.S1][4]
    assert friday_s1.hours == "13:30 - 15:30"
    assert friday_s1.name == f"DUMAS Anna, {dates.jour_date(friday_s1.day)}, 13:30 - 15:30"
    monteil = planning_week(ber(), NEXT_MONDAY, search="monteil", today=TODAY)
    assert dict(monteil.inspectors[0].rows)[Tranche.M1][5].state == CellState.CLOSED


@pytest.mark.parametrize("last_name, state", [("MONTEIL", CellState.CLOSED),
                                               ("DUMAS", CellState.FREE)])
def test_one_cell_and_the_week_agree_on_a_saturday(demo, ctx, last_name, state):
    """Next Saturday is worked by DUMAS (and MARAIS), not by MONTEIL: the cell swapped alone
    after an action (grid_cell) says what the week says, for each inspector."""
    saturday = NEXT_MONDAY + dt.timedelta(days=5)
    week = planning_week(ber(), NEXT_MONDAY, search=last_name, today=TODAY)
    assert dict(week.inspectors[0].rows)[Tranche.M2][5].state == state
    cell = grid_cell(ber(), inspector(last_name).id, saturday, Tranche.M2, today=TODAY)
    assert cell.state == state


def test_beyond_the_horizon_a_cell_says_so_and_cannot_be_planned(demo, ctx):
    """The grid shows what plan_sessions refuses: a day more than a year ahead."""
    horizon = dates.one_year_after(TODAY)
    beyond = horizon + dt.timedelta(days=1)
    while beyond.weekday() >= 5 or dates.public_holiday(beyond):
        beyond += dt.timedelta(days=1)
    week = planning_week(ber(), dates.monday_of(beyond), search="dumas", today=TODAY)
    m1 = dict(week.inspectors[0].rows)[Tranche.M1]
    for cell in m1:
        if cell.day > horizon and cell.state != CellState.CLOSED \
                and not dates.public_holiday(cell.day):
            assert (cell.state, cell.reason) == (CellState.TOO_FAR, "Au-delà d'un an")
    assert {c.state for c in m1 if c.day == beyond} == {CellState.TOO_FAR}
    cell = grid_cell(ber(), inspector("DUMAS").id, beyond, Tranche.M1, today=TODAY)
    assert cell.state == CellState.TOO_FAR
    with pytest.raises(DomainError, match="trop lointaine"):
        plan_sessions(ber(), centre("CARCASSONNE").id, category("CE").id,
                      [(inspector("DUMAS").id, beyond, "M1")], today=TODAY)


def test_week_grid_keeps_selection_of_free_cells_only(demo, ctx):
    thursday = NEXT_MONDAY + dt.timedelta(days=3)
    selected = {*cells("DUMAS", NEXT_MONDAY + dt.timedelta(days=2), "M1"),
                *cells("DUMAS", thursday, "M1")}
    grid = planning_week(ber(), NEXT_MONDAY, search="dumas", selected=selected, today=TODAY)
    m1 = dict(grid.inspectors[0].rows)[Tranche.M1]
    assert [c.selected for c in m1] == [False, False, True, False, False, False]


def test_cell_ref_parsing_rejects_tampered_values():
    assert CellRef.parse("12|2022-02-11|M1") == CellRef(12, dt.date(2022, 2, 11), Tranche.M1)
    for bad in ("", None, "12|2022-02-11", "x|2022-02-11|M1", "12|2022-02-30|M1",
                "12|2022-02-11|M9", "12|2022-02-11|M1|x"):
        assert CellRef.parse(bad) is None


# ---------------------------------------------------------------------------------------------
# export_table
# ---------------------------------------------------------------------------------------------


def test_export_table_shape_and_content(demo, ctx):
    table = export_table(ber(), NEXT_MONDAY + dt.timedelta(days=2), 2,
                                  category_code="CE")
    assert table.first_day == NEXT_MONDAY
    assert table.last_day == NEXT_MONDAY + dt.timedelta(days=12)
    assert table.inspectors == [
        ("LUCHAPT DU 011", "ARNAUD Agathe"), ("NARBONNE", "BARBET Anaïs"),
        ("CARCASSONNE", "DUMAS Anna"), ("LUCHAPT DU 011", "GONZALEZ Grégory"),
        ("NARBONNE", "KLÉBER Thierry"), ("CARCASSONNE", "MARAIS Pierrette"),
        ("CARCASSONNE", "MONTEIL Marie"),
    ]
    assert len(table.rows) == 2 * 6 * 4
    friday = NEXT_MONDAY + dt.timedelta(days=4)
    day, weekday, tranche, planned = table.rows[4 * 4]  # Friday M1
    assert (day, weekday, tranche) == (friday, "ven.", "M1")
    assert planned[2] == ("CE", "CARCASSONNE") and planned[6] == ("CE", "CARCASSONNE")
    assert planned[0] is None
    assert [r[2] for r in table.rows[:8]] == ["M1", "M2", "S1", "S2"] * 2
    assert table.rows[5 * 4][1] == "sam."


def test_export_table_follows_filters(demo, ctx):
    plan(cells("DUMAS", TUESDAY, "M1"), code="C")
    table = export_table(ber(), WEEK, 1, search="dumas", category_code="CE")
    assert table.inspectors == [("CARCASSONNE", "DUMAS Anna")]
    assert all(r[3] == [None] for r in table.rows)
    table = export_table(ber(), WEEK, 1, search="dumas", category_code="C")
    assert table.rows[4][3] == [("C", "CARCASSONNE")]  # Tuesday M1


@pytest.mark.parametrize("weeks", [0, 13])
def test_export_table_period_is_bounded(demo, ctx, weeks):
    with pytest.raises(DomainError, match="de 1 à 12 semaines"):
        export_table(ber(), WEEK, weeks)


def test_export_table_of_034_has_none_of_011(demo, ctx):
    table = export_table(ber("034"), NEXT_MONDAY, 1)
    assert [name for _, name in table.inspectors] == ["FABRE Claire", "LEROY Paul"]


def test_plan_accepts_plain_tuples(demo, ctx):
    dumas = inspector("DUMAS").id
    plan([(dumas, TUESDAY, "M1"), (dumas, TUESDAY, Tranche.S2)])
    assert session_at("DUMAS", TUESDAY, "M1") and session_at("DUMAS", TUESDAY, "S2")
    with pytest.raises(DomainError, match="La sélection envoyée est invalide"):
        plan([(dumas, TUESDAY, "M7")])
    with pytest.raises(DomainError, match="La sélection envoyée est invalide"):
        plan([(dumas, "2030-01-01", "M1")])
