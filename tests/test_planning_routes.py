"""Routes of BER 1-3 with the Flask client: full pages and htmx fragments, banners, refusals,
and the grid's constant number of SQL statements."""

from __future__ import annotations

import datetime as dt
import html
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from rdvpl import dates
from rdvpl.extensions import db
from rdvpl.models import (
    Category,
    Centre,
    History,
    Inspector,
    OutboxMail,
    Session,
    Tranche,
    Unit,
)
from rdvpl.planning_grid import GRID_CHUNK
from rdvpl.sessions import new_session
from tests.helpers import AGENT_PASSWORD, department_with

HX = {"HX-Request": "true"}
TODAY = dates.today()
MONDAY = dates.monday_of(TODAY)
NEXT_MONDAY = MONDAY + dt.timedelta(weeks=1)
THURSDAY = NEXT_MONDAY + dt.timedelta(days=3)  # the guide's Thursday for DUMAS Anna
WEEK = MONDAY + dt.timedelta(weeks=3)  # empty in the demo data
TUESDAY = WEEK + dt.timedelta(days=1)


def text(response) -> str:
    """The visible words of a response, tags removed and spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))
                    .split())


def ids(last_name: str, centre: str = "CARCASSONNE") -> tuple[int, int]:
    with db.session.no_autoflush:
        inspector_id = db.session.scalar(
            sa.select(Inspector.id).where(Inspector.last_name == last_name))
        centre_id = db.session.scalar(sa.select(Centre.id).where(Centre.name == centre))
    return inspector_id, centre_id


def cell_values(inspector_id, day, *tranches):
    return [f"{inspector_id}|{day.isoformat()}|{t}" for t in tranches or Tranche]


def session_id(last_name, day, tranche) -> int | None:
    return db.session.scalar(sa.select(Session.id).join(Session.inspector).where(
        Inspector.last_name == last_name, Session.date == day, Session.tranche == tranche))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def ber(demo, client, auth):
    auth.login("ber011@example.test")
    with demo.app_context():
        yield client


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


def test_page_full_and_fragment(ber):
    full = ber.get(f"/ber/planification?date={dates.ddmmyyyy(NEXT_MONDAY)}")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    words = text(full)
    for expected in ("Planifier les activités des IPCSR", "Rechercher un IPCSR par son nom",
                     "Centres", "Catégorie de permis", "À partir de (jj/mm/aaaa)",
                     dates.colonne(NEXT_MONDAY), dates.colonne(NEXT_MONDAY + dt.timedelta(5)),
                     "DUMAS Anna ★", "MONTEIL Marie ★", "BARBET Anaïs", "08:00 - 10:00",
                     "13:30 - 15:30", "CE CARCASSONNE", "Exporter les plannings",
                     "Session(s) en planification", "0 session(s) sélectionnée(s)",
                     "Planifier ces sessions"):
        assert expected in words, expected
    assert "LEROY" not in words and "MONTPELLIER" not in words
    # Favourites first.
    assert words.index("DUMAS Anna") < words.index("MONTEIL Marie") < words.index("ARNAUD")
    fragment = ber.get(f"/ber/planification?date={dates.ddmmyyyy(NEXT_MONDAY)}", headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="planning-page"')
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_cells_have_named_controls(ber):
    page = ber.get(f"/ber/planification?date={dates.ddmmyyyy(NEXT_MONDAY)}&nom=dumas")
    body = page.get_data(as_text=True)
    friday = NEXT_MONDAY + dt.timedelta(days=4)
    assert f'aria-label="DUMAS Anna, {dates.jour_date(friday)}, 13:30 - 15:30, CE CARCASSONNE"' \
        in body
    wednesday = NEXT_MONDAY + dt.timedelta(days=2)
    assert f'aria-label="DUMAS Anna, {dates.jour_date(wednesday)}, 08:00 - 10:00"' in body
    saturday = NEXT_MONDAY + dt.timedelta(days=5)  # DUMAS works it
    assert f'aria-label="DUMAS Anna, {dates.jour_date(saturday)}, 08:00 - 10:00"' in body


def test_past_and_unworked_saturday_cells_are_disabled_with_a_reason(ber):
    page = ber.get(f"/ber/planification?date={dates.ddmmyyyy(MONDAY - dt.timedelta(weeks=1))}"
                   "&nom=monteil")
    body = page.get_data(as_text=True)
    assert body.count('name="cell"') == 0  # nothing selectable in a past week
    assert "Date passée" in text(page)
    page = ber.get(f"/ber/planification?date={dates.ddmmyyyy(WEEK)}&nom=monteil")
    saturday = WEEK + dt.timedelta(days=5)
    assert (f'disabled aria-label="MONTEIL Marie, {dates.jour_date(saturday)}, 08:00 - 10:00, '
            'non planifiable : samedi non travaillé"') in page.get_data(as_text=True)
    assert "Samedi non travaillé" in text(page)
    open_days = [d for d in dates.week_days(WEEK)[:5] if not dates.public_holiday(d)]
    assert page.get_data(as_text=True).count('name="cell"') == 4 * len(open_days)  # x M1-S2


def test_search_is_case_and_accent_insensitive(ber):
    words = text(ber.get("/ber/planification?nom=kleber", headers=HX))
    assert "KLÉBER Thierry" in words and "DUMAS Anna" not in words
    words = text(ber.get("/ber/planification?nom=xyz", headers=HX))
    assert "Aucun IPCSR de votre département ne correspond à « xyz »." in words


def test_malformed_date_shows_a_message_and_this_week(ber):
    response = ber.get("/ber/planification?date=31/02/2022")
    assert response.status_code == 200
    words = text(response)
    assert "La date « 31/02/2022 » n'est pas valide : saisissez-la au format jj/mm/aaaa." in words
    assert f"Semaine du {dates.ddmmyyyy(MONDAY)}" in words


def test_light_category_falls_back_to_ce_with_a_notice(ber):
    words = text(ber.get("/ber/planification?categorie=B"))
    assert "La catégorie « B » n'est pas planifiée dans le module poids lourds" in words
    assert 'value="CE" selected' in ber.get("/ber/planification?categorie=B").get_data(
        as_text=True)


def test_default_centre_is_the_first_inspectors_home_centre(ber):
    assert "NARBONNE CE" in text(ber.get("/ber/planification?nom=barbet"))
    assert "CARCASSONNE CE" in text(ber.get("/ber/planification"))


def test_other_departments_centre_is_not_found(ber):
    montpellier = db.session.scalar(sa.select(Centre.id).where(Centre.name == "MONTPELLIER"))
    assert ber.get(f"/ber/planification?centre={montpellier}").status_code == 404
    assert ber.get(f"/ber/planification?centre={montpellier}", headers=HX).status_code == 404


def test_week_navigation_links(ber):
    body = ber.get(f"/ber/planification?date={dates.ddmmyyyy(WEEK)}").get_data(as_text=True)
    previous = dates.ddmmyyyy(WEEK - dt.timedelta(weeks=1))
    following = dates.ddmmyyyy(WEEK + dt.timedelta(weeks=1))
    assert f"date={previous}" in body and f"date={following}" in body
    assert 'hx-push-url="true"' in body


# ---------------------------------------------------------------------------------------------
# Selection panel
# ---------------------------------------------------------------------------------------------


def test_selection_panel_counts_the_ticked_cells(ber):
    dumas, carcassonne = ids("DUMAS")
    response = ber.get("/ber/planification/selection", headers=HX, query_string={
        "cell": cell_values(dumas, TUESDAY) + ["garbage"] + cell_values(dumas, TUESDAY, "M1"),
        "date": dates.ddmmyyyy(WEEK), "centre": carcassonne, "categorie": "CE"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<aside id="panel"')
    words = text(response)
    assert (f"Semaine du {dates.ddmmyyyy(WEEK)} au "
            f"{dates.ddmmyyyy(WEEK + dt.timedelta(days=5))}") in words
    assert "CARCASSONNE CE" in words and "4 session(s) sélectionnée(s)" in words
    assert "disabled" not in body


# ---------------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------------


def _plan(client, cells, *, centre="CARCASSONNE", code="CE", headers=HX, date=WEEK):
    _, centre_id = ids("DUMAS", centre)
    return client.post("/ber/planification/sessions", headers=headers, data={
        "cell": cells, "centre": centre_id, "categorie": code, "date": dates.ddmmyyyy(date)})


def test_plan_with_htmx_swaps_grid_panel_and_banner(ber):
    dumas, _ = ids("DUMAS")
    response = _plan(ber, cell_values(dumas, TUESDAY))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="grid"')
    assert '<aside id="panel"' in body and 'hx-swap-oob="true"' in body
    assert '<div id="banner" aria-live="polite" hx-swap-oob="innerHTML">' in body
    words = text(response)
    assert ("Succès 4 session(s) de permis CE planifiée(s) sur le centre CARCASSONNE." in words)
    assert "0 session(s) sélectionnée(s)" in words
    assert f'aria-label="DUMAS Anna, {dates.jour_date(TUESDAY)}, 08:00 - 10:00, CE CARCASSONNE"' \
        in body
    assert all(session_id("DUMAS", TUESDAY, t) for t in ("M1", "M2", "S1", "S2"))


def test_plan_without_htmx_renders_the_full_page_with_the_banner(ber):
    dumas, _ = ids("DUMAS")
    response = _plan(ber, cell_values(dumas, TUESDAY, "M1"), headers={})
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert "Succès 1 session(s) de permis CE planifiée(s)" in text(response)


def test_plan_conflict_answers_the_refreshed_grid_and_keeps_the_rest_selected(ber):
    dumas, _ = ids("DUMAS")
    wednesday = NEXT_MONDAY + dt.timedelta(days=2)
    before = count(Session)
    response = _plan(ber, cell_values(dumas, wednesday, "M1") + cell_values(dumas, THURSDAY, "M1"),
                     date=NEXT_MONDAY)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="grid"') and "<html" not in body
    assert "fr-alert--error" in body
    assert f"La session DUMAS Anna, {dates.jour_date(THURSDAY)}, 08:00 - 10:00 est déjà planifiée" \
        in text(response)
    wed_value = cell_values(dumas, wednesday, "M1")[0]
    assert f'value="{wed_value}" aria-label="DUMAS Anna, {dates.jour_date(wednesday)}, ' \
           '08:00 - 10:00" checked' in body
    assert "1 session(s) sélectionnée(s)" in text(response)
    assert count(Session) == before


@pytest.mark.parametrize("case", ["past", "tampered", "empty", "foreign inspector"])
def test_plan_refusals_show_the_banner_and_change_nothing(ber, case):
    dumas, _ = ids("DUMAS")
    leroy, _ = ids("LEROY")
    cells, status, words = {
        "past": (cell_values(dumas, MONDAY - dt.timedelta(days=3), "M1"), 422,
                 "cette date est passée"),
        "tampered": (["1|2|3"], 422, "La sélection envoyée est invalide."),
        "empty": ([], 422, "Sélectionnez au moins une session à planifier."),
        "foreign inspector": (cell_values(leroy, TUESDAY, "M1"), 404, "Inspecteur introuvable."),
    }[case]
    before = (count(Session), count(Unit), count(History))
    response = _plan(ber, cells)
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#banner"
    assert words in text(response) and "<html" not in response.get_data(as_text=True)
    assert (count(Session), count(Unit), count(History)) == before


def test_plan_at_another_departments_centre_is_not_found(ber):
    dumas, _ = ids("DUMAS")
    before = count(Session)
    response = _plan(ber, cell_values(dumas, TUESDAY, "M1"), centre="MONTPELLIER")
    assert response.status_code == 404 and count(Session) == before


def test_double_submit_plans_once(ber):
    dumas, _ = ids("DUMAS")
    assert _plan(ber, cell_values(dumas, TUESDAY, "M1")).status_code == 200
    again = _plan(ber, cell_values(dumas, TUESDAY, "M1"))
    assert again.status_code == 409 and "est déjà planifiée" in text(again)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Session).where(
        Session.date == TUESDAY)) == 1


# ---------------------------------------------------------------------------------------------
# Dialog and deletion
# ---------------------------------------------------------------------------------------------

DIALOG_TEXT = ("La session sélectionnée est déjà planifiée pour DUMAS Anna {day} de 08:00 à "
               "10:00 sur le centre CARCASSONNE pour la catégorie CE. Vous devez d'abord "
               "supprimer cette session pour pouvoir la replanifier. Voulez-vous supprimer la "
               "session ?")


def test_dialog_fragment_has_the_guides_text(ber):
    friday = NEXT_MONDAY + dt.timedelta(days=4)
    response = ber.get(f"/ber/planification/sessions/{session_id('DUMAS', friday, 'M1')}",
                       headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<dialog class="app-dialog"')
    words = text(response)
    assert "Session déjà planifiée" in words
    assert DIALOG_TEXT.format(day=dates.jour_date(friday)) in words
    assert "Non, conserver la session" in words and "Oui, supprimer la session" in words
    assert "réservée" not in words


def test_dialog_says_how_many_units_are_reserved_and_for_whom(ber):
    response = ber.get(f"/ber/planification/sessions/{session_id('DUMAS', THURSDAY, 'S2')}",
                       headers=HX)
    assert ("2 unité(s) de cette session sont réservées : 1 pour Alliance Auto-Ecole, 1 pour "
            "Alliance du 002.") in text(response)


def test_dialog_direct_visit_renders_the_page_with_the_dialog(ber):
    response = ber.get(f"/ber/planification/sessions/{session_id('DUMAS', THURSDAY, 'M1')}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    assert re.search(r'<div id="dialog">\s*<dialog class="app-dialog"', body)
    assert f"Semaine du {dates.ddmmyyyy(NEXT_MONDAY)}" in text(response)


def test_dialog_of_another_department_is_not_found(ber):
    leroy = db.session.scalar(sa.select(Session.id).join(Session.inspector).where(
        Inspector.last_name == "LEROY").limit(1))
    for headers in ({}, HX):
        response = ber.get(f"/ber/planification/sessions/{leroy}", headers=headers)
        assert response.status_code == 404
        assert "Session introuvable." in text(response)
    assert ber.post(f"/ber/planification/sessions/{leroy}/suppression",
                    headers=HX).status_code == 404
    assert db.session.get(Session, leroy) is not None


def test_delete_with_htmx_frees_the_cell_and_says_so(ber):
    monteil, _ = ids("MONTEIL")
    friday = NEXT_MONDAY + dt.timedelta(days=4)
    sid = session_id("MONTEIL", friday, "M2")
    response = ber.post(f"/ber/planification/sessions/{sid}/suppression", headers=HX,
                        data={"cell": cell_values(monteil, friday, "M2")[0]})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<td id="cell-{monteil}-{friday:%Y%m%d}-M2"')
    assert '<div id="dialog" hx-swap-oob="innerHTML"></div>' in body
    assert (f'aria-label="MONTEIL Marie, {dates.jour_date(friday)}, 10:00 - 12:00" autofocus'
            in body)
    assert (f"Succès Vous avez bien supprimé la session de permis CE du {dates.ddmmyyyy(friday)} "
            "de 10:00 à 12:00, sur le centre CARCASSONNE pour l'inspecteur Monteil Marie"
            ) in text(response)
    assert session_id("MONTEIL", friday, "M2") is None


def test_delete_with_reservations_says_the_schools_were_told(ber):
    sid = session_id("DUMAS", THURSDAY, "S2")
    response = ber.post(f"/ber/planification/sessions/{sid}/suppression", headers=HX)
    assert response.status_code == 200
    assert ("Les places d'examen réservées ont été annulées et les auto-écoles informées par "
            "e-mail : Alliance Auto-Ecole (1 place(s)), Alliance du 002 (1 place(s)).") \
        in text(response)
    assert count(OutboxMail) == 2


def test_delete_without_htmx_renders_the_page_with_the_banner(ber):
    friday = NEXT_MONDAY + dt.timedelta(days=4)
    response = ber.post(
        f"/ber/planification/sessions/{session_id('MONTEIL', friday, 'S1')}/suppression")
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert "Vous avez bien supprimé la session de permis CE" in text(response)


def test_delete_twice_answers_the_current_cell_and_a_message(ber):
    monteil, _ = ids("MONTEIL")
    friday = NEXT_MONDAY + dt.timedelta(days=4)
    sid = session_id("MONTEIL", friday, "S2")
    data = {"cell": cell_values(monteil, friday, "S2")[0]}
    assert ber.post(f"/ber/planification/sessions/{sid}/suppression", headers=HX,
                    data=data).status_code == 200
    again = ber.post(f"/ber/planification/sessions/{sid}/suppression", headers=HX, data=data)
    assert again.status_code == 404
    body = again.get_data(as_text=True)
    assert body.lstrip().startswith(f'<td id="cell-{monteil}-{friday:%Y%m%d}-S2"')
    assert '<div id="dialog" hx-swap-oob="innerHTML"></div>' in body
    assert "Session introuvable : elle a peut-être déjà été supprimée." in text(again)


def test_past_session_dialog_offers_no_deletion(ber):
    past = MONDAY - dt.timedelta(days=5)
    dumas, carcassonne = ids("DUMAS")
    ce = db.session.scalar(sa.select(Category).where(Category.code == "CE"))
    session = new_session(db.session.get(Inspector, dumas), db.session.get(Centre, carcassonne),
                          ce, past, "M1")
    db.session.commit()
    words = text(ber.get(f"/ber/planification/sessions/{session.id}", headers=HX))
    assert "Cette session est passée : elle ne peut plus être supprimée." in words
    assert "Oui, supprimer la session" not in words
    response = ber.post(f"/ber/planification/sessions/{session.id}/suppression", headers=HX)
    assert response.status_code == 422 and "est passée" in text(response)
    assert db.session.get(Session, session.id) is not None


# ---------------------------------------------------------------------------------------------
# Export route (the workbook itself: tests/test_export.py)
# ---------------------------------------------------------------------------------------------


def test_export_downloads_an_xlsx(ber):
    response = ber.get(f"/ber/planification/export?date={dates.ddmmyyyy(WEEK)}&semaines=2")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    end = WEEK + dt.timedelta(days=12)
    assert disposition.startswith("attachment")
    assert f"plannings-011-CE-{WEEK:%Y-%m-%d}-au-{end:%Y-%m-%d}.xlsx" in disposition
    assert response.data[:2] == b"PK"


@pytest.mark.parametrize("query, words", [
    ("semaines=0", "Le nombre de semaines à exporter doit être un nombre entier de 1 à 12."),
    ("semaines=abc", "Le nombre de semaines à exporter doit être un nombre entier de 1 à 12."),
    ("date=99/99/2022", "La date « 99/99/2022 » n'est pas valide"),
])
def test_export_refuses_bad_parameters_in_french(ber, query, words):
    response = ber.get(f"/ber/planification/export?{query}")
    assert response.status_code == 422 and words in text(response)
    assert 'class="fr-alert fr-alert--error' in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# The grid's SQL statement count does not grow with inspectors
# ---------------------------------------------------------------------------------------------


@contextmanager
def statements():
    executed = []

    def listener(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        executed.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield executed
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


# Both departments fill more than a chunk, so that every request has inspectors to show.
SMALL, LARGE = GRID_CHUNK + 2, 40


@pytest.mark.parametrize("path, query, headers, shown", [
    ("/ber/planification", {}, {}, lambda n: GRID_CHUNK),
    ("/ber/planification", {}, HX, lambda n: GRID_CHUNK),
    ("/ber/planification/grille", {"depuis": GRID_CHUNK}, HX,
     lambda n: min(n - GRID_CHUNK, GRID_CHUNK)),
], ids=["page", "htmx", "chunk"])
def test_grid_statement_count_does_not_grow_with_inspectors(app, client, path, query, headers,
                                                            shown):
    with app.app_context():
        saturday = WEEK + dt.timedelta(days=5)
        small, large = (department_with(n, code, [(TUESDAY, Tranche.M1), (saturday, Tranche.S2)],
                                        worked_saturday=saturday, favourites=True)
                        for n, code in ((SMALL, "901"), (LARGE, "902")))
    counts = []
    for n, email in ((SMALL, small), (LARGE, large)):
        client.post("/connexion", data={"email": email, "password": AGENT_PASSWORD})
        with app.app_context(), statements() as executed:
            response = client.get(path, query_string={"date": dates.ddmmyyyy(WEEK), **query},
                                  headers=headers)
            assert response.status_code == 200
            counts.append(len(executed))
        planned = response.get_data(as_text=True).count('aria-haspopup="dialog" hx-get=')
        assert planned == shown(n) * 2
        client.post("/deconnexion")
    assert counts[0] == counts[1]


# ---------------------------------------------------------------------------------------------
# Inspectors in view: favourites first, the others as they scroll in
# ---------------------------------------------------------------------------------------------


def grids_shown(body: str) -> list[str]:
    """The inspectors whose grid a response shows, in order ('NOM001 Prénom')."""
    return [html.unescape(n).strip() for n in re.findall(
        r'<h3 class="inspector-week__name" id="inspector-\d+">([^<]*)', body)]


def more_links(body: str) -> list[str]:
    return [html.unescape(url) for url in re.findall(
        r'<a class="fr-link" href="([^"]*)" hx-get="\1" hx-trigger="revealed, click"', body)]


def test_grids_load_by_chunks_favourites_first(app, client):
    with app.app_context():
        email = department_with(GRID_CHUNK * 2 + 3, "904", [(TUESDAY, Tranche.M1)],
                                favourites=True)
    client.post("/connexion", data={"email": email, "password": AGENT_PASSWORD})
    n = GRID_CHUNK * 2 + 3
    favourites = [f"NOM{i:03d} Prénom" for i in range(0, n, 2)]
    others = [f"NOM{i:03d} Prénom" for i in range(1, n, 2)]
    order = favourites + others

    first = client.get("/ber/planification", query_string={"date": dates.ddmmyyyy(WEEK)})
    body = first.get_data(as_text=True)
    assert grids_shown(body) == order[:GRID_CHUNK]
    assert "Session(s) en planification" in text(first)  # the panel is there from the start
    [following] = more_links(body)
    assert f"depuis={GRID_CHUNK}" in following and f"date={dates.ddmmyyyy(WEEK)}" in following

    second = client.get(following, headers=HX).get_data(as_text=True)
    assert "<html" not in second and 'id="panel"' not in second
    assert grids_shown(second) == order[GRID_CHUNK:GRID_CHUNK * 2]
    [last_url] = more_links(second)
    last = client.get(last_url, headers=HX).get_data(as_text=True)
    assert grids_shown(last) == order[GRID_CHUNK * 2:]
    assert more_links(last) == [] and "hx-trigger" not in last
    assert f'aria-label="{order[-1]}, {dates.jour_date(TUESDAY)}, 08:00 - 10:00, CE CENTRE 904"' \
        in last
    # A direct visit of a chunk's URL: the full page from those inspectors on.
    page = client.get(following).get_data(as_text=True)
    assert "<html" in page and grids_shown(page) == order[GRID_CHUNK:GRID_CHUNK * 2]


def test_planning_an_inspector_further_down_answers_with_their_grid(demo, client):
    with demo.app_context():
        email = department_with(GRID_CHUNK + 3, "905", [])
        last = db.session.scalar(sa.select(Inspector).where(Inspector.last_name == "NOM012"))
        centre = last.home_centre_id
        cells = cell_values(last.id, TUESDAY, "M1")
    client.post("/connexion", data={"email": email, "password": AGENT_PASSWORD})
    response = client.post("/ber/planification/sessions", headers=HX, data={
        "cell": cells, "centre": centre, "categorie": "CE", "date": dates.ddmmyyyy(WEEK)})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert grids_shown(body)[-1] == "NOM012 Prénom" and more_links(body) == []
    assert f'aria-label="NOM012 Prénom, {dates.jour_date(TUESDAY)}, 08:00 - 10:00, CE CENTRE 905"' \
        in body


def test_planned_cells_carry_only_their_url(ber):
    body = ber.get(f"/ber/planification?date={dates.ddmmyyyy(NEXT_MONDAY)}").get_data(
        as_text=True)
    buttons = re.findall(r'<button class="pcell__button" type="button" aria-label[^>]*>', body)
    assert len(buttons) > 10
    assert all("hx-target" not in b and "hx-swap" not in b for b in buttons)
    assert re.search(r'<div id="grid" class="planning-grid" hx-target="#dialog" '
                     r'hx-swap="innerHTML">', body)
