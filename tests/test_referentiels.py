"""Gérer les référentiels (SPEC Part 2 "Reference data and accounts"): a BER agent manages
its own department's centres, inspectors, schools and AE accounts, the admin every
department's; uniqueness per department is the database's; what history refers to is
deactivated, never deleted, and an inactive inspector or school leaves the choices."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from rdvpl import creneaux, dates
from rdvpl.booking import reserve_units
from rdvpl.errors import DomainError
from rdvpl.extensions import db
from rdvpl.models import (
    AutoEcole,
    Centre,
    Department,
    History,
    Inspector,
    Session,
    Unit,
    User,
)
from rdvpl.planning_grid import planning_week
from rdvpl.sessions import delete_session, plan_sessions
from tests.conftest import user_by_email
from tests.helpers import inspector, planned_session, school

BER = "ber011@example.test"


def dept(code: str) -> Department:
    return db.session.scalar(sa.select(Department).where(Department.code == code))


def centre(name: str) -> Centre:
    return db.session.scalar(sa.select(Centre).where(Centre.name == name))


def counts() -> dict:
    db.session.expire_all()
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Centre, Inspector, AutoEcole, User, History)}


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post_inspector(client, department_id, centre_id, matricule="9001", last="NOUVEAU"):
    return client.post(f"/referentiels/departements/{department_id}/inspecteurs", data={
        "last_name": last, "first_name": "Jeanne", "matricule": matricule,
        "home_centre": str(centre_id)})


def test_a_ber_adds_a_centre_an_inspector_and_a_school(demo, client, auth):
    auth.login(BER)
    with demo.app_context():
        aude = dept("011").id
    page = client.get(f"/referentiels/departements/{aude}")
    assert page.status_code == 200 and "Gérer les référentiels — 011 Aude" in page_text(page)

    response = client.post(f"/referentiels/departements/{aude}/centres", data={"name": "limoux"})
    assert response.status_code == 302
    assert "Le centre LIMOUX est ajouté." in page_text(client.get(response.location))
    with demo.app_context():
        limoux = centre("LIMOUX")
        assert limoux.department_id == aude and limoux.active
        limoux_id = limoux.id

    response = post_inspector(client, aude, limoux_id)
    assert response.status_code == 302
    with demo.app_context():
        new = inspector("NOUVEAU")
        assert (new.matricule, new.home_centre_id, new.department_id) == ("9001", limoux_id, aude)
        assert "NOUVEAU Jeanne" in [c.nom_prenom for c in creneaux.inspector_choices(aude)]

    response = client.post(f"/referentiels/departements/{aude}/auto-ecoles", data={
        "raison_sociale": "École de Limoux", "aurige_id": "aurige-limoux",
        "email": "Limoux@Example.test"})
    assert response.status_code == 302
    with demo.app_context():
        created = school("aurige-limoux")
        assert created.email == "limoux@example.test" and created.department_id == aude
        actions = db.session.scalars(sa.select(History.action).order_by(History.id)).all()
        assert actions[-3:] == ["centre.created", "inspector.created", "auto_ecole.created"]
        assert [s.raison_sociale for s in creneaux.search_schools(aude, "limoux")] == [
            "École de Limoux"]


def test_matricule_and_aurige_are_unique_per_department(demo, client, auth):
    auth.login(BER)
    with demo.app_context():
        aude, herault = dept("011").id, dept("034").id
        carcassonne = centre("CARCASSONNE").id
        before = counts()
    response = post_inspector(client, aude, carcassonne, matricule="2488")
    assert response.status_code == 422
    assert "Le matricule 2488 est déjà celui d'un inspecteur de ce département." in page_text(
        response)
    assert 'value="NOUVEAU"' in page_text(response)  # the form keeps what was typed
    response = client.post(f"/referentiels/departements/{aude}/auto-ecoles", data={
        "raison_sociale": "Copie", "aurige_id": "auto-ecole-aurige-1", "email": "c@example.test"})
    assert response.status_code == 422
    assert "L'ID Aurige auto-ecole-aurige-1 est déjà celui d'une auto-école de ce département" \
        in page_text(response)
    with demo.app_context():
        assert counts() == before
        # Another department may hold the same matricule and ID Aurige (an inspector or a
        # school that moved is created again there; the old record keeps its history).
        auth.logout()
        auth.login("ber034@example.test")
        montpellier = centre("MONTPELLIER").id
    assert post_inspector(client, herault, montpellier, matricule="2488").status_code == 302
    assert client.post(f"/referentiels/departements/{herault}/auto-ecoles", data={
        "raison_sociale": "Alliance 34", "aurige_id": "auto-ecole-aurige-1",
        "email": "a34@example.test"}).status_code == 302


def test_the_database_itself_refuses_a_duplicate_matricule(demo):
    with demo.app_context():
        dumas = inspector("DUMAS")
        db.session.add(Inspector(department_id=dumas.department_id, home_centre=dumas.home_centre,
                                 last_name="X", first_name="Y", matricule="2488"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_ber_cannot_create_anything_in_another_department(demo, client, auth):
    auth.login(BER)
    with demo.app_context():
        herault = dept("034").id
        montpellier = centre("MONTPELLIER").id
        carcassonne = centre("CARCASSONNE").id
        aude = dept("011").id
        herault_school = db.session.scalar(sa.select(AutoEcole.id).where(
            AutoEcole.department_id == herault))
        leroy = inspector("LEROY").id
        before = counts()
    # By URL: another department's pages and objects are unknown.
    for url, data in [
        (f"/referentiels/departements/{herault}/centres", {"name": "PIRATE"}),
        (f"/referentiels/departements/{herault}/auto-ecoles",
         {"raison_sociale": "P", "aurige_id": "p", "email": "p@example.test"}),
        (f"/referentiels/auto-ecoles/{herault_school}/comptes", {"email": "p@example.test"}),
        (f"/referentiels/inspecteurs/{leroy}", {"last_name": "PIRATE", "first_name": "P",
                                                "matricule": "1", "home_centre": montpellier}),
        (f"/referentiels/inspecteurs/{leroy}/activation", {"actif": "0"}),
    ]:
        assert client.post(url, data=data).status_code == 404, url
    assert post_inspector(client, herault, montpellier).status_code == 404
    # BER agents are the admin's: another role's page is refused.
    assert client.post(f"/admin/departements/{aude}/agents",
                       data={"email": "x@example.test", "first_name": "X",
                             "last_name": "Y"}).status_code == 403
    # By tampered field: a centre of 034 as the home centre of a new 011 inspector.
    response = post_inspector(client, aude, montpellier)
    assert response.status_code == 422
    assert "Centre de rattachement introuvable" in page_text(response)
    # ...or as the new home centre of an existing one.
    with demo.app_context():
        dumas = inspector("DUMAS").id
    response = client.post(f"/referentiels/inspecteurs/{dumas}", data={
        "last_name": "DUMAS", "first_name": "Anna", "matricule": "2488",
        "home_centre": str(montpellier)})
    assert response.status_code == 422
    with demo.app_context():
        assert counts() == before
        assert inspector("DUMAS").home_centre_id == carcassonne
        assert inspector("LEROY").active


def test_the_admin_manages_every_department(demo, client, auth):
    auth.login("admin@example.test")
    response = client.post("/admin/departements", data={
        "code": "066", "name": "Pyrénées-Orientales", "ber_email": "pl.ber066@example.test"})
    assert response.status_code == 302
    with demo.app_context():
        po = dept("066")
        assert po.ber_email == "pl.ber066@example.test"
    assert client.post("/admin/departements", data={
        "code": "066", "name": "Doublon", "ber_email": "x@example.test"}).status_code == 422
    response = client.post(f"/referentiels/departements/{po.id}/centres",
                           data={"name": "Perpignan"})
    assert response.status_code == 302
    response = client.post(f"/admin/departements/{po.id}", data={
        "name": "Pyrénées-Orientales", "ber_email": "ber66@example.test"})
    assert response.status_code == 302
    with demo.app_context():
        assert dept("066").ber_email == "ber66@example.test"
        assert centre("PERPIGNAN").department_id == po.id


def test_an_inactive_inspector_leaves_the_choices_but_keeps_its_past(demo, client, auth):
    auth.login(BER)
    today = dates.today()
    with demo.app_context():
        aude = dept("011").id
        past = planned_session("GONZALEZ", today - dt.timedelta(days=14), reserved=[0],
                               for_school=school())
        past_id, ce = past.id, past.category_id
        gonzalez = inspector("GONZALEZ").id
    # The demo plans GONZALEZ in three weeks: refused while those sessions exist.
    response = client.post(f"/referentiels/inspecteurs/{gonzalez}/activation",
                           data={"actif": "0"})
    assert response.status_code == 422
    assert "GONZALEZ Grégory a encore 2 session(s) planifiée(s) à venir" in page_text(response)
    with demo.app_context():
        assert inspector("GONZALEZ").active
        for session_id in db.session.scalars(sa.select(Session.id).where(
                Session.inspector_id == gonzalez, Session.date >= today)).all():
            delete_session(user_by_email(BER), session_id)
    response = client.post(f"/referentiels/inspecteurs/{gonzalez}/activation",
                           data={"actif": "0"})
    assert response.status_code == 302
    assert client.post(f"/referentiels/inspecteurs/{gonzalez}/activation",
                       data={"actif": "0"}).status_code == 302  # a double submit
    with demo.app_context():
        assert db.session.scalars(sa.select(History.action).where(
            History.object_type == "inspector")).all() == ["inspector.deactivated"]
        assert "GONZALEZ Grégory" not in [c.nom_prenom for c in creneaux.inspector_choices(aude)]
        agent = user_by_email(BER)
        assert "GONZALEZ Grégory" not in [
            iw.inspector.nom_prenom for iw in planning_week(agent, today).inspectors]
        with pytest.raises(DomainError, match="est désactivé"):
            plan_sessions(agent, inspector("GONZALEZ").home_centre_id,
                          ce, [(gonzalez, today + dt.timedelta(days=8), "M1")])
        db.session.rollback()
        # ...but stays on its past session and on the school's past exam.
        kept = db.session.get(Session, past_id)
        assert kept.inspector.nom_prenom == "GONZALEZ Grégory"
        assert kept.units[0].auto_ecole.raison_sociale == "Alliance Auto-Ecole"
    page = page_text(client.get(f"/referentiels/departements/{aude}"))
    assert "Réactiver<span class=\"fr-sr-only\"> GONZALEZ Grégory" in page


def test_an_inactive_school_cannot_be_chosen_and_its_accounts_end(demo, client, auth):
    with demo.app_context():
        aude = dept("011").id
        # A school without exams to come (the demo's all have some).
        target = AutoEcole(department_id=aude, raison_sociale="Alliance du 002 bis",
                           aurige_id="bis", email="bis@example.test")
        db.session.add(target)
        db.session.commit()
        target_id = target.id
        account = User(email="ae002@example.test", first_name="A", last_name="B", role="ae",
                       auto_ecole_id=target_id, password_hash="x")
        db.session.add(account)
        db.session.commit()
        account_id = account.id
    auth.login(BER)
    assert client.post(f"/referentiels/auto-ecoles/{target_id}/activation",
                       data={"actif": "0"}).status_code == 302
    with demo.app_context():
        assert "Alliance du 002 bis" not in [s.raison_sociale for s in creneaux.search_schools(
            aude, "alliance")]
        assert not db.session.get(User, account_id).active
        unit = db.session.scalar(sa.select(Unit).join(Unit.session).where(
            Unit.status == "dispo", Session.date > dates.today()))
        with pytest.raises(DomainError, match="Alliance du 002 bis est désactivée"):
            reserve_units(user_by_email(BER), [unit.id], target_id)
        db.session.rollback()
        assert db.session.get(Unit, unit.id).status == "dispo"


def test_a_school_with_exams_to_come_stays_active(demo, client, auth):
    with demo.app_context():
        planned_session("MONTEIL", dates.today() + dt.timedelta(days=20), reserved=[0, 1],
                        for_school=school())
        alliance = school().id
    auth.login(BER)
    response = client.post(f"/referentiels/auto-ecoles/{alliance}/activation",
                           data={"actif": "0"})
    assert response.status_code == 422
    assert "place(s) d'examen réservée(s) à venir" in page_text(response)
    with demo.app_context():
        assert school().active


def test_a_missing_state_changes_nothing(demo, client, auth):
    auth.login(BER)
    with demo.app_context():
        dumas = inspector("DUMAS").id
    response = client.post(f"/referentiels/inspecteurs/{dumas}/activation", data={})
    assert response.status_code == 422
    with demo.app_context():
        assert inspector("DUMAS").active


def test_huge_or_hostile_ids_are_unknown_not_errors(demo, client, auth):
    auth.login(BER)
    huge = 2**40
    with demo.app_context():
        aude = dept("011").id
        before = counts()
    assert client.get(f"/referentiels/departements/{huge}").status_code == 404
    assert client.post(f"/referentiels/inspecteurs/{huge}/activation",
                       data={"actif": "0"}).status_code == 404
    assert post_inspector(client, aude, str(huge)).status_code == 422
    assert client.get(f"/ber/examens?centre={huge}&inspecteur=-1&auto_ecole=x").status_code == 200
    assert client.get(f"/ber/examens/feuille?inspecteur={huge}&date=01/01/2030"
                      ).status_code == 422
    assert client.post(f"/referentiels/courriels/{huge}/renvoi").status_code == 404
    assert client.get("/ber/activite?du=31/12/9999&au=01/01/0001").status_code == 200
    assert client.post(f"/referentiels/departements/{aude}/centres",
                       data={"name": "\x00\x01"}).status_code == 422
    with demo.app_context():
        assert counts() == before
