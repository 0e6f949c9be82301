"""BER 4-5 domain: reserve units for a school (all or nothing), cancel an exam, set a unit's
status; every refusal changes nothing; the history; the read model of the screen."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from rdvpl import booking, creneaux, dates, scopes
from rdvpl.errors import Conflict, DomainError, NotFound
from rdvpl.extensions import _SQLITE_BEGIN as SQLITE_BEGIN
from rdvpl.extensions import db
from rdvpl.models import (
    History,
    Inspector,
    OutboxMail,
    Session,
    Tranche,
    Unit,
    UnitStatus,
)
from tests.conftest import user_by_email
from tests.helpers import inspector, planned_session, refused, school, state


@pytest.fixture
def ber(demo, ctx):
    return user_by_email("ber011@example.test")


def units_of(last_name, *, status=UnitStatus.DISPO, after=None, limit=4) -> list[Unit]:
    """Units of one inspector with ``status``, from ``after`` (default: in two days) on."""
    after = after or dates.today() + dt.timedelta(days=2)
    return db.session.scalars(
        sa.select(Unit).join(Unit.session).join(Session.inspector)
        .where(Inspector.last_name == last_name, Unit.status == status, Session.date >= after)
        .order_by(Session.date, Unit.start_time).limit(limit)
    ).all()


# --- reserve_units -------------------------------------------------------------------------


def test_reserve_units_reads_do_not_grow_with_units_nor_read_them_again(ber):
    """As many reads for 4 units as for 1 (the school, the lock, the units), and the units are
    not read back after the UPDATE that reserved them (it matched every locked row: its values
    are known)."""
    executed: list[str] = []

    def listener(conn, cursor, statement, *args):  # noqa: ARG001
        executed.append(" ".join(statement.split()))

    counts = []
    chosen = units_of("MONTEIL", limit=5)
    for ids in ([chosen[0].id], [u.id for u in chosen[1:]]):
        user = user_by_email("ber011@example.test")
        school_id = school().id
        db.session.expire_all()  # as a request begins: nothing of the units loaded yet
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            booking.reserve_units(user, ids, school_id)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        counts.append(sum(s.startswith("SELECT") for s in executed))
        update_at = next(i for i, s in enumerate(executed)
                         if s.startswith("UPDATE unit SET status"))
        after = [s for s in executed[update_at + 1:] if s.startswith("SELECT")]
        assert after == [], after
        executed.clear()
    assert counts[0] == counts[1], counts


def test_reserve_units_reserves_all_with_history_and_one_mail(ber):
    alliance = school()
    chosen = units_of("MONTEIL", limit=4)
    ids = [u.id for u in chosen]
    reserved = booking.reserve_units(ber, ids, alliance.id)
    assert sorted(u.id for u in reserved) == sorted(ids)

    db.session.expire_all()
    for unit in db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids))):
        assert unit.status == UnitStatus.RESERVED
        assert unit.auto_ecole_id == alliance.id
        assert unit.reserved_by_id == ber.id and unit.reserved_at is not None
    rows = db.session.scalars(sa.select(History).where(History.object_id.in_(ids))).all()
    assert len(rows) == 4
    for row in rows:
        assert row.action == "unit.reserved" and row.object_type == "unit"
        assert row.actor_id == ber.id and row.department_id == ber.department_id
        assert row.before["status"] == "dispo" and row.before["auto_ecole_id"] is None
        assert row.after["status"] == "reserved"
        assert row.after["auto_ecole"] == "Alliance Auto-Ecole"
    [mail] = db.session.scalars(sa.select(OutboxMail)).all()
    assert mail.kind == "reservation" and mail.recipients == alliance.email
    assert mail.subject == "Réservation d'examens pratiques du permis de conduire"
    assert "réservées au nom de Alliance Auto-Ecole" in mail.body_text
    assert mail.body_text.count("centre CARCASSONNE, catégorie CE, Inspecteur 2489") == 4


def test_reserve_is_all_or_nothing_when_one_unit_is_taken(ber):
    chosen = units_of("MONTEIL", limit=4)
    other = school("auto-ecole-aurige-2")
    booking.reserve_units(ber, [chosen[2].id], other.id)  # someone reserved one of them
    error = refused(Conflict, "vient d'être attribuée à une autre auto-école",
                    lambda: booking.reserve_units(ber, [u.id for u in chosen], school().id))
    assert booking.describe_unit(chosen[2]) in error.message
    assert "Alliance du 002" in error.message and "Aucune place n'a été réservée" in error.message


def test_a_refused_reservation_holds_no_lock(ber):
    """The units are locked before they are checked; a refusal lets them go at once, so that
    another agent can change them while the refusal's page is still being rendered."""
    ids = [u.id for u in units_of("MONTEIL", limit=2)]
    booking.reserve_units(ber, [ids[1]], school("auto-ecole-aurige-2").id)
    alliance_id = school().id
    with pytest.raises(Conflict):
        booking.reserve_units(ber, ids, alliance_id)
    # No rollback here: what the refusal left open is what a request's page would render in.
    with db.engine.connect() as other:
        if other.dialect.name == "postgresql":
            other.exec_driver_sql("SET lock_timeout = '1s'")
        else:  # SQLite: the database's write lock, waited for 1 s at most
            other.connection.driver_connection.execute("PRAGMA busy_timeout = 1000")
            other = other.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        changed = other.execute(sa.update(Unit).where(Unit.id == ids[0])
                                .values(status=UnitStatus.INDISPO))
        assert changed.rowcount == 1
        other.rollback()
    db.session.rollback()


def test_reserve_refuses_an_indispo_unit(ber):
    indispo = units_of("DUMAS", status=UnitStatus.INDISPO, limit=1)
    chosen = units_of("MONTEIL", limit=2) + indispo
    refused(Conflict, "est indisponible",
            lambda: booking.reserve_units(ber, [u.id for u in chosen], school().id))


def test_reserve_refuses_a_past_unit(ber):
    past = planned_session("MONTEIL", dates.today() - dt.timedelta(days=7))
    chosen = units_of("MONTEIL", limit=2) + [past.units[0]]
    error = refused(DomainError, "est passée",
                    lambda: booking.reserve_units(ber, [u.id for u in chosen], school().id))
    assert booking.describe_unit(past.units[0]) in error.message


def test_reserve_refuses_a_unit_that_started_today(ber):
    # GONZALEZ's only demo sessions are in four weeks: today + 9 is free whatever the weekday.
    session = planned_session("GONZALEZ", dates.today() + dt.timedelta(days=9))
    later = dt.datetime.combine(session.date, session.units[1].start_time, dates.PARIS)
    refused(DomainError, "est passée", lambda: booking.reserve_units(
        ber, [session.units[1].id, session.units[2].id], school().id, now=later))
    # One minute earlier the same units are still open.
    booking.reserve_units(ber, [session.units[1].id], school().id,
                          now=later - dt.timedelta(minutes=1))


def test_reserve_refuses_another_departments_unit(ber):
    foreign = db.session.scalar(
        sa.select(Unit).join(Unit.session).join(Session.inspector)
        .where(Inspector.last_name == "LEROY", Unit.status == UnitStatus.DISPO))
    chosen = units_of("MONTEIL", limit=1) + [foreign]
    refused(NotFound, "Unité introuvable",
            lambda: booking.reserve_units(ber, [u.id for u in chosen], school().id))


@pytest.mark.parametrize("which", ["other_department", "unknown"])
def test_reserve_refuses_a_foreign_or_unknown_school(ber, which):
    school_id = school("auto-ecole-aurige-34").id if which == "other_department" else 999_999
    chosen = units_of("MONTEIL", limit=2)
    refused(NotFound, "Auto-école introuvable",
            lambda: booking.reserve_units(ber, [u.id for u in chosen], school_id))


def test_reserve_refuses_no_school_and_empty_selection(ber):
    chosen = units_of("MONTEIL", limit=2)
    refused(DomainError, "Choisissez une auto-école",
            lambda: booking.reserve_units(ber, [u.id for u in chosen], None))
    refused(DomainError, "Sélectionnez au moins une unité",
            lambda: booking.reserve_units(ber, [], school().id))


def test_reserve_refuses_tampered_ids_and_other_actors(ber):
    chosen = units_of("MONTEIL", limit=2)
    refused(NotFound, "Unité introuvable",
            lambda: booking.reserve_units(ber, ["1 OR 1=1"], school().id))
    refused(NotFound, "Unité introuvable", lambda: booking.reserve_units(
        ber, [chosen[0].id, 999_999], school().id))
    for email in ("alliance@example.test", "ber034@example.test", "admin@example.test"):
        actor = user_by_email(email)
        refused(NotFound, "introuvable",
                lambda a=actor: booking.reserve_units(a, [u.id for u in chosen], school().id))


def test_double_submit_second_fails_and_first_stands(ber):
    ids = [u.id for u in units_of("MONTEIL", limit=3)]
    booking.reserve_units(ber, ids, school().id)
    error = refused(Conflict, "est déjà attribuée à Alliance Auto-Ecole",
                    lambda: booking.reserve_units(ber, ids, school().id))
    assert "a déjà été enregistrée" in error.message
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 1
    assert {u.auto_ecole_id for u in db.session.scalars(
        sa.select(Unit).where(Unit.id.in_(ids)))} == {school().id}


def test_database_refuses_a_unit_taken_after_the_check(ber, monkeypatch):
    """The Python check saw every unit Dispo AE, but another agent reserved one just before
    the UPDATE: the conditional UPDATE touches 3 rows of 4, everything is rolled back."""
    chosen = units_of("MONTEIL", limit=4)
    ids = [u.id for u in chosen]
    db.session.execute(sa.update(Unit).where(Unit.id == ids[3]).values(
        status=UnitStatus.RESERVED, auto_ecole_id=school("auto-ecole-aurige-51").id))
    db.session.commit()

    real = scopes.units
    calls = []

    def stale_read(department_id, unit_ids, **options):
        found = real(department_id, unit_ids, **options)
        if not calls:  # the first read (the checks) is stale: it still sees Dispo AE
            for unit in found:
                set_committed_value(unit, "status", UnitStatus.DISPO)
                set_committed_value(unit, "auto_ecole_id", None)
        calls.append(1)
        return found

    monkeypatch.setattr(scopes, "units", stale_read)
    error = refused(Conflict, "vient d'être attribuée à une autre auto-école",
                    lambda: booking.reserve_units(ber, ids, school().id))
    assert "Alliance du 051" in error.message
    db.session.expire_all()
    assert [db.session.get(Unit, i).status for i in ids[:3]] == [UnitStatus.DISPO] * 3


# --- cancel_unit_by_ber --------------------------------------------------------------------


def test_cancel_by_ber_makes_the_unit_indispo_and_mails_the_school(ber):
    [unit] = units_of("DUMAS", status=UnitStatus.RESERVED, after=dates.today()
                      + dt.timedelta(days=1), limit=1)
    alliance = unit.auto_ecole
    booking.cancel_unit_by_ber(ber, unit.id)
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert unit.status == UnitStatus.INDISPO and unit.auto_ecole_id is None
    assert unit.reserved_at is None and unit.reserved_by_id is None
    [row] = db.session.scalars(sa.select(History).where(History.object_id == unit.id)).all()
    assert row.action == "unit.cancelled_by_ber" and row.actor_id == ber.id
    assert row.before["status"] == "reserved"
    assert row.before["auto_ecole"] == alliance.raison_sociale
    assert row.after["status"] == "indispo" and row.after["auto_ecole_id"] is None
    [mail] = db.session.scalars(sa.select(OutboxMail)).all()
    assert mail.kind == "cancel_by_ber" and mail.recipients == alliance.email
    assert mail.subject == "Annulation d'examens pratiques du permis de conduire"
    assert dates.jour_date(unit.session.date) in mail.body_text


def test_ber_may_cancel_within_six_days(ber):
    session = planned_session("GONZALEZ", dates.today() + dt.timedelta(days=2), Tranche.S2)
    booking.reserve_units(ber, [session.units[0].id], school().id)
    booking.cancel_unit_by_ber(ber, session.units[0].id)
    db.session.expire_all()
    assert db.session.get(Unit, session.units[0].id).status == UnitStatus.INDISPO


def test_cancel_by_ber_refusals(ber):
    [unit] = units_of("DUMAS", status=UnitStatus.RESERVED, after=dates.today()
                      + dt.timedelta(days=1), limit=1)
    booking.cancel_unit_by_ber(ber, unit.id)
    refused(Conflict, "n'est plus réservée", lambda: booking.cancel_unit_by_ber(ber, unit.id))
    dispo = units_of("MONTEIL", limit=1)[0]
    refused(Conflict, "n'est plus réservée", lambda: booking.cancel_unit_by_ber(ber, dispo.id))
    foreign = db.session.scalar(sa.select(Unit).where(Unit.status == UnitStatus.RESERVED)
                                .join(Unit.session).join(Session.inspector)
                                .where(Inspector.last_name == "LEROY"))
    refused(NotFound, "Unité introuvable", lambda: booking.cancel_unit_by_ber(ber, foreign.id))
    refused(NotFound, "Unité introuvable", lambda: booking.cancel_unit_by_ber(ber, 999_999))
    ae = user_by_email("alliance@example.test")
    [other] = units_of("DUMAS", status=UnitStatus.RESERVED, limit=1)
    refused(NotFound, "introuvable", lambda: booking.cancel_unit_by_ber(ae, other.id))


def test_cancel_by_ber_refuses_an_exam_that_took_place(ber):
    past = planned_session("MONTEIL", dates.today() - dt.timedelta(days=3))
    db.session.execute(sa.update(Unit).where(Unit.id == past.units[0].id).values(
        status=UnitStatus.RESERVED, auto_ecole_id=school().id))
    db.session.commit()
    refused(DomainError, "a déjà commencé ou eu lieu",
            lambda: booking.cancel_unit_by_ber(ber, past.units[0].id))


# --- set_unit_status -----------------------------------------------------------------------


def test_set_unit_status_both_ways_with_history(ber):
    unit = units_of("MONTEIL", limit=1)[0]
    booking.set_unit_status(ber, unit.id, "indispo")
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).status == UnitStatus.INDISPO
    booking.set_unit_status(ber, unit.id, UnitStatus.DISPO)
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).status == UnitStatus.DISPO
    rows = db.session.scalars(sa.select(History).where(History.object_id == unit.id)
                              .order_by(History.id)).all()
    assert [(r.action, r.before["status"], r.after["status"]) for r in rows] == [
        ("unit.status_changed", "dispo", "indispo"),
        ("unit.status_changed", "indispo", "dispo"),
    ]
    # The status it already has: nothing changes, nothing is recorded.
    refused_nothing = state()
    booking.set_unit_status(ber, unit.id, "dispo")
    assert state() == refused_nothing


def test_set_unit_status_refusals(ber):
    unit = units_of("MONTEIL", limit=1)[0]
    for tampered in ("reserved", "xyz", "", None):
        refused(DomainError, "Statut inconnu",
                lambda t=tampered: booking.set_unit_status(ber, unit.id, t))
    [reserved] = units_of("DUMAS", status=UnitStatus.RESERVED, limit=1)
    refused(Conflict, "annulez d'abord l'examen",
            lambda: booking.set_unit_status(ber, reserved.id, "indispo"))
    past = planned_session("MONTEIL", dates.today() - dt.timedelta(days=1))
    refused(DomainError, "est passée",
            lambda: booking.set_unit_status(ber, past.units[0].id, "indispo"))
    foreign = db.session.scalar(sa.select(Unit).join(Unit.session).join(Session.inspector)
                                .where(Inspector.last_name == "LEROY"))
    refused(NotFound, "Unité introuvable",
            lambda: booking.set_unit_status(ber, foreign.id, "indispo"))


# --- read model ----------------------------------------------------------------------------


def test_unit_history_reads_who_did_what(ber):
    unit = units_of("MONTEIL", limit=1)[0]
    booking.reserve_units(ber, [unit.id], school().id)
    booking.cancel_unit_by_ber(ber, unit.id)
    booking.set_unit_status(ber, unit.id, "dispo")
    events = creneaux.unit_history(unit.id)
    assert [(e.kind, e.school, e.status) for e in events] == [
        ("reserved", "Alliance Auto-Ecole", "reserved"),
        ("cancelled", "Alliance Auto-Ecole", "indispo"),
        ("status", None, "dispo"),
    ]
    assert all(e.actor.id == ber.id for e in events)
    # Stored in UTC, shown on the Paris wall clock.
    assert abs(dates.paris_wall_clock() - events[0].at) < dt.timedelta(minutes=5)


def test_summary_counts_future_dispo_units_per_inspector(ber):
    # In two weeks (the demo's "within 6 days" sessions can never fall there): KLÉBER 16
    # units on Thursday, ARNAUD 8 on Tuesday of which 2 are reserved.
    monday = dates.monday_of(dates.today()) + dt.timedelta(days=14)
    summary = creneaux.unassigned_summary(ber.department_id, monday, category="CE")
    assert [(line.count, line.category, line.inspector.prenom_nom) for line in summary.lines] == [
        (16, "CE", "Thierry KLÉBER"), (6, "CE", "Agathe ARNAUD")]
    assert summary.totals == [("CE", 22)] and summary.total == 22
    assert creneaux.unassigned_summary(ber.department_id, monday, category="B").lines == []
    # A reservation and a status change lower the counts; Indispo back to Dispo AE raises them.
    booking.reserve_units(ber, [u.id for u in units_of("KLÉBER", limit=4)], school().id)
    [arnaud] = units_of("ARNAUD", limit=1)
    booking.set_unit_status(ber, arnaud.id, "indispo")
    summary = creneaux.unassigned_summary(ber.department_id, monday, category="Tous")
    assert [(line.count, line.inspector.last_name) for line in summary.lines] == [
        (12, "KLÉBER"), (5, "ARNAUD")]


def test_summary_leaves_out_units_already_started(ber):
    monday = dates.monday_of(dates.today()) + dt.timedelta(days=14)
    session = planned_session("GONZALEZ", monday + dt.timedelta(days=2), Tranche.M1)
    at_0830 = dt.datetime.combine(session.date, dt.time(8, 30), dates.PARIS)
    summary = creneaux.unassigned_summary(ber.department_id, monday, now=at_0830)
    # 08:00 and 08:30 have started; 09:00 and 09:30 are still to come.
    assert {line.inspector.last_name: line.count for line in summary.lines}["GONZALEZ"] == 2


def test_week_grid_groups_sessions_by_inspector_and_day(ber):
    next_monday = dates.monday_of(dates.today()) + dt.timedelta(days=7)
    choices = creneaux.inspector_choices(ber.department_id, ber.id)
    grid = creneaux.creneaux_week(ber.department_id, next_monday, choices, category="CE")
    assert [r.inspector.prenom_nom for r in grid.rows] == [
        "Anaïs BARBET", "Anna DUMAS", "Pierrette MARAIS", "Marie MONTEIL"]
    assert (grid.start, grid.next_start, grid.total) == (0, None, 4)
    dumas = grid.rows[1]
    assert [c.day for c in dumas.days] == dates.week_days(next_monday)
    assert dumas.days[0].title == dates.colonne(next_monday)
    thursday = dumas.days[3]
    assert thursday.label == f"Anna DUMAS, {dates.jour_date(thursday.day)}"
    assert [s.number for s in thursday.sessions] == [1, 2, 3, 4]
    assert [s.centre for s in thursday.sessions] == ["CARCASSONNE"] * 4
    assert [u.state for u in thursday.sessions[1].units] == ["Alliance Auto-Ecole"] * 4
    first = thursday.sessions[1].units[0]
    assert first.name == f"DUMAS Anna, {dates.jour_date(thursday.day)}, 10:00 - 10:30"
    assert (first.hours, first.status, first.past) == ("10:00 - 10:30", "reserved", False)
    only = creneaux.creneaux_week(ber.department_id, next_monday, choices,
                           inspector_id=inspector("DUMAS").id)
    assert [r.inspector.prenom_nom for r in only.rows] == ["Anna DUMAS"]
    empty = creneaux.creneaux_week(ber.department_id, next_monday, choices,
                            inspector_id=inspector("ARNAUD").id)
    assert [r.inspector.prenom_nom for r in empty.rows] == ["Agathe ARNAUD"]
    assert all(c.sessions == [] for c in empty.rows[0].days)
    assert creneaux.creneaux_week(ber.department_id, next_monday, choices, category="A").rows == []
    # By chunks: the inspectors having a session that week, by name, from ``start``.
    chunk = creneaux.creneaux_week(ber.department_id, next_monday, choices, category="CE", start=1,
                            size=2)
    assert [r.inspector.prenom_nom for r in chunk.rows] == ["Anna DUMAS", "Pierrette MARAIS"]
    assert chunk.next_start == 3
    last = creneaux.creneaux_week(ber.department_id, next_monday, choices, category="CE", start=3,
                           size=2)
    assert [r.inspector.prenom_nom for r in last.rows] == ["Marie MONTEIL"]
    assert last.next_start is None


def test_default_inspector_is_the_first_favourite_else_the_first_by_name(ber):
    choices = creneaux.inspector_choices(ber.department_id, ber.id)
    assert [c.prenom_nom for c in choices if c.favourite] == ["Anna DUMAS", "Marie MONTEIL"]
    assert creneaux.default_inspector(choices).prenom_nom == "Anna DUMAS"
    others = creneaux.inspector_choices(ber.department_id, None)  # nobody's favourites
    assert creneaux.default_inspector(others).prenom_nom == "Agathe ARNAUD"
    assert creneaux.default_inspector([]) is None


def test_unit_cells_name_each_unit_as_the_grid_does(ber):
    thursday = dates.monday_of(dates.today()) + dt.timedelta(days=10)  # the guide's Thursday
    by_start = dict(db.session.execute(
        sa.select(Unit.start_time, Unit.id).join(Unit.session).join(Session.inspector)
        .where(Inspector.last_name == "DUMAS", Session.date == thursday)).all())
    ids = [by_start[dt.time(h, m)] for h, m in ((13, 30), (10, 0), (13, 0))]
    cells = creneaux.unit_cells(ber.department_id, ids)
    day = dates.jour_date(thursday)
    assert [(c.id, f"{c.name}, {c.state}") for c in cells] == [
        (ids[1], f"DUMAS Anna, {day}, 10:00 - 10:30, Alliance Auto-Ecole"),
        (ids[2], f"DUMAS Anna, {day}, 13:00 - 13:30, Indispo"),
        (ids[0], f"DUMAS Anna, {day}, 13:30 - 14:00, Dispo AE"),
    ]
    # Another department's units are not there.
    leroy = db.session.scalar(sa.select(Unit.id).join(Unit.session).join(Session.inspector)
                              .where(Inspector.last_name == "LEROY"))
    assert creneaux.unit_cells(ber.department_id, [leroy]) == []


@pytest.mark.parametrize("text", ["aut", "AUTO", "Écol", "ecole", "aurige-1", "ALLIANCE AUTO"])
def test_school_search_is_partial_case_and_accent_insensitive(ber, text):
    names = [s.raison_sociale for s in creneaux.search_schools(ber.department_id, text)]
    assert "Alliance Auto-Ecole" in names
    assert "Auto-École de l'Hérault" not in names  # another department's school


def test_school_search_ranks_and_limits(ber):
    assert creneaux.search_schools(ber.department_id, "   ") == []
    assert creneaux.search_schools(ber.department_id, "zzz") == []
    names = [s.raison_sociale for s in creneaux.search_schools(ber.department_id, "du 0")]
    assert names == ["Alliance du 002", "Alliance du 011", "Alliance du 051"]
    herault = creneaux.search_schools(school("auto-ecole-aurige-34").department_id, "herault")
    assert [s.raison_sociale for s in herault] == ["Auto-École de l'Hérault"]
