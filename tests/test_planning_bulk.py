"""Copy a week (BER 8) and import a planning (BER 9): the preview names every cell with the
grid's own reasons, the confirmation applies it in one transaction or not at all, and the
files that are no planning are refused with nothing changed."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

from rdvpl import dates
from rdvpl.errors import Conflict, DomainError
from rdvpl.export import export_table, planning_xlsx
from rdvpl.extensions import db
from rdvpl.models import Absence, History, Session, Tranche, WorkedSaturday
from rdvpl.planning_bulk import (
    PreviewChanged,
    copy_preview,
    copy_week,
    import_planning,
    import_preview,
)
from rdvpl.xlsx_import import MAX_BYTES, read_planning
from tests.helpers import planned_session
from tests.test_planning import ber, centre, count, inspector, session_at, state

TODAY = dt.date(2027, 6, 1)  # a Tuesday; the weeks below hold no public holiday
SOURCE = dt.date(2027, 6, 7)  # Monday of the week copied
TUESDAY = SOURCE + dt.timedelta(days=1)
SATURDAY = SOURCE + dt.timedelta(days=5)


def week_after(day: dt.date, n: int = 1) -> dt.date:
    return day + dt.timedelta(weeks=n)


def reasons(preview) -> dict[tuple[str, str, str], str | None]:
    return {(line.inspector, line.day, line.hours): line.reason for line in preview.lines}


def key(who: str, day: dt.date, hours: str = "08:00 - 10:00"):
    return (who, dates.jour_date(day), hours)


@pytest.fixture
def source_week(demo, ctx):
    """DUMAS on Tuesday M1 and M2, MONTEIL on the (worked) Saturday M1, in the week copied;
    every reason of the preview prepared in the three weeks after it."""
    planned_session("DUMAS", TUESDAY, Tranche.M1)
    planned_session("DUMAS", TUESDAY, Tranche.M2)
    db.session.add(WorkedSaturday(inspector=inspector("MONTEIL"), date=SATURDAY))
    db.session.commit()
    planned_session("MONTEIL", SATURDAY, Tranche.M1)
    # Week +1: DUMAS away on Tuesday morning. Week +2: Tuesday M1 already planned.
    db.session.add(Absence(inspector=inspector("DUMAS"), motif="Congé",
                           start_date=week_after(TUESDAY), end_date=week_after(TUESDAY)))
    db.session.commit()
    planned_session("DUMAS", week_after(TUESDAY, 2), Tranche.M1)
    return None


def test_copy_preview_names_every_cell_with_its_reason(source_week):
    before = state()
    preview = copy_preview(ber(), SOURCE, 3, today=TODAY)
    got = reasons(preview)
    assert preview.source == 3
    assert (preview.first, preview.last) == (week_after(SOURCE), week_after(SATURDAY, 3))
    # Week +1: the absence covers the morning: both of DUMAS's cells are skipped.
    assert got[key("DUMAS Anna", week_after(TUESDAY))] == "indisponibilité (Congé)"
    assert got[key("DUMAS Anna", week_after(TUESDAY), "10:00 - 12:00")] == \
        "indisponibilité (Congé)"
    # Week +2: M1 planned already, M2 free.
    assert got[key("DUMAS Anna", week_after(TUESDAY, 2))] == "déjà planifiée"
    assert got[key("DUMAS Anna", week_after(TUESDAY, 2), "10:00 - 12:00")] is None
    # Week +3: both planned.
    assert got[key("DUMAS Anna", week_after(TUESDAY, 3))] is None
    # MONTEIL's Saturdays are not declared worked after the first one.
    for n in (1, 2, 3):
        assert got[key("MONTEIL Marie", week_after(SATURDAY, n))] == "samedi non travaillé"
    assert len(preview.plans) == 3 and len(preview.skipped) == 6
    assert {line.session for line in preview.lines} == {"CE CARCASSONNE"}
    assert state() == before  # a preview changes nothing


def test_copy_plans_the_preview_in_one_transaction_with_history(source_week):
    preview = copy_preview(ber(), SOURCE, 3, today=TODAY)
    histories = count(History)
    result = copy_week(ber(), SOURCE, 3, preview.digest, today=TODAY)
    assert result.count == 3
    assert (result.first, result.last) == (week_after(SOURCE), week_after(SATURDAY, 3))
    copied = session_at("DUMAS", week_after(TUESDAY, 3), "M2")
    assert (copied.category.code, copied.centre.name, len(copied.units)) == ("CE", "CARCASSONNE",
                                                                             4)
    assert session_at("DUMAS", week_after(TUESDAY), "M1") is None  # the absence
    rows = db.session.scalars(sa.select(History).where(History.id > 0)
                              .order_by(History.id.desc()).limit(4)).all()
    assert count(History) == histories + 4
    summary = rows[0]
    assert summary.action == "planning.copied" and summary.after["sessions"] == 3
    assert summary.after["skipped"] == 6 and summary.after["week"] == SOURCE.isoformat()
    assert {r.action for r in rows[1:]} == {"session.planned"}
    assert {r.after["source"] for r in rows[1:]} == {"copie"}


def test_a_stale_copy_preview_applies_nothing(source_week):
    preview = copy_preview(ber(), SOURCE, 3, today=TODAY)
    # Meanwhile another agent plans one of the cells of the preview.
    planned_session("DUMAS", week_after(TUESDAY, 3), Tranche.M1)
    before = state()
    with pytest.raises(PreviewChanged) as changed:
        copy_week(ber(), SOURCE, 3, preview.digest, today=TODAY)
    db.session.rollback()
    assert state() == before
    assert reasons(changed.value.preview)[key("DUMAS Anna", week_after(TUESDAY, 3))] \
        == "déjà planifiée"
    assert len(changed.value.preview.plans) == 2


def test_copy_reasons_past_holiday_horizon_and_inactive(demo, ctx):
    # A week whose copy lands on Bastille Day (Wednesday 14/07/2027).
    wednesday = dt.date(2027, 7, 7)
    planned_session("BARBET", wednesday, Tranche.S1)
    # A displayed week in the past: its copy to the next week lands before "today".
    planned_session("KLÉBER", dt.date(2027, 5, 25), Tranche.M1)
    # GONZALEZ is deactivated; the NARBONNE centre closed.
    planned_session("GONZALEZ", wednesday, Tranche.M1)
    planned_session("ARNAUD", wednesday, Tranche.M1)
    inspector("GONZALEZ").active = False
    centre("LUCHAPT DU 011").active = False  # ARNAUD's home centre
    db.session.commit()
    got = reasons(copy_preview(ber(), wednesday, 1, today=TODAY))
    assert got[key("BARBET Anaïs", dt.date(2027, 7, 14), "13:00 - 15:00")] == \
        "jour férié (Fête nationale)"
    assert got[key("GONZALEZ Grégory", dt.date(2027, 7, 14))] == "inspecteur désactivé"
    assert got[key("ARNAUD Agathe", dt.date(2027, 7, 14))] == "centre désactivé"
    past = reasons(copy_preview(ber(), dt.date(2027, 5, 25), 1, today=TODAY))
    assert past[key("KLÉBER Thierry", dt.date(2027, 6, 1))] == "date passée (aujourd'hui)"
    past = reasons(copy_preview(ber(), dt.date(2027, 5, 25), 1, today=dt.date(2027, 6, 3)))
    assert past[key("KLÉBER Thierry", dt.date(2027, 6, 1))] == "date passée"
    # One year ahead is the horizon: 01/06/2028 from 01/06/2027.
    planned_session("KLÉBER", dt.date(2028, 5, 25), Tranche.M1)
    planned_session("KLÉBER", dt.date(2028, 5, 26), Tranche.M1)
    far = reasons(copy_preview(ber(), dt.date(2028, 5, 25), 1, today=TODAY))
    assert far[key("KLÉBER Thierry", dt.date(2028, 6, 1))] is None
    assert far[key("KLÉBER Thierry", dt.date(2028, 6, 2))] == \
        "au-delà de l'horizon de planification (01/06/2028)"


def test_copy_follows_the_name_search_and_refuses_bad_weeks(source_week):
    preview = copy_preview(ber(), SOURCE, 1, search="monteil", today=TODAY)
    assert preview.source == 1 and {line.inspector for line in preview.lines} == {"MONTEIL Marie"}
    for weeks in (0, 7, None):
        with pytest.raises(DomainError, match="Choisissez de 1 à 6 semaines"):
            copy_preview(ber(), SOURCE, weeks, today=TODAY)


def test_copy_of_an_empty_week_is_refused(demo, ctx):
    preview = copy_preview(ber(), dt.date(2027, 8, 2), 2, today=TODAY)
    assert preview.plans == [] and preview.lines == []
    before = state()
    with pytest.raises(DomainError, match="Aucune session à recopier"):
        copy_week(ber(), dt.date(2027, 8, 2), 2, preview.digest, today=TODAY)
    db.session.rollback()
    assert state() == before


def test_copy_stays_in_the_agents_department(demo, ctx):
    preview = copy_preview(ber("034"), dates.monday_of(dates.today()) + dt.timedelta(weeks=1), 2)
    assert {line.inspector for line in preview.lines} == {"LEROY Paul"}


def test_a_failure_mid_way_changes_nothing(source_week, monkeypatch):
    """The last session's history row fails: every session of the copy is rolled back."""
    import rdvpl.sessions as sessions_module

    preview = copy_preview(ber(), SOURCE, 3, today=TODAY)
    real = sessions_module.record
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(sessions_module, "record", failing)
    before = state()
    with pytest.raises(RuntimeError):
        copy_week(ber(), SOURCE, 3, preview.digest, today=TODAY)
    db.session.rollback()
    assert state() == before
    assert session_at("DUMAS", week_after(TUESDAY, 3), "M1") is None


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


def exported(actor, monday: dt.date, weeks: int = 2) -> bytes:
    return planning_xlsx(export_table(actor, monday, weeks))


def edit(data: bytes, changes: dict[tuple[int, int], object]) -> bytes:
    """The workbook with some cells changed, saved again (as a spreadsheet would)."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.active
    for (row, column), value in changes.items():
        sheet.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def row_of(monday: dt.date, day: dt.date, tranche: str) -> int:
    tranches = ["M1", "M2", "S1", "S2"]
    return 4 + (day - monday).days // 7 * 24 + day.weekday() * 4 + tranches.index(tranche)


def column_of(data: bytes, who: str) -> int:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return next(c for c in range(4, sheet.max_column + 1) if sheet.cell(2, c).value == who)


def test_round_trip_plans_exactly_the_two_new_sessions(source_week):
    data = exported(ber(), SOURCE)
    dumas = column_of(data, "DUMAS Anna")
    wednesday, thursday = SOURCE + dt.timedelta(days=2), SOURCE + dt.timedelta(days=3)
    data = edit(data, {
        (row_of(SOURCE, wednesday, "M1"), dumas): "CE",
        (row_of(SOURCE, wednesday, "M1"), dumas + 1): "CARCASSONNE",
        (row_of(SOURCE, thursday, "S2"), dumas): "C",
        (row_of(SOURCE, thursday, "S2"), dumas + 1): "narbonne",  # case as typed
    })
    parsed = read_planning(data, "plannings.xlsx")
    preview = import_preview(ber(), parsed, today=TODAY)
    assert [(line.inspector, line.day, line.hours, line.session) for line in preview.to_plan] == [
        ("DUMAS Anna", dates.jour_date(wednesday), "08:00 - 10:00", "CE CARCASSONNE"),
        ("DUMAS Anna", dates.jour_date(thursday), "15:00 - 17:00", "C NARBONNE"),
    ]
    # Everything else the file holds is what is planned already.
    assert {line.reason for line in preview.skipped} == {"déjà planifiée"}
    assert preview.already == 3 == len(preview.skipped)  # DUMAS's two, MONTEIL's Saturday
    sessions_before = count(Session)
    result = import_planning(ber(), parsed, preview.digest, name="plannings.xlsx", today=TODAY)
    assert (result.count, result.already, result.refused) == (2, 3, 0)
    assert count(Session) == sessions_before + 2
    made = session_at("DUMAS", thursday, "S2")
    assert (made.category.code, made.centre.name) == ("C", "NARBONNE")
    summary = db.session.scalar(sa.select(History).order_by(History.id.desc()).limit(1))
    assert summary.action == "planning.imported"
    assert summary.after["file"] == "plannings.xlsx" and summary.after["sessions"] == 2
    # The same file again: nothing left to import.
    again = import_preview(ber(), read_planning(data, "plannings.xlsx"), today=TODAY)
    assert again.plans == [] and again.already == 5


def test_import_reasons_cell_by_cell(source_week):
    data = exported(ber(), SOURCE)
    dumas, monteil = column_of(data, "DUMAS Anna"), column_of(data, "MONTEIL Marie")
    wednesday = SOURCE + dt.timedelta(days=2)
    w = row_of(SOURCE, wednesday, "M1")
    data = edit(data, {
        (w, dumas): "CE", (w, dumas + 1): "BEZIERS",  # centre inconnu
        (w + 1, dumas): "B", (w + 1, dumas + 1): "CARCASSONNE",  # not a PL category
        (w + 2, dumas): "ZZ", (w + 2, dumas + 1): "CARCASSONNE",  # catégorie inconnue
        (w + 3, dumas): "CE",  # no centre
        (w, monteil): "CE", (w, monteil + 1): "CARCASSONNE",
        (w, 1): "31/02/2027",  # unreadable date on that row
        (w + 1, monteil): "CE", (w + 1, monteil + 1): "CARCASSONNE",
        (w + 1, 3): "M9",  # unknown tranche
        # MONTEIL's unworked Saturday of week +1 and DUMAS's leave
        (row_of(SOURCE, week_after(SATURDAY), "M1"), monteil): "CE",
        (row_of(SOURCE, week_after(SATURDAY), "M1"), monteil + 1): "CARCASSONNE",
        (row_of(SOURCE, week_after(TUESDAY), "M2"), dumas): "CE",
        (row_of(SOURCE, week_after(TUESDAY), "M2"), dumas + 1): "CARCASSONNE",
    })
    # Two inspectors the department does not know: one of 034, one of nowhere.
    sheet_data = edit(data, {(2, 18): "LEROY Paul", (2, 20): "INCONNU Jean",
                             (3, 18): "Cat", (3, 19): "Centre", (3, 20): "Cat",
                             (3, 21): "Centre",
                             (w + 2, 18): "CE", (w + 2, 19): "CARCASSONNE",
                             (w + 3, 20): "CE", (w + 3, 21): "CARCASSONNE"})
    preview = import_preview(ber(), read_planning(sheet_data, "x.xlsx"), today=TODAY)
    by_cell = {line.where: line.reason for line in preview.lines}
    letter = openpyxl.utils.get_column_letter

    def at(row, column):
        return by_cell[f"Ligne {row}, colonne {letter(column)}"]

    assert at(w, dumas) == "date illisible"
    assert at(w + 1, dumas) == "tranche inconnue"
    assert at(w + 2, dumas) == "catégorie inconnue"
    assert at(w + 3, dumas) == "cellule incomplète (catégorie et centre attendus)"
    assert at(w, monteil) == "date illisible"
    assert at(row_of(SOURCE, week_after(SATURDAY), "M1"), monteil) == "samedi non travaillé"
    assert at(row_of(SOURCE, week_after(TUESDAY), "M2"), dumas) == "indisponibilité (Congé)"
    assert at(w + 2, 18) == "autre département"
    assert at(w + 3, 20) == "inspecteur inconnu"
    assert at(row_of(SOURCE, TUESDAY, "M1"), dumas) == "déjà planifiée"
    # A readable row with a centre the department does not have.
    fixed = edit(data, {(w, 1): wednesday})
    preview = import_preview(ber(), read_planning(fixed, "x.xlsx"), today=TODAY)
    assert {line.where: line.reason for line in preview.lines}[
        f"Ligne {w}, colonne {letter(dumas)}"] == "centre inconnu"
    assert preview.plans and all(p.cell.day == wednesday for p in preview.plans)


def test_import_past_and_holiday_cells(demo, ctx):
    monday = dt.date(2027, 7, 12)  # Wednesday 14/07 is Bastille Day
    data = exported(ber(), monday, 1)
    dumas = column_of(data, "DUMAS Anna")
    data = edit(data, {(row_of(monday, monday + dt.timedelta(days=2), "M1"), dumas): "CE",
                       (row_of(monday, monday + dt.timedelta(days=2), "M1"), dumas + 1):
                       "CARCASSONNE",
                       (row_of(monday, monday, "M1"), dumas): "CE",
                       (row_of(monday, monday, "M1"), dumas + 1): "CARCASSONNE"})
    preview = import_preview(ber(), read_planning(data, "x.xlsx"), today=dt.date(2027, 7, 13))
    assert [line.reason for line in preview.lines] == ["date passée",
                                                       "jour férié (Fête nationale)"]


def test_a_stale_import_preview_applies_nothing(source_week):
    data = exported(ber(), SOURCE)
    dumas = column_of(data, "DUMAS Anna")
    thursday = SOURCE + dt.timedelta(days=3)
    data = edit(data, {(row_of(SOURCE, thursday, "M1"), dumas): "CE",
                       (row_of(SOURCE, thursday, "M1"), dumas + 1): "CARCASSONNE",
                       (row_of(SOURCE, thursday, "M2"), dumas): "CE",
                       (row_of(SOURCE, thursday, "M2"), dumas + 1): "CARCASSONNE"})
    parsed = read_planning(data, "x.xlsx")
    preview = import_preview(ber(), parsed, today=TODAY)
    assert len(preview.plans) == 2
    db.session.add(Absence(inspector=inspector("DUMAS"), motif="Formation", start_date=thursday,
                           end_date=thursday))
    db.session.commit()
    before = state()
    with pytest.raises(PreviewChanged) as changed:
        import_planning(ber(), parsed, preview.digest, today=TODAY)
    db.session.rollback()
    assert state() == before
    assert {line.reason for line in changed.value.preview.lines
            if line.day == dates.jour_date(thursday)} == {"indisponibilité (Formation)"}
    assert isinstance(changed.value, Conflict)


def test_import_of_another_department_plans_nothing_of_011(demo, ctx):
    data = exported(ber(), SOURCE, 1)
    dumas = column_of(data, "DUMAS Anna")
    data = edit(data, {(row_of(SOURCE, TUESDAY, "M1"), dumas): "CE",
                       (row_of(SOURCE, TUESDAY, "M1"), dumas + 1): "CARCASSONNE"})
    preview = import_preview(ber("034"), read_planning(data, "x.xlsx"), today=TODAY)
    assert preview.plans == []
    assert {line.reason for line in preview.lines} == {"autre département"}


# ---------------------------------------------------------------------------------------------
# Files that are no planning
# ---------------------------------------------------------------------------------------------


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def workbook_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("name, data, words", [
    ("planning.csv", b"Date;Jour\n", "n'est pas un classeur .xlsx"),
    ("planning.xlsx", b"", "est vide"),
    ("planning.xlsx", b"Date;Jour;Tranche\n", "n'est pas un classeur .xlsx"),
    ("planning.xlsx", b"PK\x03\x04" + b"\x00" * 100, "n'est pas un classeur .xlsx"),
    ("planning.xlsx", zip_bytes({"hello.txt": b"hi"}), "n'est pas un classeur .xlsx"),
    ("planning.xlsx", zip_bytes({"xl/workbook.xml": b"<not xml"}), "n'a pas pu être lu"),
    ("planning.xlsx", b"x" * (MAX_BYTES + 1), "dépasse 5 Mo"),
    # 60 MB of zeros compress to about 60 KB: refused before anything is inflated.
    ("planning.xlsx", zip_bytes({"xl/workbook.xml": b"\x00" * (60 * 1024 * 1024)}),
     "trop volumineux une fois décompressé"),
    ("planning.xlsx", workbook_bytes([]), "est vide"),
    ("planning.xlsx", workbook_bytes([[None], [None], ["Date", "Jour", "Tranche", "Cat"]]),
     "ne sont pas ceux de l'export"),
    ("planning.xlsx", workbook_bytes([[None, None, None, "CARCASSONNE"],
                                      [None, None, None, "DUMAS Anna"],
                                      ["Date", "Jour", "Tranche", "Catégorie", "Centre"]]),
     "ne sont pas ceux de l'export"),
    ("planning.xlsx", workbook_bytes([[None, None, None, "CARCASSONNE"], [None],
                                      ["Date", "Jour", "Tranche", "Cat", "Centre"],
                                      [dt.datetime(2027, 6, 8), "mar.", "M1", "CE", "X"]]),
     "ne sont pas ceux de l'export"),
    ("planning.xlsx", workbook_bytes([[None, None, None, "CARCASSONNE"],
                                      [None, None, None, "DUMAS Anna"],
                                      ["Date", "Jour", "Tranche", "Cat", "Centre"]]),
     "aucune ligne de planning"),
])
def test_files_that_are_no_planning_are_refused_in_french(name, data, words):
    with pytest.raises(DomainError, match=words) as refused:
        read_planning(data, name)
    assert "Aucune session n'a été planifiée." in refused.value.message or \
        "n'est pas un classeur" in refused.value.message


def test_a_file_of_more_than_twelve_weeks_is_refused():
    rows = [[None, None, None, "CARCASSONNE"], [None, None, None, "DUMAS Anna"],
            ["Date", "Jour", "Tranche", "Cat", "Centre"]]
    day = dt.datetime(2027, 6, 7)
    rows += [[day, "lun.", "M1", None, None]] * (12 * 24 + 1)
    with pytest.raises(DomainError, match="plus de 288 lignes"):
        read_planning(workbook_bytes(rows), "long.xlsx")


def test_a_typed_date_is_read():
    rows = [[None, None, None, "CARCASSONNE"], [None, None, None, "DUMAS Anna"],
            ["Date", "Jour", "Tranche", "Cat", "Centre"], ["08/06/2027", "mar.", "M1", "CE",
                                                          "CARCASSONNE"]]
    parsed = read_planning(workbook_bytes(rows), "typed.xlsx")
    assert [(c.day, c.tranche, c.category, c.centre) for c in parsed.cells] == [
        ("2027-06-08", "M1", "CE", "CARCASSONNE")]
    assert parsed.inspectors == [("CARCASSONNE", "DUMAS Anna")]


def test_an_import_failing_mid_way_changes_nothing(source_week, monkeypatch):
    """The second session's history row fails: no session of the import stays."""
    import rdvpl.sessions as sessions_module

    data = exported(ber(), SOURCE, 1)
    dumas = column_of(data, "DUMAS Anna")
    thursday = SOURCE + dt.timedelta(days=3)
    data = edit(data, {(row_of(SOURCE, thursday, t), dumas + k): v
                       for t in ("M1", "M2", "S1") for k, v in ((0, "CE"), (1, "CARCASSONNE"))})
    parsed = read_planning(data, "x.xlsx")
    preview = import_preview(ber(), parsed, today=TODAY)
    assert len(preview.plans) == 3
    real = sessions_module.record
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(sessions_module, "record", failing)
    before = state()
    with pytest.raises(RuntimeError):
        import_planning(ber(), parsed, preview.digest, today=TODAY)
    db.session.rollback()
    assert state() == before
    assert session_at("DUMAS", thursday, "M1") is None
