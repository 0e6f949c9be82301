"""AE 5 "Mes candidats": NEPH and name validation, the school names / changes / removes the
candidate of its unit (page, dialog, history), nobody else sees or touches it (another school,
another department: 404), the candidate goes with its unit's cancellation, and the BER's
"Détail de l'examen", "Consulter les examens" and "Feuille du jour" show it."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
import sqlalchemy as sa

from rdvpl import candidates, dates
from rdvpl.booking import cancel_unit_by_ae, cancel_unit_by_ber, reserve_units
from rdvpl.errors import DomainError, NotFound
from rdvpl.extensions import db
from rdvpl.models import Candidate, History, Role, Tranche, Unit, User
from rdvpl.sessions import delete_session
from tests.conftest import user_by_email
from tests.helpers import planned_session, refused, school

HX = {"HX-Request": "true"}
AHEAD = dt.timedelta(days=20)  # the school may still cancel
NEPH = "123456789012"


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [
    ("123456789012", "123456789012"),
    ("  123456789012  ", "123456789012"),           # blanks around: trimmed
    ("1234 5678 9012", "123456789012"),             # written in groups: spaces ignored
    ("12 34 56 78 90 12", "123456789012"),
    ("1234\u00a05678\u00a09012", "123456789012"),   # non-breaking spaces (a copy-paste)
])
def test_neph_accepted(typed, expected):
    assert candidates.clean_neph(typed) == (expected, None)


@pytest.mark.parametrize(("typed", "message"), [
    ("12345678901", "Le numéro NEPH comporte exactement 12 chiffres : vous en avez saisi 11."),
    ("1234567890123", "Le numéro NEPH comporte exactement 12 chiffres : vous en avez saisi 13."),
    ("12345678901A", "Le numéro NEPH ne contient que des chiffres"),
    ("ABCDEFGHIJKL", "Le numéro NEPH ne contient que des chiffres"),
    ("1234-5678-9012", "Le numéro NEPH ne contient que des chiffres"),
    ("١٢٣٤٥٦٧٨٩٠١٢", "Le numéro NEPH ne contient que des chiffres"),  # other digits than 0-9
    ("", "Saisissez le numéro NEPH du candidat (12 chiffres)."),
    ("   ", "Saisissez le numéro NEPH du candidat (12 chiffres)."),
    (None, "Saisissez le numéro NEPH du candidat (12 chiffres)."),
])
def test_neph_refused(typed, message):
    value, error = candidates.clean_neph(typed)
    assert value is None
    assert error.startswith(message)


@pytest.mark.parametrize(("typed", "expected"), [
    ("Dupont", "Dupont"), ("  Jean-Marc  ", "Jean-Marc"), ("N'Diaye", "N'Diaye"),
    ("O’Connor", "O’Connor"), ("de  la   Tour", "de la Tour"), ("Émilie", "Émilie"),
])
def test_name_accepted(typed, expected):
    assert candidates.clean_name(typed, "nom") == (expected, None)


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Saisissez le nom du candidat."),
    ("Jean2", "Le nom du candidat ne peut contenir que des lettres"),
    ("<script>", "Le nom du candidat ne peut contenir que des lettres"),
    ("--", "Le nom du candidat ne peut contenir que des lettres"),
    ("x" * 81, "Le nom du candidat ne peut pas dépasser 80 caractères."),
])
def test_name_refused(typed, message):
    value, error = candidates.clean_name(typed, "nom")
    assert value is None
    assert error.startswith(message)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def units(demo):
    """A morning of MONTEIL's 20 days ahead, every unit reserved for Alliance Auto-Ecole (011);
    yesterday's session of MARAIS with a unit of Alliance's; a second school of 011 (Alliance
    du 002) with its own AE account. Returns the unit ids."""
    with demo.app_context():
        morning = planned_session("MONTEIL", dates.today() + AHEAD, Tranche.M1,
                                  reserved=range(4), for_school=school())
        past = planned_session("MARAIS", dates.today() - dt.timedelta(days=1), Tranche.M1,
                               reserved=[0], for_school=school())
        other = school("auto-ecole-aurige-2")
        user = User(email="ae002@example.test", first_name="", last_name="", role=Role.AE,
                    auto_ecole=other)
        user.set_password("mot-de-passe-ae-002")
        db.session.add(user)
        db.session.commit()
        return {"ahead": [u.id for u in morning.units], "past": past.units[0].id,
                "inspector": morning.inspector_id, "day": morning.date}


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _name(client, unit_id, nom="Dupont", prenom="Jean", neph=NEPH, headers=HX):
    return client.post(f"/ae/candidats/{unit_id}",
                       data={"nom": nom, "prenom": prenom, "neph": neph}, headers=headers)


def _history(unit_id):
    return db.session.scalars(sa.select(History).where(
        History.object_type == "unit", History.object_id == unit_id,
        History.action.like("candidate.%")).order_by(History.id)).all()


def _candidate(unit_id):
    db.session.expire_all()
    return db.session.scalar(sa.select(Candidate).where(Candidate.unit_id == unit_id))


# --- the school names, changes and removes ----------------------------------------------------


def test_school_names_changes_and_removes_a_candidate(units, client, auth):
    unit_id = units["ahead"][0]
    auth.login("alliance@example.test")
    page = _text(client.get("/ae/candidats"))
    assert "Mes candidats" in page and "Aucun candidat" in page
    # The demo's MARTIN Léa (Thursday 10:30 of next week) is the only one named so far.
    assert re.search(r"\d+ unités à venir : 1 avec un candidat, \d+ sans candidat\.", page)
    assert "MARTIN Léa" in page

    dialog = _text(client.get(f"/ae/candidats/{unit_id}", headers=HX))
    assert "Affecter un candidat" in dialog and "<html" not in dialog

    response = _name(client, unit_id, nom="  dupont ", prenom="Jean", neph="1234 5678 9012")
    body = _text(response)
    assert response.status_code == 200
    assert "Candidat enregistré !" in body
    assert "DUPONT Jean est affecté(e) à l'unité du" in body
    assert 'id="candidates" class="app-candidates" hx-swap-oob="true"' in body
    assert "DUPONT Jean" in body and NEPH in body  # the refreshed table
    assert '<div id="dialog" hx-swap-oob="innerHTML"></div>' in body

    with client.application.app_context():
        found = _candidate(unit_id)
        assert (found.last_name, found.first_name, found.neph) == ("dupont", "Jean", NEPH)
        [named] = _history(unit_id)
        assert named.action == "candidate.named"
        assert named.actor_id == user_by_email("alliance@example.test").id
        assert named.after["candidat"] == "DUPONT Jean"
        assert named.after["neph_fin"] == "9012"
        assert NEPH not in json.dumps(named.after)  # never the full number in the history

    response = _name(client, unit_id, nom="Martin", prenom="Léa", neph="210987654321")
    assert "Le candidat de l'unité du" in _text(response)
    assert "est maintenant MARTIN Léa." in _text(response)
    # The same values again: said, nothing recorded.
    again = _name(client, unit_id, nom="Martin", prenom="Léa", neph="210987654321")
    assert "rien n'a changé" in _text(again)

    removed = client.post(f"/ae/candidats/{unit_id}/retrait", headers=HX)
    assert removed.status_code == 200
    assert "Candidat retiré" in _text(removed)
    twice = client.post(f"/ae/candidats/{unit_id}/retrait", headers=HX)
    assert twice.status_code == 409
    assert "Aucun candidat n'est affecté à l'unité du" in _text(twice)

    with client.application.app_context():
        assert _candidate(unit_id) is None
        rows = _history(unit_id)
        assert [r.action for r in rows] == ["candidate.named", "candidate.changed",
                                           "candidate.removed"]
        changed, gone = rows[1], rows[2]
        assert (changed.before["candidat"], changed.after["candidat"]) == ("DUPONT Jean",
                                                                         "MARTIN Léa")
        assert gone.before["candidat"] == "MARTIN Léa"
        assert gone.after == {"motif": "retiré par l'auto-école"}
        unit = db.session.get(Unit, unit_id)
        assert unit.auto_ecole_id == school().id  # the unit stays reserved


def test_a_refused_field_shows_its_message_and_changes_nothing(units, client, auth):
    unit_id = units["ahead"][0]
    auth.login("alliance@example.test")
    response = _name(client, unit_id, nom="", prenom="Jean", neph="12345678901")
    body = _text(response)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#dialog"
    assert "Saisissez le nom du candidat." in body
    assert "Le numéro NEPH comporte exactement 12 chiffres : vous en avez saisi 11." in body
    assert 'value="12345678901"' in body  # what was typed stays
    # Without htmx: the page with the dialog open, same messages.
    page = _name(client, unit_id, nom="Dupont", prenom="Jean", neph="12345678901A", headers={})
    assert page.status_code == 422
    assert "<html" in _text(page)
    assert "Le numéro NEPH ne contient que des chiffres" in _text(page)
    with client.application.app_context():
        assert _candidate(unit_id) is None
        assert _history(unit_id) == []


def test_no_change_once_the_exam_has_started(units, client, auth, ctx):
    auth.login("alliance@example.test")
    response = _name(client, units["past"])
    assert response.status_code == 422
    assert "a déjà commencé ou eu lieu : son candidat ne peut plus être modifié." in \
        _text(response)
    assert _candidate(units["past"]) is None
    # Named before the exam, the candidate stays as it was once it has started.
    alliance = user_by_email("alliance@example.test")
    unit = db.session.get(Unit, units["ahead"][1])
    candidates.name_candidate(alliance, unit.id, last_name="Dupont", first_name="Jean",
                              neph=NEPH)
    during = dt.datetime.combine(unit.session.date, unit.start_time,
                                 tzinfo=dates.PARIS) + dt.timedelta(minutes=1)
    refused(DomainError, "a déjà commencé", lambda: candidates.name_candidate(
        alliance, unit.id, last_name="Autre", first_name="Jean", neph=NEPH, now=during))
    refused(DomainError, "a déjà commencé", lambda: candidates.remove_candidate(
        alliance, unit.id, now=during))
    assert _candidate(unit.id).last_name == "Dupont"


# --- nobody else sees or touches a school's candidates --------------------------------------


def test_another_school_or_department_gets_404(units, client, auth):
    unit_id = units["ahead"][0]
    auth.login("alliance@example.test")
    _name(client, unit_id)
    auth.logout()
    for email, password in (("ae002@example.test", "mot-de-passe-ae-002"),
                            ("herault@example.test", None)):
        auth.login(email, password)
        assert client.get(f"/ae/candidats/{unit_id}").status_code == 404
        assert client.get(f"/ae/candidats/{unit_id}", headers=HX).status_code == 404
        assert _name(client, unit_id, nom="Intrus").status_code == 404
        assert client.post(f"/ae/candidats/{unit_id}/retrait").status_code == 404
        page = _text(client.get("/ae/candidats"))
        assert "DUPONT" not in page and NEPH not in page
        auth.logout()
    # The BER of another department: the unit's dialog and the inspector's day sheet are 404.
    auth.login("ber034@example.test")
    assert client.get(f"/ber/creneaux/unites/{unit_id}", headers=HX).status_code == 404
    day = units["day"].strftime("%d/%m/%Y")
    sheet = client.get(f"/ber/examens/feuille?inspecteur={units['inspector']}&date={day}")
    assert sheet.status_code == 404
    assert NEPH not in _text(client.get("/ber/examens"))
    auth.logout()
    with client.application.app_context():
        found = _candidate(unit_id)
        assert (found.last_name, found.neph) == ("Dupont", NEPH)
        assert [r.action for r in _history(unit_id)] == ["candidate.named"]


def test_the_domain_refuses_other_actors(units, ctx):
    unit_id = units["ahead"][0]
    for email in ("ae002@example.test", "herault@example.test", "ber011@example.test"):
        actor = user_by_email(email)
        refused(NotFound, "n'est pas", lambda a=actor: candidates.name_candidate(
            a, unit_id, last_name="Dupont", first_name="Jean", neph=NEPH))
    refused(NotFound, "n'est pas", lambda: candidates.name_candidate(
        user_by_email("alliance@example.test"), "1 OR 1=1", last_name="Dupont",
        first_name="Jean", neph=NEPH))


# --- the candidate goes with its unit ---------------------------------------------------------


def _named(unit_id, nom="Dupont"):
    candidates.name_candidate(user_by_email("alliance@example.test"), unit_id, last_name=nom,
                              first_name="Jean", neph=NEPH)


def test_cancellations_delete_the_candidate(units, ctx):
    by_ber, by_ae, stays = units["ahead"][0], units["ahead"][1], units["ahead"][2]
    for unit_id in (by_ber, by_ae, stays):
        _named(unit_id)
    ber = user_by_email("ber011@example.test")
    cancel_unit_by_ber(ber, by_ber)
    cancel_unit_by_ae(user_by_email("alliance@example.test"), by_ae)
    assert _candidate(by_ber) is None and _candidate(by_ae) is None
    assert _candidate(stays) is not None
    assert _history(by_ber)[-1].action == "candidate.removed"
    assert _history(by_ber)[-1].after == {"motif": "examen annulé par le BER"}
    assert _history(by_ber)[-1].actor_id == ber.id
    assert _history(by_ae)[-1].after == {"motif": "unité annulée par l'auto-école"}

    # Reserved again (for another school): no candidate comes back.
    set_dispo = db.session.get(Unit, by_ber)
    set_dispo.status = "dispo"
    db.session.commit()
    reserve_units(ber, [by_ber], school("auto-ecole-aurige-2").id)
    assert candidates.of_units([by_ber]) == {}

    # The session deleted: every candidate of its units goes in the same transaction.
    session_id = db.session.get(Unit, stays).session_id
    delete_session(ber, session_id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Candidate).where(
        Candidate.unit_id.in_(units["ahead"]))) == 0
    assert _history(stays)[-1].after == {"motif": "session supprimée"}


# --- the BER sees them -------------------------------------------------------------------------


def test_the_ber_sees_the_candidate_in_the_dialog_list_and_day_sheet(units, client, auth):
    unit_id, free = units["ahead"][0], units["ahead"][1]
    auth.login("alliance@example.test")
    _name(client, unit_id)
    auth.logout()
    auth.login("ber011@example.test")
    dialog = _text(client.get(f"/ber/creneaux/unites/{unit_id}", headers=HX))
    assert "Détail de l'examen" in dialog
    assert "DUPONT Jean — NEPH 123456789012" in dialog
    assert "candidat DUPONT Jean (NEPH se terminant par 9012) affecté" in dialog
    assert "Alliance Auto-Ecole" in dialog
    other = _text(client.get(f"/ber/creneaux/unites/{free}", headers=HX))
    assert "Non renseigné par l'auto-école" in other
    confirm = _text(client.get(f"/ber/creneaux/unites/{unit_id}?etape=confirmation",
                               headers=HX))
    assert "Le candidat DUPONT Jean sera retiré avec l'examen." in confirm

    day = units["day"].strftime("%d/%m/%Y")
    sheet = client.get(f"/ber/examens/feuille?inspecteur={units['inspector']}&date={day}")
    text = _text(sheet)
    assert sheet.status_code == 200
    assert text.count("DUPONT Jean — NEPH 123456789012") == 1
    assert '<td class="day-sheet__candidate"></td>' in text  # the units without one
    listing = _text(client.get(f"/ber/examens?du={day}&au={day}"))
    assert "DUPONT Jean — NEPH 123456789012" in listing


def test_the_school_sees_its_candidate_before_cancelling(units, client, auth):
    unit_id, other = units["ahead"][0], units["ahead"][1]
    auth.login("alliance@example.test")
    _name(client, unit_id)
    row = _text(client.get(f"/ae/examens/unites/{unit_id}", headers=HX))
    assert row.count('class="app-ae-units__candidate"') == 1
    assert "DUPONT Jean" in row
    confirm = _text(client.get(f"/ae/examens/unites/{unit_id}/annulation", headers=HX))
    assert "Candidat <strong>DUPONT Jean</strong> : il sera retiré avec l'unité." in confirm
    without = _text(client.get(f"/ae/examens/unites/{other}/annulation", headers=HX))
    assert "il sera retiré" not in without
