"""Reading a planning .xlsx in the export's exact shape (BER 9, the reverse of rdvpl/export.py):
the file's bytes → ``ParsedPlanning``, plain strings and dates, nothing resolved against the
database (rdvpl/planning_bulk.py does that). No Flask, no database.

A file that cannot be a planning is refused as a whole with a French message (DomainError):
not an .xlsx, empty, over 5 MB, a zip bomb (the uncompressed size of its members is checked
before openpyxl opens it), headers other than the export's, no planning row. A malformed cell
(unreadable date, unknown tranche, a category without a centre) is kept with its row: the
preview names it with its reason.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import asdict, dataclass, field

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from . import dates
from .errors import DomainError
from .export import EXPORT_MAX_WEEKS, FIRST_INSPECTOR_COLUMN, HEADER_ROWS

MAX_BYTES = 5 * 1024 * 1024  # "5 MB+ file: a clear message" (SPEC BER 9)
# An exported planning of 12 weeks and 200 inspectors is well under 5 MB once unzipped; more
# is a zip bomb or not a planning.
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_MEMBERS = 100
MAX_INSPECTORS = 200
MAX_ROWS = EXPORT_MAX_WEEKS * 6 * 4  # the longest export: 12 weeks, Monday-Saturday, 4 tranches
TRANCHES = ("M1", "M2", "S1", "S2")
HEADINGS = ("Date", "Jour", "Tranche")

NOT_XLSX = ("Le fichier « {name} » n'est pas un classeur .xlsx : importez un planning exporté "
            "par « Exporter les plannings », éventuellement modifié dans un tableur. "
            "Aucune session n'a été planifiée.")


@dataclass
class ParsedCell:
    """One filled (Cat, Centre) pair of the file, as written."""

    row: int  # the spreadsheet's row number (4 for the first planning row)
    column: str  # the "Cat" column's letter ('D')
    inspector: int  # index in ParsedPlanning.inspectors
    day: str  # ISO date, or '' when the date cell is unreadable
    day_text: str  # the date cell as written (to name an unreadable one)
    tranche: str  # as written ('M1'; anything else is refused in the preview)
    category: str
    centre: str


@dataclass
class ParsedPlanning:
    """The file's inspectors (home centre, 'NOM Prénom') and filled cells, in file order."""

    inspectors: list[tuple[str, str]] = field(default_factory=list)
    cells: list[ParsedCell] = field(default_factory=list)
    rows: int = 0  # planning rows read

    def to_json(self) -> dict:
        return {"i": [list(i) for i in self.inspectors], "r": self.rows,
                "c": [list(asdict(c).values()) for c in self.cells]}

    @classmethod
    def from_json(cls, data: dict) -> ParsedPlanning:
        """Back from to_json (the signed token kept between the preview and the confirmation);
        a malformed value raises ValueError."""
        try:
            inspectors = [(str(centre), str(name)) for centre, name in data["i"]]
            cells = [ParsedCell(int(r), str(col), int(i), str(d), str(dt_), str(t), str(cat),
                                str(ctr)) for r, col, i, d, dt_, t, cat, ctr in data["c"]]
            if any(not 0 <= c.inspector < len(inspectors) for c in cells):
                raise ValueError("inspector index")
            return cls(inspectors, cells, int(data["r"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError("malformed planning") from error


def _text(value) -> str:
    """A cell's value as text, blanks trimmed ('' for an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _day(value) -> dt.date | None:
    """The date of column A: a real date (the export's, kept by Excel and LibreOffice) or text
    'jj/mm/aaaa' typed by hand."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dates.parse_fr_date(_text(value))


def check_archive(data: bytes, name: str) -> None:
    """Refuse what openpyxl must not open: an empty or too large upload, a file that is not a
    zip archive, and a zip bomb — told by the uncompressed sizes its members declare (checked
    before anything is decompressed; the zip module also refuses to inflate a member beyond its
    declared size)."""
    if not data:
        raise DomainError(f"Le fichier « {name} » est vide. Aucune session n'a été planifiée.")
    if len(data) > MAX_BYTES:
        raise DomainError(f"Le fichier « {name} » dépasse 5 Mo : un planning exporté est bien "
                          "plus petit. Aucune session n'a été planifiée.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise DomainError(NOT_XLSX.format(name=name)) from None
    if (len(members) > MAX_MEMBERS
            or sum(m.file_size for m in members) > MAX_UNCOMPRESSED):
        raise DomainError(f"Le fichier « {name} » est trop volumineux une fois décompressé : ce "
                          "n'est pas un planning exporté. Aucune session n'a été planifiée.")
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise DomainError(NOT_XLSX.format(name=name))


def read_planning(data: bytes, name: str) -> ParsedPlanning:
    """The planning in ``data`` (the bytes of the uploaded file ``name``), or DomainError."""
    name = _text(name)[:120] or "sans nom"
    if not name.lower().endswith(".xlsx"):
        raise DomainError(NOT_XLSX.format(name=name))
    check_archive(data, name)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged archive
        raise DomainError(f"Le fichier « {name} » n'a pas pu être lu comme un classeur .xlsx. "
                          "Aucune session n'a été planifiée.") from None
    try:
        return _read_sheet(workbook.worksheets[0] if workbook.worksheets else None, name)
    except DomainError:
        raise
    except Exception:  # a damaged sheet part only shows while reading it
        raise DomainError(f"Le fichier « {name} » n'a pas pu être lu comme un classeur .xlsx. "
                          "Aucune session n'a été planifiée.") from None
    finally:
        workbook.close()


def _read_sheet(sheet, name: str) -> ParsedPlanning:
    wrong_headers = (f"Les en-têtes du fichier « {name} » ne sont pas ceux de l'export : ligne 1 "
                     "le centre de chaque inspecteur, ligne 2 « NOM Prénom », ligne 3 « Date | "
                     "Jour | Tranche | Cat | Centre | Cat | Centre … ». Repartez d'un fichier "
                     "obtenu par « Exporter les plannings ». Aucune session n'a été planifiée.")
    if sheet is None:
        raise DomainError(f"Le fichier « {name} » est vide. Aucune session n'a été planifiée.")
    sheet.reset_dimensions()  # read every row the file holds, whatever its <dimension> says
    rows = sheet.iter_rows(values_only=True)
    header = []
    for _ in range(HEADER_ROWS):
        header.append([_text(v) for v in next(rows, ())])
    if not any(any(row) for row in header):
        raise DomainError(f"Le fichier « {name} » est vide. Aucune session n'a été planifiée.")
    headings = header[2]
    while headings and not headings[-1]:
        headings.pop()
    pairs = (len(headings) - len(HEADINGS)) // 2
    expected = list(HEADINGS) + ["Cat", "Centre"] * pairs
    if headings != expected or pairs < 1:
        raise DomainError(wrong_headers)
    if pairs > MAX_INSPECTORS:
        raise DomainError(f"Le fichier « {name} » compte plus de {MAX_INSPECTORS} inspecteurs. "
                          "Aucune session n'a été planifiée.")
    parsed = ParsedPlanning()
    for i in range(pairs):
        column = FIRST_INSPECTOR_COLUMN - 1 + 2 * i  # 0-based
        centre = header[0][column] if column < len(header[0]) else ""
        who = header[1][column] if column < len(header[1]) else ""
        if not who:
            raise DomainError(wrong_headers)
        parsed.inspectors.append((centre, who))

    for number, values in enumerate(rows, start=HEADER_ROWS + 1):
        values = list(values)
        texts = [_text(v) for v in values[:len(expected)]]
        if not any(texts):
            continue
        parsed.rows += 1
        if parsed.rows > MAX_ROWS:
            raise DomainError(f"Le fichier « {name} » compte plus de {MAX_ROWS} lignes de "
                              f"planning ({EXPORT_MAX_WEEKS} semaines) : importez-le en "
                              "plusieurs fois. Aucune session n'a été planifiée.")
        texts += [""] * (len(expected) - len(texts))
        day = _day(values[0] if values else None)
        for i in range(pairs):
            column = FIRST_INSPECTOR_COLUMN - 1 + 2 * i
            category, centre = texts[column], texts[column + 1]
            if not category and not centre:
                continue
            parsed.cells.append(ParsedCell(
                row=number, column=get_column_letter(column + 1), inspector=i,
                day=day.isoformat() if day else "", day_text=texts[0], tranche=texts[2],
                category=category, centre=centre))
    if parsed.rows == 0:
        raise DomainError(f"Le fichier « {name} » ne contient aucune ligne de planning sous ses "
                          "en-têtes. Aucune session n'a été planifiée.")
    return parsed
