"""Routes of BER 8-9 with the Flask client: the copy dialog and its banner, the import page
(upload, preview, confirmation), stale previews, refused files and tokens, other departments."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from rdvpl import dates
from rdvpl.extensions import db
from rdvpl.models import Absence, History, Session, Tranche
from rdvpl.xlsx_import import MAX_BYTES
from tests.helpers import planned_session
from tests.test_planning import count, inspector, session_at, state
from tests.test_planning_bulk import column_of, edit, row_of, zip_bytes

HX = {"HX-Request": "true"}


def quiet_weeks(n: int) -> dt.date:
    """A Monday, weeks ahead, such that it and the ``n`` weeks after it hold no holiday."""
    monday = dates.monday_of(dates.today()) + dt.timedelta(weeks=6)
    while any(dates.public_holiday(monday + dt.timedelta(weeks=w, days=d))
              for w in range(n + 1) for d in range(6)):
        monday += dt.timedelta(weeks=1)
    return monday


SOURCE = quiet_weeks(2)
TUESDAY = SOURCE + dt.timedelta(days=1)


@pytest.fixture
def week(demo):
    """DUMAS on the source Tuesday M1 and M2; the Tuesday two weeks later M1 planned."""
    with demo.app_context():
        planned_session("DUMAS", TUESDAY, Tranche.M1)
        planned_session("DUMAS", TUESDAY, Tranche.M2)
        planned_session("DUMAS", TUESDAY + dt.timedelta(weeks=2), Tranche.M1)
    return demo


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def copy_url(weeks=2, day=SOURCE, **extra) -> str:
    query = "&".join(f"{k}={v}" for k, v in extra.items())
    return f"/ber/planification/recopie?date={dates.ddmmyyyy(day)}&semaines={weeks}&{query}"


def digest_of(page: str) -> str:
    return re.search(r'name="apercu" value="([0-9a-f]+)"', page).group(1)


def test_the_planning_page_offers_copy_and_import(week, client, auth):
    auth.login()
    page = text(client.get("/ber/planification"))
    assert "Recopier cette semaine" in page and "Sur les N semaines suivantes" in page
    assert 'href="/ber/planification/import"' in page and "Importer un planning" in page


def test_copy_dialog_previews_then_copies(week, client, auth):
    auth.login()
    dialog = client.get(copy_url(nom="dumas"), headers=HX)
    body = text(dialog)
    assert dialog.status_code == 200 and "<html" not in body
    assert 'aria-labelledby="copy-dialog-title"' in body and "Recopier cette semaine" in body
    assert "3 session(s) seront planifiée(s)" in body and "1 cellule(s) ignorée(s)" in body
    assert "déjà planifiée" in body
    third = TUESDAY + dt.timedelta(weeks=2)
    assert f"{dates.jour_date(third)}</td><td>08:00 - 10:00</td><td>CE CARCASSONNE</td>" \
        "<td>déjà planifiée</td>" in re.sub(r">\s+<", "><", body)
    before = count_sessions(week)
    done = client.post("/ber/planification/recopie", headers=HX, data={
        "date": dates.ddmmyyyy(SOURCE), "semaines": "2", "nom": "dumas",
        "apercu": digest_of(body)})
    answer = text(done)
    assert done.status_code == 200
    last = SOURCE + dt.timedelta(weeks=2, days=5)
    first = SOURCE + dt.timedelta(weeks=1)
    assert (f"3 session(s) recopiée(s) sur les semaines du {dates.ddmmyyyy(first)} au "
            f"{dates.ddmmyyyy(last)}.") in answer
    assert '<div id="dialog" hx-swap-oob="innerHTML"></div>' in answer
    assert count_sessions(week) == before + 3
    with week.app_context():
        assert session_at("DUMAS", TUESDAY + dt.timedelta(weeks=1), "M2") is not None
        row = db.session.scalar(sa.select(History).where(History.action == "planning.copied"))
        assert row.after["sessions"] == 3


def count_sessions(app) -> int:
    with app.app_context():
        return count(Session)


def test_a_direct_visit_shows_the_week_with_the_dialog_open(week, client, auth):
    auth.login()
    page = text(client.get(copy_url()))
    assert "<html" in page and "Planifier les activités des IPCSR" in page
    assert 'id="copy-dialog"' in page


def test_a_stale_copy_shows_the_new_preview_and_changes_nothing(week, client, auth):
    auth.login()
    body = text(client.get(copy_url(nom="dumas"), headers=HX))
    with week.app_context():
        planned_session("DUMAS", TUESDAY + dt.timedelta(weeks=1), Tranche.M1)
        before = state()
    stale = client.post("/ber/planification/recopie", headers=HX, data={
        "date": dates.ddmmyyyy(SOURCE), "semaines": "2", "nom": "dumas",
        "apercu": digest_of(body)})
    answer = text(stale)
    assert stale.status_code == 409 and stale.headers["HX-Retarget"] == "#dialog"
    assert "Le planning a changé depuis l'aperçu" in answer
    assert "2 session(s) seront planifiée(s)" in answer
    with week.app_context():
        assert state() == before


@pytest.mark.parametrize("weeks", ["0", "7", "x", ""])
def test_copy_refuses_a_bad_number_of_weeks(week, client, auth, weeks):
    auth.login()
    before = count_sessions(week)
    response = client.post("/ber/planification/recopie", headers=HX, data={
        "date": dates.ddmmyyyy(SOURCE), "semaines": weeks, "apercu": "0"})
    assert response.status_code == 422
    assert "Choisissez de 1 à 6 semaines suivantes." in text(response)
    assert count_sessions(week) == before


def test_copy_by_another_department_sees_none_of_011(week, client, auth):
    auth.login("ber034@example.test")
    body = text(client.get(copy_url(), headers=HX))
    assert "DUMAS" not in body and "0 session(s) seront planifiée(s)" in body
    with week.app_context():
        carcassonne = db.session.scalar(sa.text("SELECT id FROM centre WHERE name='CARCASSONNE'"))
    assert client.get(copy_url(centre=carcassonne), headers=HX).status_code == 404


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


def exported_file(client) -> bytes:
    response = client.get(f"/ber/planification/export?date={dates.ddmmyyyy(SOURCE)}&semaines=1")
    assert response.status_code == 200
    return response.data


def with_two_new_sessions(data: bytes) -> bytes:
    dumas = column_of(data, "DUMAS Anna")
    wednesday = SOURCE + dt.timedelta(days=2)
    return edit(data, {
        (row_of(SOURCE, wednesday, "M1"), dumas): "CE",
        (row_of(SOURCE, wednesday, "M1"), dumas + 1): "CARCASSONNE",
        (row_of(SOURCE, wednesday, "S1"), dumas): "CE",
        (row_of(SOURCE, wednesday, "S1"), dumas + 1): "NARBONNE",
    })


def upload(client, data: bytes, name: str = "plannings.xlsx"):
    return client.post("/ber/planification/import",
                       data={"fichier": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def token_of(page: str) -> str:
    return re.search(r'name="jeton" value="([^"]+)"', page).group(1)


def test_import_round_trip_through_the_pages(week, client, auth):
    auth.login()
    form = text(client.get("/ber/planification/import"))
    assert "<h1>Importer un planning</h1>" in form and 'type="file"' in form
    data = with_two_new_sessions(exported_file(client))
    before = count_sessions(week)
    preview = upload(client, data)
    page = text(preview)
    assert preview.status_code == 200
    assert "Aperçu de l'import de « plannings.xlsx »" in page
    with week.app_context():  # DUMAS's two, and the demo's own sessions of that week
        existing = db.session.scalar(sa.select(sa.func.count()).select_from(Session).where(
            Session.date.between(SOURCE, SOURCE + dt.timedelta(days=5)),
            Session.department_id == inspector("DUMAS").department_id))
    assert existing >= 2
    assert (f"2 session(s) à planifier, {existing} déjà planifiée(s), 0 refusée(s)."
            in re.sub(r"</?strong>", "", page))
    assert page.count("<strong>à planifier</strong>") == 2
    assert page.count("déjà planifiée</td>") == existing
    assert "Importer 2 session(s)" in page
    assert count_sessions(week) == before  # the preview changes nothing

    done = client.post("/ber/planification/import/confirmation", data={"jeton": token_of(page)})
    answer = text(done)
    assert done.status_code == 200
    assert (f"2 session(s) importée(s) depuis « plannings.xlsx » ; {existing} déjà "
            "planifiée(s), 0 refusée(s).") in answer
    assert "Voir les sessions importées sur le planning" in answer
    assert count_sessions(week) == before + 2
    with week.app_context():
        made = session_at("DUMAS", SOURCE + dt.timedelta(days=2), "S1")
        assert made.centre.name == "NARBONNE"
        row = db.session.scalar(sa.select(History).where(History.action == "planning.imported"))
        assert row.after["sessions"] == 2 and row.after["file"] == "plannings.xlsx"
    # The same confirmation again: the preview is stale, nothing is planned twice.
    again = client.post("/ber/planification/import/confirmation", data={"jeton": token_of(page)})
    assert again.status_code == 409 and "Le planning a changé depuis l'aperçu" in text(again)
    assert count_sessions(week) == before + 2


def test_a_stale_import_shows_the_new_preview(week, client, auth):
    auth.login()
    page = text(upload(client, with_two_new_sessions(exported_file(client))))
    with week.app_context():
        wednesday = SOURCE + dt.timedelta(days=2)
        db.session.add(Absence(inspector=inspector("DUMAS"), motif="Maladie",
                               start_date=wednesday, end_date=wednesday))
        db.session.commit()
        before = state()
    stale = client.post("/ber/planification/import/confirmation", data={"jeton": token_of(page)})
    answer = text(stale)
    assert stale.status_code == 409
    assert "indisponibilité (Maladie)" in answer
    assert "<strong>0 session(s) à planifier</strong>" in answer
    with week.app_context():
        assert state() == before


def big_zip() -> bytes:
    return zip_bytes({"xl/workbook.xml": b"\x00" * (60 * 1024 * 1024)})


@pytest.mark.parametrize("name, data, words", [
    ("planning.ods", b"PK\x03\x04", "n'est pas un classeur .xlsx"),
    ("planning.xlsx", b"", "est vide"),
    ("planning.xlsx", b"not a zip at all", "n'est pas un classeur .xlsx"),
    ("planning.xlsx", b"x" * (MAX_BYTES + 1), "dépasse 5 Mo"),
    ("bombe.xlsx", None, "trop volumineux une fois décompressé"),
    ("autre.xlsx", "headers", "ne sont pas ceux de l'export"),
])
def test_refused_files_leave_everything_as_it_was(week, client, auth, name, data, words):
    auth.login()
    if data is None:
        data = big_zip()
    elif data == "headers":
        workbook = openpyxl.Workbook()
        workbook.active.append(["Nom", "Prénom", "Date"])
        out = io.BytesIO()
        workbook.save(out)
        data = out.getvalue()
    with week.app_context():
        before = state()
    response = upload(client, data, name)
    page = text(response)
    assert response.status_code == 422
    assert words in page and "Fichier refusé" in page
    assert 'type="file"' in page  # the form, ready for another file
    with week.app_context():
        assert state() == before


def test_a_far_larger_upload_is_cut_short_in_french(week, client, auth):
    auth.login()
    response = upload(client, b"x" * (MAX_BYTES + 2 * 1024 * 1024))
    assert response.status_code == 413
    assert "Le fichier envoyé dépasse 5 Mo" in text(response)


def test_no_file_or_a_text_field_is_refused(week, client, auth):
    auth.login()
    response = client.post("/ber/planification/import", data={"fichier": "plannings.xlsx"})
    assert response.status_code == 422
    assert "Choisissez le fichier .xlsx du planning à importer." in text(response)


@pytest.mark.parametrize("token", ["", "abc", "x" * 5000, "eyJ1Ijo.tampered.sig"])
def test_a_tampered_token_is_refused(week, client, auth, token):
    auth.login()
    with week.app_context():
        before = state()
    response = client.post("/ber/planification/import/confirmation", data={"jeton": token})
    assert response.status_code == 422
    assert "L'aperçu a expiré ou n'est pas valide" in text(response)
    with week.app_context():
        assert state() == before


def test_another_agents_token_is_refused(week, client, auth, app):
    auth.login()
    page = text(upload(client, with_two_new_sessions(exported_file(client))))
    other = app.test_client()
    other.post("/connexion", data={"email": "ber034@example.test",
                                   "password": "demo-ber-034"})
    response = other.post("/ber/planification/import/confirmation",
                          data={"jeton": token_of(page)})
    assert response.status_code == 422
    assert "L'aperçu a expiré ou n'est pas valide" in text(response)
    assert count_sessions(week) == count_sessions(week)  # unchanged
    with week.app_context():
        assert session_at("DUMAS", SOURCE + dt.timedelta(days=2), "M1") is None


def test_a_file_of_011_imported_by_034_plans_nothing(week, client, auth, app):
    auth.login()
    data = with_two_new_sessions(exported_file(client))
    auth.logout()
    auth.login("ber034@example.test")
    page = text(upload(client, data))
    assert "<strong>0 session(s) à planifier</strong>" in page and "autre département" in page
    assert "Importer 0" not in page
    with week.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Session).where(
            Session.date == SOURCE + dt.timedelta(days=2))) == 0
