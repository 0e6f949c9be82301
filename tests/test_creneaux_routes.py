"""BER 4-5 routes: the page and its blocks, with and without HX-Request; reservation,
cancellation and status change as the browser sends them; refusals; the statement count."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa

from rdvpl import creneaux, dates
from rdvpl.extensions import db
from rdvpl.models import (
    AutoEcole,
    Department,
    FavouriteInspector,
    History,
    Inspector,
    OutboxMail,
    Session,
    Tranche,
    Unit,
    UnitStatus,
    User,
)
from tests.helpers import AGENT_PASSWORD, department_with, page_text

HX = {"HX-Request": "true"}
NEXT_MONDAY = dates.monday_of(dates.today()) + dt.timedelta(days=7)
THURSDAY = NEXT_MONDAY + dt.timedelta(days=3)
FRIDAY = NEXT_MONDAY + dt.timedelta(days=4)
RESERVED_BANNER = ("Réservation enregistrée !", "Les places d'examens ont été enregistrées avec "
                   "succès et l'auto-école a été informée par e-mail de ces réservations.")
CANCELLED_BANNER = ("Annulation enregistrée !", "L'examen de votre candidat a bien été annulé "
                    "et le créneau est passé automatiquement au statut indisponible.")


text = page_text


def labels(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'aria-label="([^"]*)"', page)]


@pytest.fixture
def ber(demo, client, auth):
    auth.login("ber011@example.test")
    return client


def q(model, *where):
    with db.session.no_autoflush:
        return db.session.scalar(sa.select(model).where(*where))


def units_on(app, last_name, day, *, status=None, start=None):
    with app.app_context():
        query = (sa.select(Unit.id).join(Unit.session).join(Session.inspector)
                 .where(Inspector.last_name == last_name, Session.date == day)
                 .order_by(Unit.start_time))
        if status:
            query = query.where(Unit.status == status)
        if start:
            query = query.where(Unit.start_time >= start)
        return db.session.scalars(query).all()


def school_id(app, aurige="auto-ecole-aurige-1"):
    with app.app_context():
        return db.session.scalar(sa.select(AutoEcole.id).where(AutoEcole.aurige_id == aurige))


def unit_state(app, ids):
    with app.app_context():
        return db.session.execute(sa.select(Unit.id, Unit.status, Unit.auto_ecole_id)
                                  .where(Unit.id.in_(ids)).order_by(Unit.id)).all()


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                     for m in (History, OutboxMail))


def week(day=NEXT_MONDAY, **extra):
    return {"date": day.strftime("%d/%m/%Y"), **extra}


# --- the page ------------------------------------------------------------------------------


def test_page_shows_filters_summary_and_grid(ber, demo):
    response = ber.get("/ber/creneaux", query_string=week(categorie="CE"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    words = text(page)
    assert "<html" in page and "Gérer les plannings IPCSR" in words
    for label in ("Inspecteur", "Catégorie de permis", "À partir de (jj/mm/aaaa)"):
        assert label in words
    assert re.search(r"\d+ unité\(s\) CE non attribuée\(s\) sur l'ensemble des inspecteurs "
                     r"cette semaine", words)
    assert "Replier" in words and "- Pierrette MARAIS" in words
    assert dates.colonne(NEXT_MONDAY) in words and dates.colonne(NEXT_MONDAY
                                                                + dt.timedelta(days=5)) in words
    assert "Session 4 CARCASSONNE CE" in words
    # The guide's Thursday for DUMAS Anna: four units reserved at 10:00 for Alliance Auto-Ecole.
    day = dates.jour_date(THURSDAY)
    names = labels(page)
    assert f"DUMAS Anna, {day}, 10:00 - 10:30, Alliance Auto-Ecole" in names
    assert f"DUMAS Anna, {day}, 13:00 - 13:30, Indispo" in names
    assert f"DUMAS Anna, {day}, 13:30 - 14:00, Dispo AE" in names
    assert f"DUMAS Anna, {day}, 16:30 - 17:00, Alliance du 002" in names
    assert "10:00 - 10:30 Alliance Auto-Ecole" in words and "13:00 - 13:30 Indispo" in words
    assert "Unité(s) en cours d'attribution" in words and "Valider la place d'examen" in words


def test_filters_and_week_navigation_fragment(ber, demo):
    with demo.app_context():
        dumas = q(Inspector, Inspector.last_name == "DUMAS").id
    response = ber.get("/ber/creneaux", query_string=week(inspecteur=dumas, categorie="CE"),
                       headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert page.lstrip().startswith('<div id="results"')
    assert "HX-Request" in response.headers["Vary"]
    assert "Anna DUMAS" in text(page) and "Pierrette MARAIS CARCASSONNE" not in text(page)
    # The summary stays "sur l'ensemble des inspecteurs".
    assert "- Pierrette MARAIS" in text(page)
    following = (NEXT_MONDAY + dt.timedelta(days=7)).strftime("%d/%m/%Y")
    assert f"date={following}" in html.unescape(page)
    assert 'hx-push-url="true"' in page


def test_malformed_date_keeps_the_page_with_a_french_message(ber):
    for headers in ({}, HX):
        response = ber.get("/ber/creneaux?date=32/13/2022", headers=headers)
        assert response.status_code == 200
        words = text(response.get_data(as_text=True))
        assert ("La date « 32/13/2022 » n'est pas valide : saisissez-la au format "
                "jj/mm/aaaa") in words
        assert f"Semaine du {dates.monday_of(dates.today()):%d/%m/%Y}" in words


def test_unknown_category_falls_back_to_all(ber):
    words = text(ber.get("/ber/creneaux?categorie=ZZ").get_data(as_text=True))
    assert "Catégorie inconnue : toutes les catégories sont affichées." in words


@pytest.mark.parametrize("value", ["LEROY", "abc", "999999"])
def test_foreign_or_tampered_inspector_is_404(ber, demo, value):
    if value == "LEROY":
        with demo.app_context():
            value = q(Inspector, Inspector.last_name == "LEROY").id
    for headers in ({}, HX):
        response = ber.get("/ber/creneaux", query_string={"inspecteur": value}, headers=headers)
        assert response.status_code == 404
        assert "Inspecteur introuvable" in text(response.get_data(as_text=True))


def test_the_other_department_sees_only_its_own(demo, client, auth):
    auth.login("ber034@example.test")
    words = text(client.get("/ber/creneaux", query_string=week()).get_data(as_text=True))
    assert "Paul LEROY" in words and "Anna DUMAS" not in words and "Alliance" not in words


# --- selection panel and school search -----------------------------------------------------


def test_selection_panel_groups_ticked_units_by_day(ber, demo):
    ids = units_on(demo, "DUMAS", FRIDAY, start=dt.time(15, 30))
    response = ber.get("/ber/creneaux/selection", query_string={"unit": ids}, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    words = text(page)
    assert "4 unités sélectionnées" in words
    assert dates.jour_date(FRIDAY).upper() in words
    for hours in ("15:30 → 16:00", "16:00 → 16:30", "16:30 → 17:00", "17:00 → 17:30"):
        assert f"{hours} CARCASSONNE" in words
    assert 'id="selbar" class="creneaux-selbar" hx-swap-oob="true"' in page
    assert "Aucune unité sélectionnée" in text(ber.get("/ber/creneaux/selection",
                                                       headers=HX).get_data(as_text=True))
    # A direct visit renders the whole page with those units ticked.
    page = ber.get("/ber/creneaux/selection", query_string={"unit": ids, **week()}).get_data(
        as_text=True)
    assert "<html" in page and page.count(" checked>") == 4


def test_selection_refuses_foreign_and_tampered_ids(ber, demo):
    with demo.app_context():
        foreign = db.session.scalar(sa.select(Unit.id).join(Unit.session).join(
            Session.inspector).where(Inspector.last_name == "LEROY"))
    for value in (foreign, "x", 999_999):
        response = ber.get("/ber/creneaux/selection", query_string={"unit": value}, headers=HX)
        assert response.status_code == 404


def test_school_suggestions_are_the_departments_matching_schools(ber):
    response = ber.get("/ber/creneaux/auto-ecoles?q=aut", headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    words = text(page)
    assert "Alliance Auto-Ecole — Aurige ID : auto-ecole-aurige-1" in words
    assert 'role="option"' in page and "Hérault" not in words
    # Typing again forgets the school chosen before.
    assert re.search(r'<div id="school-choice"[^>]*hx-swap-oob="true"', page)
    assert 'name="school_id" value=""' in page
    words = text(ber.get("/ber/creneaux/auto-ecoles?q=ÉCOLE", headers=HX).get_data(as_text=True))
    assert "Alliance Auto-Ecole — Aurige ID" in words
    words = text(ber.get("/ber/creneaux/auto-ecoles?q=zzz", headers=HX).get_data(as_text=True))
    assert "Aucune auto-école de votre département ne correspond à « zzz »." in words
    assert "Aurige ID" not in text(ber.get("/ber/creneaux/auto-ecoles?q=a",
                                           headers=HX).get_data(as_text=True))


def test_choosing_a_school_keeps_its_id(ber, demo):
    sid = school_id(demo)
    page = ber.get(f"/ber/creneaux/auto-ecoles/{sid}", headers=HX).get_data(as_text=True)
    assert page.lstrip().startswith('<div id="school"')
    assert f'name="school_id" value="{sid}"' in page
    assert "Auto-école choisie : Alliance Auto-Ecole" in text(page)
    foreign = school_id(demo, "auto-ecole-aurige-34")
    assert ber.get(f"/ber/creneaux/auto-ecoles/{foreign}", headers=HX).status_code == 404


# --- reservation ---------------------------------------------------------------------------


def oob_units(page: str) -> list[int]:
    """The ids of the units a response swaps out-of-band, in order."""
    return [int(i) for i in re.findall(r'<li id="unit-(\d+)"[^>]*hx-swap-oob="true"', page)]


def test_reservation_answers_the_reserved_units_summary_panel_and_banner(ber, demo):
    ids = units_on(demo, "DUMAS", FRIDAY, start=dt.time(15, 30))
    sid = school_id(demo)
    form = {"unit": ids, "school_id": sid, **week(categorie="CE")}
    before = text(ber.get("/ber/creneaux", query_string=week(categorie="CE")).get_data(
        as_text=True))
    total = int(re.search(r"(\d+) unité\(s\) CE non attribuée", before).group(1))

    response = ber.post("/ber/creneaux/reservation", data=form, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    # The banner for #banner (the form's target), then only the four units, by id: never
    # the week.
    assert page.lstrip().startswith('<div class="fr-alert fr-alert--success')
    assert oob_units(page) == ids and page.count("<li ") == 4
    assert 'id="grid"' not in page and "Session 4" not in page
    words = text(page)
    assert " ".join(RESERVED_BANNER) in words
    day = dates.jour_date(FRIDAY)
    for start, end in (("15:30", "16:00"), ("16:00", "16:30"), ("16:30", "17:00"),
                       ("17:00", "17:30")):
        assert f"DUMAS Anna, {day}, {start} - {end}, Alliance Auto-Ecole" in labels(page)
    # The focus goes to the first unit reserved (the button pressed is gone).
    assert re.search(rf'id="unit-control-{ids[0]}" aria-label="[^"]*" autofocus', page)
    assert page.count("autofocus") == 1
    assert f"{total - 4} unité(s) CE non attribuée(s)" in words
    assert re.search(r'<span id="summary-total"[^>]*hx-swap-oob="true"', page)
    assert re.search(r'<aside id="panel"[^>]*hx-swap-oob="true"', page)
    assert "Aucune unité sélectionnée" in words and ' checked' not in page
    assert {(s, a) for _, s, a in unit_state(demo, ids)} == {(UnitStatus.RESERVED, sid)}
    assert counts(demo) == (4, 1)


def test_reservation_without_htmx_renders_the_page_with_the_banner(ber, demo):
    ids = units_on(demo, "DUMAS", FRIDAY, start=dt.time(15, 30))
    response = ber.post("/ber/creneaux/reservation",
                        data={"unit": ids, "school_id": school_id(demo), **week()})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in page
    assert " ".join(RESERVED_BANNER) in text(page)


def test_unit_taken_meanwhile_refreshes_the_grid_and_reserves_nothing(ber, demo):
    ids = units_on(demo, "DUMAS", FRIDAY, start=dt.time(15, 30))
    other = school_id(demo, "auto-ecole-aurige-2")
    ber.post("/ber/creneaux/reservation", data={"unit": [ids[1]], "school_id": other}, headers=HX)
    before = counts(demo)

    sid = school_id(demo)
    response = ber.post("/ber/creneaux/reservation",
                        data={"unit": ids, "school_id": sid, **week()}, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert page.lstrip().startswith('<div class="fr-alert fr-alert--error')
    words = text(page)
    assert (f"L'unité du {dates.jour_date(FRIDAY)} de 16:00 à 16:30 (DUMAS Anna) vient d'être "
            "attribuée à une autre auto-école (Alliance du 002)") in words
    assert 'role="alert"' in page
    # The ticked units come back as they are now: the one taken shows its school, the three
    # others are still ticked; the panel keeps them and the school.
    assert oob_units(page) == ids and 'id="grid"' not in page
    assert f"DUMAS Anna, {dates.jour_date(FRIDAY)}, 16:00 - 16:30, Alliance du 002" in labels(page)
    assert page.count(" checked>") == 3 and "3 unités sélectionnées" in words
    assert re.search(r'<aside id="panel"[^>]*hx-swap-oob="true"', page)
    assert f'name="school_id" value="{sid}"' in page
    assert counts(demo) == before
    assert [s for _, s, _ in unit_state(demo, ids)].count(UnitStatus.RESERVED) == 1


def test_double_submit_second_gets_a_clear_message(ber, demo):
    ids = units_on(demo, "DUMAS", FRIDAY, start=dt.time(15, 30))
    form = {"unit": ids, "school_id": school_id(demo), **week()}
    assert ber.post("/ber/creneaux/reservation", data=form, headers=HX).status_code == 200
    response = ber.post("/ber/creneaux/reservation", data=form, headers=HX)
    assert response.status_code == 409
    assert "est déjà attribuée à Alliance Auto-Ecole : cette réservation a déjà été enregistrée" \
        in text(response.get_data(as_text=True))
    assert counts(demo) == (4, 1)


@pytest.mark.parametrize("case, status, message", [
    ("no_units", 422, "Sélectionnez au moins une unité « Dispo AE » dans la grille."),
    ("no_school", 422, "Choisissez une auto-école dans la liste des suggestions"),
    ("tampered_school", 404, "Auto-école introuvable"),
    ("foreign_school", 404, "Auto-école introuvable"),
    ("tampered_unit", 404, "Unité introuvable"),
])
def test_reservation_refusals_show_a_banner_and_change_nothing(ber, demo, case, status, message):
    ids = units_on(demo, "DUMAS", FRIDAY, start=dt.time(15, 30))
    form = {"unit": ids, "school_id": school_id(demo)}
    if case == "no_units":
        form.pop("unit")
    elif case == "no_school":
        form["school_id"] = ""
    elif case == "tampered_school":
        form["school_id"] = "1 OR 1=1"
    elif case == "foreign_school":
        form["school_id"] = school_id(demo, "auto-ecole-aurige-34")
    elif case == "tampered_unit":
        form["unit"] = [ids[0], "abc"]
    before = (counts(demo), unit_state(demo, ids))
    response = ber.post("/ber/creneaux/reservation", data=form, headers=HX)
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#banner"
    assert message in text(response.get_data(as_text=True))
    assert (counts(demo), unit_state(demo, ids)) == before


# --- unit dialogs --------------------------------------------------------------------------


def test_reserved_unit_opens_the_exam_detail_then_the_confirmation(ber, demo):
    [unit_id] = units_on(demo, "DUMAS", THURSDAY, start=dt.time(10))[:1]
    response = ber.get(f"/ber/creneaux/unites/{unit_id}", headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.lstrip().startswith("<dialog")
    words = text(page)
    for expected in ("Détail de l'examen", dates.jour_date_cap(THURSDAY), "10:00 → 10:30",
                     "Catégorie CE", "Inspecteur Anna DUMAS", "Centre CARCASSONNE",
                     "Auto-école Alliance Auto-Ecole", "Annuler l'examen",
                     "Historique de la place"):
        assert expected in words
    step = ber.get(f"/ber/creneaux/unites/{unit_id}?etape=confirmation", headers=HX)
    page = step.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="unit-actions"')
    assert "Vous êtes sur le point d'annuler une place d'examen. Confirmez-vous ?" in text(page)
    assert "Annuler l'examen" in text(page) and "Conserver l'examen" in text(page)
    assert counts(demo) == (0, 0)  # GET never changes data


def test_direct_visit_of_a_unit_renders_the_page_with_the_dialog(ber, demo):
    [unit_id] = units_on(demo, "DUMAS", THURSDAY, start=dt.time(10))[:1]
    page = ber.get(f"/ber/creneaux/unites/{unit_id}").get_data(as_text=True)
    assert "<html" in page and "Gérer les plannings IPCSR" in page
    assert re.search(r'<div id="dialog"><dialog class="app-dialog', page)
    assert "Détail de l'examen" in page and "Anna DUMAS" in page


def test_cancel_by_ber_swaps_the_unit_and_shows_the_banner(ber, demo):
    [unit_id] = units_on(demo, "DUMAS", THURSDAY, start=dt.time(10))[:1]
    response = ber.post(f"/ber/creneaux/unites/{unit_id}/annulation",
                        data=week(categorie="CE"), headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert " ".join(CANCELLED_BANNER) in text(page)
    assert re.search(rf'<li id="unit-{unit_id}" class="cunit cunit--indispo"[^>]*hx-swap-oob', page)
    assert f"DUMAS Anna, {dates.jour_date(THURSDAY)}, 10:00 - 10:30, Indispo" in labels(page)
    assert '<div id="dialog" hx-swap-oob="innerHTML"></div>' in page
    assert unit_state(demo, [unit_id])[0][1:] == (UnitStatus.INDISPO, None)
    assert counts(demo) == (1, 1)
    # The history now says who cancelled it.
    words = text(ber.get(f"/ber/creneaux/unites/{unit_id}", headers=HX).get_data(as_text=True))
    assert "examen de Alliance Auto-Ecole annulé" in words and "Thibault CARPENTIER" in words
    # A second confirmation (double tap) is refused and shows the unit as it is.
    again = ber.post(f"/ber/creneaux/unites/{unit_id}/annulation", data=week(), headers=HX)
    assert again.status_code == 409
    assert "n'est plus réservée : l'examen a déjà été annulé" in text(again.get_data(as_text=True))
    assert counts(demo) == (1, 1)


def test_status_dialog_and_switch(ber, demo):
    [unit_id] = units_on(demo, "DUMAS", FRIDAY)[:1]
    page = ber.get(f"/ber/creneaux/unites/{unit_id}", headers=HX).get_data(as_text=True)
    words = text(page)
    assert "Statut de la place" in words and "Attribuer un statut" in words
    assert "Indisponible" in words and "Disponible aux auto-écoles" in words
    response = ber.post(f"/ber/creneaux/unites/{unit_id}/statut",
                        data={"status": "indispo", **week()}, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Statut enregistré !" in text(page) and "au statut « Indispo »" in text(page)
    assert f"DUMAS Anna, {dates.jour_date(FRIDAY)}, 08:00 - 08:30, Indispo" in labels(page)
    assert unit_state(demo, [unit_id])[0][1] == UnitStatus.INDISPO
    response = ber.post(f"/ber/creneaux/unites/{unit_id}/statut",
                        data={"status": "dispo", **week()}, headers=HX)
    assert f"DUMAS Anna, {dates.jour_date(FRIDAY)}, 08:00 - 08:30, Dispo AE" in labels(
        response.get_data(as_text=True))


def test_status_refusals(ber, demo):
    [unit_id] = units_on(demo, "DUMAS", FRIDAY)[:1]
    before = counts(demo)
    response = ber.post(f"/ber/creneaux/unites/{unit_id}/statut", data={"status": "reserved"},
                        headers=HX)
    assert response.status_code == 422 and "Statut inconnu" in text(response.get_data(as_text=True))
    [reserved] = units_on(demo, "DUMAS", THURSDAY, start=dt.time(10))[:1]
    response = ber.post(f"/ber/creneaux/unites/{reserved}/statut", data={"status": "indispo"},
                        headers=HX)
    assert response.status_code == 409
    assert "annulez d'abord l'examen" in text(response.get_data(as_text=True))
    assert counts(demo) == before


# --- one inspector by default, "Tous les inspecteurs" by chunks ------------------------------


def sections(page: str) -> list[str]:
    """The inspectors whose week a response shows, in order ('Anna DUMAS')."""
    return [html.unescape(n) for n in re.findall(
        r'<h2 class="creneaux-inspector__name" id="cr-inspector-\d+">([^<]*?) <span', page)]


def more_links(page: str) -> list[str]:
    """The URLs of the elements that load the next inspectors as they scroll into view."""
    return [html.unescape(url) for url in re.findall(
        r'<a class="fr-link" href="([^"]*)" hx-get="\1" hx-trigger="revealed, click"', page)]


def test_default_is_the_agents_first_favourite_else_the_first_inspector_by_name(ber, demo):
    # The demo agent's favourites are DUMAS Anna and MONTEIL Marie: DUMAS comes first by name.
    page = ber.get("/ber/creneaux", query_string=week()).get_data(as_text=True)
    with demo.app_context():
        dumas = q(Inspector, Inspector.last_name == "DUMAS").id
        agent = q(User, User.email == "ber011@example.test")
    assert sections(page) == ["Anna DUMAS"]
    assert f'<option value="{dumas}" selected>Anna DUMAS</option>' in page
    assert '<option value="tous">Tous les inspecteurs</option>' in page
    # The summary still counts every inspector of the department.
    assert "- Pierrette MARAIS" in text(page)
    with demo.app_context():
        db.session.execute(sa.delete(FavouriteInspector).where(
            FavouriteInspector.user_id == agent.id,
            FavouriteInspector.inspector_id == dumas))
        db.session.commit()
    assert sections(ber.get("/ber/creneaux", query_string=week()).get_data(
        as_text=True)) == ["Marie MONTEIL"]
    with demo.app_context():
        db.session.execute(sa.delete(FavouriteInspector))
        db.session.commit()
    # No favourite: the first inspector by name, also when that week has no session for them.
    page = ber.get("/ber/creneaux", query_string=week()).get_data(as_text=True)
    assert sections(page) == ["Agathe ARNAUD"]
    assert sections(ber.get("/ber/creneaux", query_string=week(), headers=HX).get_data(
        as_text=True)) == ["Agathe ARNAUD"]
    # An explicit choice wins.
    page = ber.get("/ber/creneaux", query_string=week(inspecteur=dumas)).get_data(as_text=True)
    assert sections(page) == ["Anna DUMAS"]


def test_all_inspectors_load_by_chunks_as_they_scroll_into_view(app, client):
    with app.app_context():
        email = department_with(creneaux.CHUNK * 2 + 2, "903", [(THURSDAY, Tranche.M1)])
    client.post("/connexion", data={"email": email, "password": AGENT_PASSWORD})
    names = [f"Prénom NOM{i:03d}" for i in range(creneaux.CHUNK * 2 + 2)]

    first = client.get("/ber/creneaux", query_string=week(inspecteur="tous")).get_data(
        as_text=True)
    assert "<html" in first and '<option value="tous" selected>' in first
    assert sections(first) == names[:creneaux.CHUNK]
    [following] = more_links(first)
    assert f"depuis={creneaux.CHUNK}" in following and "inspecteur=tous" in following
    assert "Afficher les inspecteurs suivants" in text(first)

    second = client.get(following, headers=HX).get_data(as_text=True)
    assert "<html" not in second and "Gérer les plannings IPCSR" not in second
    assert sections(second) == names[creneaux.CHUNK:creneaux.CHUNK * 2]
    [last_url] = more_links(second)
    last = client.get(last_url, headers=HX).get_data(as_text=True)
    assert sections(last) == names[creneaux.CHUNK * 2:]
    assert more_links(last) == [] and "hx-trigger" not in last
    # The units of a chunk are named and open their dialog like the first ones.
    day = dates.jour_date(THURSDAY)
    assert f"{names[-1].split()[1]} Prénom, {day}, 08:00 - 08:30, Dispo AE" in labels(last)
    # A direct visit of a chunk's URL renders the full page from those inspectors on.
    page = client.get(following).get_data(as_text=True)
    assert "<html" in page and sections(page) == names[creneaux.CHUNK:creneaux.CHUNK * 2]


def test_the_grid_declares_the_dialog_target_once_not_on_every_unit(ber, demo):
    page = ber.get("/ber/creneaux", query_string=week(categorie="CE")).get_data(as_text=True)
    buttons = re.findall(r'<button type="button" class="cunit__(?:open|more)[^>]*>', page)
    assert len(buttons) > 20
    assert all('hx-target' not in b and 'hx-swap' not in b for b in buttons)
    assert all(re.search(r'hx-get="/ber/creneaux/unites/\d+"', b) for b in buttons)
    assert page.count('hx-target="#dialog" hx-swap="innerHTML"') == 1


# --- the week grid's statement count -------------------------------------------------------

# Both departments fill more than a chunk, so that every request has inspectors to show.
SMALL, LARGE = creneaux.CHUNK + 2, 40


@pytest.mark.parametrize("path, query, headers, shown", [
    ("/ber/creneaux", week(), {}, lambda n: 1),
    ("/ber/creneaux", week(inspecteur="tous"), {}, lambda n: min(n, creneaux.CHUNK)),
    ("/ber/creneaux", week(inspecteur="tous"), HX, lambda n: min(n, creneaux.CHUNK)),
    ("/ber/creneaux/grille", week(inspecteur="tous", depuis=creneaux.CHUNK), HX,
     lambda n: min(max(n - creneaux.CHUNK, 0), creneaux.CHUNK)),
], ids=["default", "all", "all-htmx", "chunk"])
def test_week_grid_statement_count_does_not_grow_with_inspectors(app, client, path, query,
                                                                  headers, shown):
    from sqlalchemy import event

    with app.app_context():
        small, large = (department_with(n, code, [(THURSDAY, Tranche.M1)], reserve_first=True,
                                        favourites=True)
                        for n, code in ((SMALL, "901"), (LARGE, "902")))
        engine = db.engine
    statements = []

    def count(*args):
        statements.append(1)

    measured = {}
    for n, email in ((SMALL, small), (LARGE, large)):
        client.post("/connexion", data={"email": email, "password": AGENT_PASSWORD})
        client.get(path, query_string=query, headers=headers)  # warm-up (login, caches)
        event.listen(engine, "before_cursor_execute", count)
        try:
            statements.clear()
            page = client.get(path, query_string=query, headers=headers).get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        measured[email] = len(statements)
        assert page.count("Session 1") == shown(n)
        client.post("/deconnexion")
    assert measured[small] == measured[large]


def test_a_change_answers_the_revision_it_committed_and_a_refusal_none(ber, demo):
    """X-Grid-Committed: the department's revision as the change's commit wrote it (one past
    the page's when nobody else changed the grids: the page takes it instead of refreshing)."""
    def revision() -> int:
        with demo.app_context():
            return db.session.scalar(sa.select(Department.grid_revision)
                                     .join(User, User.department_id == Department.id)
                                     .where(User.email == "ber011@example.test"))

    page = ber.get("/ber/creneaux", query_string=week())
    assert "X-Grid-Committed" not in page.headers  # a read commits nothing
    assert f'data-live-revision="{revision()}"' in page.get_data(as_text=True)
    ids = units_on(demo, "DUMAS", FRIDAY, start=dt.time(15, 30))
    before = revision()
    response = ber.post("/ber/creneaux/reservation",
                        data={"unit": ids[:1], "school_id": school_id(demo), **week()},
                        headers=HX)
    assert response.status_code == 200
    assert response.headers["X-Grid-Committed"] == str(before + 1) == str(revision())

    refused = ber.post("/ber/creneaux/reservation",
                       data={"unit": ids[:1], "school_id": school_id(demo), **week()},
                       headers=HX)
    assert refused.status_code == 409 and "X-Grid-Committed" not in refused.headers
    assert revision() == before + 1
