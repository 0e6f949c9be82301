"""Capacity (SPEC Part 2): public holidays, worked Saturdays, absences — which cells each one
closes, what plan_sessions refuses, and the "Sessions concernées" flow with its e-mails."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from rdvpl import dates
from rdvpl.capacity import (
    absences_list,
    add_absence,
    coming_saturdays,
    delete_absence,
    saturdays_table,
    set_worked_saturday,
)
from rdvpl.creneaux import creneaux_week, inspector_choices
from rdvpl.errors import DomainError, NotFound
from rdvpl.extensions import db
from rdvpl.models import (
    Absence,
    History,
    OutboxMail,
    Session,
    Tranche,
    UnitStatus,
    WorkedSaturday,
)
from rdvpl.planning_grid import CellState, grid_cell, planning_week
from rdvpl.sessions import SessionsConcerned
from tests.helpers import planned_session, refused
from tests.mailsink import body_text as body_text_of
from tests.test_planning import WORKED_SATURDAY, ber, cells, inspector, plan, school, state

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


# ---------------------------------------------------------------------------------------------
# Worked Saturdays (BER 7) and the "Sessions concernées" flow
# ---------------------------------------------------------------------------------------------




def test_coming_saturdays_are_the_next_twelve():
    assert coming_saturdays(dt.date(2026, 12, 11))[:2] == [dt.date(2026, 12, 12),
                                                           dt.date(2026, 12, 19)]
    saturdays = coming_saturdays(dt.date(2026, 12, 12))  # a Saturday: too late for itself
    assert saturdays[0] == dt.date(2026, 12, 19) and len(saturdays) == 12
    assert saturdays[-1] == dt.date(2027, 3, 6)
    assert {d.weekday() for d in saturdays} == {5}


def worked(last_name, day) -> bool:
    db.session.expire_all()
    return db.session.scalar(sa.select(WorkedSaturday).where(
        WorkedSaturday.inspector_id == inspector(last_name).id,
        WorkedSaturday.date == day)) is not None


def test_the_table_shows_the_departments_inspectors_and_their_saturdays(demo, ctx):
    table = saturdays_table(ber())
    assert len(table.rows) == 12
    names = [i.nom_prenom for i in table.inspectors]
    assert "DUMAS Anna" in names and "LEROY Paul" not in names  # LEROY is of 034
    assert names == sorted(names)
    row = next(r for r in table.rows if r.day == WORKED_SATURDAY)
    states = {t.name: t.worked for t in row.toggles}
    label = dates.jour_date(WORKED_SATURDAY)
    assert states[f"DUMAS Anna, {label}"] and not states[f"MONTEIL Marie, {label}"]


def test_declaring_a_saturday_opens_it_for_planning(demo, ctx):
    # A Saturday a few weeks ahead that is no public holiday (01/05, 08/05 and 14/07 can be).
    saturday = next(s for s in coming_saturdays()[4:] if not dates.public_holiday(s))
    monteil = inspector("MONTEIL")
    assert planning_week(ber(), saturday, search="monteil").inspectors[0].rows[0][1][5].state \
        == CellState.CLOSED
    change = set_worked_saturday(ber(), monteil.id, saturday, True)
    assert change.toggle.worked and worked("MONTEIL", saturday)
    row = db.session.scalars(sa.select(History).where(History.action == "saturday.worked")).one()
    assert (row.object_id, row.after) == (monteil.id, {"date": saturday.isoformat()})
    assert planning_week(ber(), saturday, search="monteil").inspectors[0].rows[0][1][5].state \
        == CellState.FREE
    assert len(plan(cells("MONTEIL", saturday, "M1"))) == 1
    # Declaring it again changes nothing.
    before = state()
    set_worked_saturday(ber(), monteil.id, saturday, True)
    assert state() == before


def test_undeclaring_an_empty_saturday(demo, ctx):
    set_worked_saturday(ber(), inspector("MARAIS").id, WORKED_SATURDAY, False)
    assert not worked("MARAIS", WORKED_SATURDAY)
    assert db.session.scalars(sa.select(History.action)).all() == ["saturday.unworked"]


def reserved_saturday():
    """DUMAS on WORKED_SATURDAY: M1 with 2 units for Alliance Auto-Ecole and 1 for Alliance
    du 002, M2 with 1 unit for Alliance Auto-Ecole, S1 free."""
    alliance, other = school("Alliance Auto-Ecole"), school("Alliance du 002")
    m1 = planned_session("DUMAS", WORKED_SATURDAY, Tranche.M1, reserved=(0, 1),
                         for_school=alliance)
    m1.units[3].status, m1.units[3].auto_ecole = UnitStatus.RESERVED, other
    m2 = planned_session("DUMAS", WORKED_SATURDAY, Tranche.M2, reserved=(2,), for_school=alliance)
    s1 = planned_session("DUMAS", WORKED_SATURDAY, Tranche.S1)
    db.session.commit()
    return m1, m2, s1


def test_undeclaring_a_saturday_with_sessions_lists_them_and_changes_nothing(demo, ctx):
    m1, m2, s1 = reserved_saturday()
    error = refused(SessionsConcerned, "Des sessions sont déjà planifiées",
                    lambda: set_worked_saturday(ber(), inspector("DUMAS").id, WORKED_SATURDAY,
                                                False))
    label = dates.jour_date(WORKED_SATURDAY)
    assert [(s.name, s.label, s.reserved_words) for s in error.sessions] == [
        (f"DUMAS Anna, {label}, 08:00 - 10:00", "CE CARCASSONNE",
         "3 unités réservées : Alliance Auto-Ecole (2), Alliance du 002 (1)"),
        (f"DUMAS Anna, {label}, 10:00 - 12:00", "CE CARCASSONNE",
         "1 unité réservée : Alliance Auto-Ecole (1)"),
        (f"DUMAS Anna, {label}, 13:00 - 15:00", "CE CARCASSONNE", "aucune unité réservée"),
    ]
    assert worked("DUMAS", WORKED_SATURDAY)
    # A confirmation of another list (a session planned meanwhile) shows the dialog again.
    refused(SessionsConcerned, "Des sessions",
            lambda: set_worked_saturday(ber(), inspector("DUMAS").id, WORKED_SATURDAY, False,
                                        confirmed={m1.id, m2.id}))


def test_confirming_deletes_the_sessions_with_one_mail_per_school(demo, app, smtp):
    with app.app_context():
        m1, m2, s1 = reserved_saturday()
        ids = {m1.id, m2.id, s1.id}
        smtp.clear()
        change = set_worked_saturday(ber(), inspector("DUMAS").id, WORKED_SATURDAY, False,
                                     confirmed=ids)
        assert len(change.removed) == 3 and not worked("DUMAS", WORKED_SATURDAY)
        assert db.session.scalars(sa.select(Session.id).where(Session.id.in_(ids))).all() == []
        actions = db.session.scalars(sa.select(History.action)).all()
        assert sorted(actions) == sorted(["unit.cancelled"] * 4 + ["session.deleted"] * 3
                                         + ["saturday.unworked"])
    messages = smtp.wait_for(count=2, timeout=5)
    assert smtp.wait_for(count=3, timeout=0.5) == messages  # one e-mail per school, no more
    by_school = {m["To"]: body_text_of(m) for m in messages}
    assert set(by_school) == {"alliance@example.test", "alliance002@example.test"}
    alliance = by_school["alliance@example.test"]
    day = dates.jour_date(WORKED_SATURDAY)
    assert "Les 3 places d'examens pratiques" in alliance
    for hours in ("de 08:00 à 08:30", "de 08:30 à 09:00", "de 11:00 à 11:30"):
        assert f"{day}, {hours}, centre CARCASSONNE" in alliance
    assert "09:30 à 10:00" not in alliance  # Alliance du 002's unit
    assert f"{day}, de 09:30 à 10:00" in by_school["alliance002@example.test"]


@pytest.mark.parametrize("case, error, words", [
    ("foreign inspector", NotFound, "Inspecteur introuvable"),
    ("not a coming saturday", DomainError, "ne fait pas partie des 12 prochains samedis"),
    ("a friday", DomainError, "ne fait pas partie des 12 prochains samedis"),
])
def test_refusals(demo, ctx, case, error, words):
    who, day = inspector("DUMAS"), coming_saturdays()[2]
    if case == "foreign inspector":
        who = inspector("LEROY")
    elif case == "not a coming saturday":
        day = coming_saturdays()[-1] + dt.timedelta(weeks=1)
    else:
        day -= dt.timedelta(days=1)
    refused(error, words, lambda: set_worked_saturday(ber(), who.id, day, True))


# ---------------------------------------------------------------------------------------------
# Routes of BER 7
# ---------------------------------------------------------------------------------------------

HX = {"HX-Request": "true"}


def test_saturdays_page_names_each_toggle(demo, auth, client):
    auth.login()
    page = client.get("/ber/samedis").get_data(as_text=True)
    label = dates.jour_date(WORKED_SATURDAY)
    assert "<h1>Samedis supplémentaires travaillés</h1>" in page
    assert f'aria-pressed="true" aria-label="DUMAS Anna, {label}, travaillé"' in page
    assert f'aria-pressed="false" aria-label="MONTEIL Marie, {label}, non travaillé"' in page
    assert "LEROY" not in page
    assert 'href="/ber/samedis" aria-current="page"' in page  # the menu item


def test_toggle_swaps_the_one_button(demo, auth, client, ctx):
    auth.login()
    saturday = coming_saturdays()[3]
    who = inspector("MONTEIL").id
    response = client.post("/ber/samedis", headers=HX, data={
        "inspecteur": who, "samedi": saturday.isoformat(), "travaille": "1"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert (f'aria-pressed="true" aria-label="MONTEIL Marie, {dates.jour_date(saturday)}, '
            'travaillé"') in body
    assert "samedi travaillé" in body  # the banner
    assert worked("MONTEIL", saturday)


def test_toggle_over_sessions_answers_the_dialog_then_confirms(demo, auth, client, ctx):
    auth.login()
    m1, m2, s1 = reserved_saturday()
    form = {"inspecteur": inspector("DUMAS").id, "samedi": WORKED_SATURDAY.isoformat(),
            "travaille": "0"}
    response = client.post("/ber/samedis", headers=HX, data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#dialog"
    assert "Sessions concernées" in body
    assert "3 unités réservées : Alliance Auto-Ecole (2), Alliance du 002 (1)" in body
    assert "Supprimer ces sessions et prévenir les auto-écoles" in body and "Annuler" in body
    assert worked("DUMAS", WORKED_SATURDAY)
    response = client.post("/ber/samedis", headers=HX, data={
        **form, "confirme": "1", "session": [m1.id, m2.id, s1.id]})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "non travaillé" in body
    assert "3 session(s) supprimée(s)" in body
    assert not worked("DUMAS", WORKED_SATURDAY)


@pytest.mark.parametrize("htmx", [False, True])
def test_another_departments_agent_gets_404(demo, auth, client, ctx, htmx):
    auth.login("ber034@example.test")
    response = client.post("/ber/samedis", headers=HX if htmx else {}, data={
        "inspecteur": inspector("DUMAS").id, "samedi": WORKED_SATURDAY.isoformat(),
        "travaille": "0"})
    assert response.status_code == 404
    assert worked("DUMAS", WORKED_SATURDAY)
    assert "DUMAS" not in client.get("/ber/samedis").get_data(as_text=True)


def test_tampered_toggle_is_refused_in_french(demo, auth, client, ctx):
    auth.login()
    response = client.post("/ber/samedis", headers=HX, data={
        "inspecteur": "abc", "samedi": "x", "travaille": "2"})
    assert response.status_code == 422
    assert "La demande envoyée est invalide" in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Indisponibilités et autres charges (BER 6)
# ---------------------------------------------------------------------------------------------

APRIL = dt.date(2027, 4, 1)  # "today" for these tests
FRI = dt.date(2027, 4, 30)  # Friday, the month's last day; Saturday 01/05 is a holiday


def states(last_name, day, today=APRIL) -> dict:
    """{(date, tranche): (state, reason)} of the inspector's week containing ``day``."""
    grid = planning_week(ber(), day, search=last_name.lower(), today=today)
    return {(c.day, t): (c.state, c.reason) for t, row in grid.inspectors[0].rows for c in row}


def leave(last_name="DUMAS", start=FRI, start_pm=True, end=FRI + dt.timedelta(days=3),
          end_pm=False, motif="Congé", **kwargs):
    return add_absence(ber(), inspector(last_name).id, motif, start, start_pm, end, end_pm,
                       kwargs.pop("comment", "Vacances"), today=kwargs.pop("today", APRIL),
                       **kwargs)


def test_an_absence_closes_exactly_its_half_days(demo, ctx):
    """Friday afternoon (its 13:30 tranches) to Monday morning, across a weekend and a month
    end: Friday morning and Monday afternoon stay open."""
    leave()
    away = ("unavailable", "Indisponible (Congé)")
    before, after = states("DUMAS", FRI), states("DUMAS", FRI + dt.timedelta(days=3))
    assert before[(FRI, Tranche.M1)] == before[(FRI, Tranche.M2)] == (CellState.FREE, "")
    assert before[(FRI, Tranche.S1)] == before[(FRI, Tranche.S2)] == away
    assert before[(dt.date(2027, 5, 1), Tranche.M1)] == (CellState.HOLIDAY,
                                                         "Jour férié (Fête du Travail)")
    monday = dt.date(2027, 5, 3)
    assert after[(monday, Tranche.M1)] == after[(monday, Tranche.M2)] == away
    assert after[(monday, Tranche.S1)] == (CellState.FREE, "")
    assert after[(monday + dt.timedelta(days=1), Tranche.M1)] == (CellState.FREE, "")
    assert states("MONTEIL", FRI)[(FRI, Tranche.S1)] == (CellState.FREE, "")  # DUMAS's only
    cell = grid_cell(ber(), inspector("DUMAS").id, FRI, Tranche.S1, today=APRIL)
    assert (cell.state, cell.reason, cell.start) == (*away, dt.time(13, 30))
    row = db.session.scalars(sa.select(History).where(History.action == "absence.added")).one()
    assert row.after["period"] == "du vendredi 30/04/2027 après-midi au lundi 03/05/2027 matin"


def test_planning_page_names_the_unavailable_cells(demo, auth, client, ctx):
    day = dates.monday_of(dates.today()) + dt.timedelta(weeks=5, days=1)
    leave(start=day, start_pm=False, end=day, end_pm=True, today=dates.today())
    auth.login()
    page = client.get(f"/ber/planification?date={dates.ddmmyyyy(day)}&nom=dumas")
    assert (f'aria-label="DUMAS Anna, {dates.jour_date(day)}, 08:00 - 10:00, Indisponible '
            '(Congé)"') in page.get_data(as_text=True)


def test_plan_sessions_refuses_covered_cells_and_keeps_the_edges(demo, ctx):
    leave()
    refused(DomainError, r"DUMAS Anna, vendredi 30/04/2027, 13:30 - 15:30 : DUMAS Anna est "
            r"indisponible \(Congé\)\.", lambda: plan(cells("DUMAS", FRI, "S1"), today=APRIL))
    refused(DomainError, "indisponible", lambda: plan(cells("DUMAS", dt.date(2027, 5, 3), "M2"),
                                                       today=APRIL))
    assert len(plan(cells("DUMAS", FRI, "M1", "M2"), today=APRIL)) == 2
    assert len(plan(cells("DUMAS", dt.date(2027, 5, 3), "S1"), today=APRIL)) == 1


def test_overlapping_absences_are_refused_adjacent_ones_accepted(demo, ctx):
    leave()
    refused(DomainError, r"DUMAS Anna a déjà une indisponibilité \(Congé\) du vendredi "
            r"30/04/2027 après-midi au lundi 03/05/2027 matin qui chevauche cette période",
            lambda: leave(start=dt.date(2027, 5, 3), start_pm=False, end=dt.date(2027, 5, 4),
                          end_pm=True, motif="Formation"))
    # Monday afternoon follows the leave: no overlap.
    leave(start=dt.date(2027, 5, 3), start_pm=True, end=dt.date(2027, 5, 3), end_pm=True,
          motif="Réunion")
    leave(start=FRI, start_pm=False, end=FRI, end_pm=False, motif="Examens hors PL")
    assert len(absences_list(ber(), inspector("DUMAS").id, today=APRIL)) == 3


@pytest.mark.parametrize("case, words", [
    ("end before start", r"La fin de la période \(30/04/2027 matin\) précède son début "
                         r"\(30/04/2027 après-midi\)"),
    ("past", "avant aujourd'hui"),
    ("motif", "Choisissez un motif"),
    ("comment", "Le commentaire dépasse 500 caractères"),
    ("too far", "au plus un an à l'avance"),
])
def test_absence_refusals(demo, ctx, case, words):
    kwargs = {
        "end before start": {"end": FRI, "end_pm": False},
        "past": {"start": APRIL - dt.timedelta(days=1)},
        "motif": {"motif": "Vacances"},
        "comment": {"comment": "x" * 501},
        "too far": {"end": dt.date(2028, 4, 3)},
    }[case]
    refused(DomainError, words, lambda: leave(**kwargs))


def test_absence_of_another_departments_inspector_is_not_found(demo, ctx):
    refused(NotFound, "Inspecteur introuvable", lambda: leave("LEROY"))


def test_absence_over_sessions_lists_them_then_deletes_them(demo, ctx):
    alliance, other = school("Alliance Auto-Ecole"), school("Alliance du 002")
    s2 = planned_session("DUMAS", FRI, Tranche.S2, reserved=(0, 1), for_school=alliance)
    s2.units[2].status, s2.units[2].auto_ecole = UnitStatus.RESERVED, other
    monday = planned_session("DUMAS", dt.date(2027, 5, 3), Tranche.M1, reserved=(3,),
                             for_school=alliance)
    kept = planned_session("DUMAS", FRI, Tranche.M1, reserved=(0,), for_school=alliance)
    db.session.commit()
    error = refused(SessionsConcerned, "Des sessions", leave)
    assert [s.reserved_words for s in error.sessions] == [
        "3 unités réservées : Alliance Auto-Ecole (2), Alliance du 002 (1)",
        "1 unité réservée : Alliance Auto-Ecole (1)"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 0
    change = leave(confirmed={s2.id, monday.id})
    assert len(change.removed) == 2
    remaining = db.session.scalars(sa.select(Session.id).where(Session.inspector_id == inspector(
        "DUMAS").id, Session.date.between(FRI, dt.date(2027, 5, 3)))).all()
    assert remaining == [kept.id]
    mails = db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.recipients)).all()
    assert [m.recipients for m in mails] == ["alliance002@example.test", "alliance@example.test"]
    assert "Les 3 places d'examens pratiques" in mails[1].body_text
    assert "08:00 à 08:30" not in mails[1].body_text  # the kept session's unit


def test_deleting_an_absence_reopens_its_cells(demo, ctx):
    absence = leave().absence
    delete_absence(ber(), absence.id)
    assert states("DUMAS", FRI)[(FRI, Tranche.S1)] == (CellState.FREE, "")
    assert db.session.scalars(sa.select(History.action)).all() == ["absence.added",
                                                                  "absence.deleted"]
    refused(NotFound, "Indisponibilité introuvable", lambda: delete_absence(ber(), absence.id))


def test_another_department_cannot_delete_an_absence(demo, ctx):
    from tests.conftest import user_by_email

    absence = leave().absence
    refused(NotFound, "Indisponibilité introuvable",
            lambda: delete_absence(user_by_email("ber034@example.test"), absence.id))


# ---------------------------------------------------------------------------------------------
# Routes of BER 6
# ---------------------------------------------------------------------------------------------


def absence_form(day: dt.date, **overrides) -> dict:
    return {"inspecteur": inspector("DUMAS").id, "motif": "Congé",
            "du": dates.ddmmyyyy(day), "du_demi": "matin",
            "au": dates.ddmmyyyy(day + dt.timedelta(days=1)), "au_demi": "apres-midi",
            "commentaire": "Congé annuel", **overrides}


SOON = dates.monday_of(dates.today()) + dt.timedelta(weeks=6, days=1)  # a Tuesday, no session


def test_absences_page_adds_lists_and_deletes(demo, auth, client, ctx):
    auth.login()
    page = client.get(f"/ber/indisponibilites?inspecteur={inspector('DUMAS').id}")
    body = page.get_data(as_text=True)
    assert "<h1>Indisponibilités et autres charges</h1>" in body
    assert "Ajouter une indisponibilité" in body and "Enregistrer l'indisponibilité" in body
    for motif in ("Congé", "Formation", "Maladie", "Réunion", "Examens hors PL", "Autre"):
        assert f'<option value="{motif}">{motif}</option>' in body
    response = client.post("/ber/indisponibilites", headers=HX, data=absence_form(SOON))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    period = (f"du {dates.jour_date(SOON)} matin au "
              f"{dates.jour_date(SOON + dt.timedelta(days=1))} après-midi")
    assert f"<strong>Congé</strong> {period} — Congé annuel" in body
    assert f"Indisponibilité (Congé) de DUMAS Anna enregistrée {period}." in body
    absence = db.session.scalars(sa.select(Absence)).one()
    response = client.post(f"/ber/indisponibilites/{absence.id}/suppression", headers=HX,
                           data={"inspecteur": inspector("DUMAS").id})
    assert response.status_code == 200 and "supprimée" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 0


def test_absence_form_refusals_are_french_and_change_nothing(demo, auth, client, ctx):
    auth.login()
    for data, words in [
        (absence_form(SOON, du="31/02/2027"), "La date de début est invalide"),
        (absence_form(SOON, au_demi="soir"), "Choisissez « Matin » ou « Après-midi »"),
        (absence_form(SOON, au=dates.ddmmyyyy(SOON - dt.timedelta(days=1))), "précède son début"),
    ]:
        response = client.post("/ber/indisponibilites", headers=HX, data=data)
        assert response.status_code == 422 and words in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 0


def test_absence_over_sessions_answers_the_dialog(demo, auth, client, ctx):
    auth.login()
    session = planned_session("DUMAS", SOON, Tranche.S1, reserved=(0, 1),
                              for_school=school("Alliance Auto-Ecole"))
    response = client.post("/ber/indisponibilites", headers=HX, data=absence_form(SOON))
    body = response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#dialog" and "Sessions concernées" in body
    assert "2 unités réservées : Alliance Auto-Ecole (2)" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 0
    response = client.post("/ber/indisponibilites", headers=HX, data={
        **absence_form(SOON), "confirme": "1", "session": [session.id]})
    assert "1 session(s) supprimée(s)" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Session, session.id) is None


@pytest.mark.parametrize("htmx", [False, True])
def test_absences_of_another_department_are_404(demo, auth, client, ctx, htmx):
    absence = add_absence(ber(), inspector("DUMAS").id, "Congé", SOON, False, SOON, True).absence
    auth.login("ber034@example.test")
    headers = HX if htmx else {}
    dumas = inspector("DUMAS").id
    assert client.get(f"/ber/indisponibilites?inspecteur={dumas}",
                      headers=headers).status_code == 404
    assert client.post("/ber/indisponibilites", headers=headers,
                       data=absence_form(SOON + dt.timedelta(days=7))).status_code == 404
    assert client.post(f"/ber/indisponibilites/{absence.id}/suppression",
                       headers=headers).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Absence)) == 1
