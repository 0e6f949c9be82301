"""Forms of "Gérer les créneaux" (BER 4-5). Plain WTForms: the CSRF token travels in the
X-CSRFToken header (checked by CSRFProtect for every POST), the filters are a GET."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField
from wtforms.validators import Optional

from ..creneaux import ALL_CATEGORIES, ALL_INSPECTORS, CATEGORY_FILTERS
from ..dates import date_error, monday_of, parse_fr_date, today
from ..web import parse_int


class FiltersForm(Form):
    """Inspecteur / Catégorie de permis / À partir de (jj/mm/aaaa), all in the URL."""

    inspecteur = StringField("Inspecteur", validators=[Optional()])
    categorie = StringField("Catégorie de permis", default=ALL_CATEGORIES)
    date = StringField("À partir de (jj/mm/aaaa)", validators=[Optional()])

    def __init__(self, formdata):
        if not hasattr(formdata, "getlist"):
            formdata = MultiDict(formdata)
        super().__init__(formdata)

    def inspector_id(self) -> int | None:
        """The chosen inspector's id; None when none is chosen or for "Tous les inspecteurs";
        ``False`` for a tampered value."""
        raw = (self.inspecteur.data or "").strip()
        if not raw or raw == ALL_INSPECTORS:
            return None
        return parse_int(raw) or False

    def all_inspectors(self) -> bool:
        """"Tous les inspecteurs" (loaded by chunks); without any choice, one inspector."""
        return (self.inspecteur.data or "").strip() == ALL_INSPECTORS

    def category(self) -> str:
        """The category filter; an unknown value falls back to "Tous" (see category_error)."""
        value = self.categorie.data or ALL_CATEGORIES
        return value if value in CATEGORY_FILTERS else ALL_CATEGORIES

    def category_error(self) -> str | None:
        value = self.categorie.data
        if value and value not in CATEGORY_FILTERS:
            return "Catégorie inconnue : toutes les catégories sont affichées."
        return None

    def day(self):
        """The date typed (or today); None when it is malformed (see date_error)."""
        raw = (self.date.data or "").strip()
        return parse_fr_date(raw) if raw else today()

    def date_error(self) -> str | None:
        if self.day() is None:
            return date_error(self.date.data, ", par exemple 07/02/2022.")
        return None

    def monday(self):
        """The Monday of the week shown (today's week when the date is malformed)."""
        return monday_of(self.day() or today())

    def query(self, **changes) -> dict:
        """The filters as URL arguments (for week navigation and links)."""
        values = {
            "inspecteur": (self.inspecteur.data or "").strip(),
            "categorie": self.category(),
            "date": self.monday().strftime("%d/%m/%Y"),
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


class ReservationForm(Form):
    """The panel: the ticked units and the chosen school."""

    school_id = StringField()

    def __init__(self, formdata):
        super().__init__(formdata)
        self._units = formdata.getlist("unit")

    def unit_ids(self) -> list:
        """Ints; a tampered value is kept as is so that the domain refuses it (404)."""
        return [parse_int(v) if parse_int(v) is not None else v for v in self._units]

    def school(self) -> int | str | None:
        """The chosen school's id; None when none was chosen; a tampered value as is, so that
        the domain refuses it as an unknown school (404)."""
        raw = (self.school_id.data or "").strip()
        return (parse_int(raw) or raw) if raw else None


class StatusForm(Form):
    """Statut de la place — Attribuer un statut."""

    status = StringField()
