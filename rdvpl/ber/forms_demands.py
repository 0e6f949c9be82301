"""Forms of "Demandes des auto-écoles" (BER 10). Plain WTForms; the CSRF token travels in the
X-CSRFToken header (htmx) or the hidden field (direct POST)."""

from __future__ import annotations

from wtforms import Form, StringField

from ..ae.forms import parse_month
from ..dates import parse_fr_date
from ..demand import MAX_ID
from ..web import parse_int


def _id(text) -> int | None:
    """A database id from a form value; None for anything else (also out of range)."""
    value = parse_int(text)
    return value if value is not None and 0 < value <= MAX_ID else None


class MonthForm(Form):
    """Mois / Catégorie de permis, in the URL (GET) or hidden fields (POST)."""

    mois = StringField()
    categorie = StringField()

    @property
    def month(self):
        """The month asked for; None for a malformed value."""
        return parse_month(self.mois.data)


class ProposalForm(MonthForm):
    """The preview being edited: one ``ligne`` "school id:unit id,unit id..." per line kept,
    and ``retirer`` (the first unit id of the line to remove)."""

    retirer = StringField()
    date_cloture = StringField()

    def __init__(self, formdata):
        super().__init__(formdata)
        self._lines = formdata.getlist("ligne")

    def plan(self) -> dict:
        """{school id: [unit ids]}; a tampered value is kept as is so that the domain refuses
        it (404)."""
        plan: dict = {}
        for line in self._lines:
            school, _, ids = (line or "").partition(":")
            school_id = _id(school)
            unit_ids = [_id(v) if _id(v) is not None else v for v in ids.split(",") if v]
            plan.setdefault(school_id if school_id is not None else school, []).extend(unit_ids)
        return plan

    def kept(self) -> dict[int, set[int]]:
        """The lines kept after removing the one named by ``retirer``."""
        removed = parse_int(self.retirer.data)
        kept: dict[int, set[int]] = {}
        for school_id, ids in self.plan().items():
            ints = [i for i in ids if isinstance(i, int)]
            if isinstance(school_id, int):
                kept[school_id] = set(ints)
        for line in self._lines:
            school, _, ids = (line or "").partition(":")
            values = [_id(v) for v in ids.split(",") if v]
            if values and values[0] == removed and _id(school) in kept:
                kept[_id(school)] -= set(values)
        return kept

    @property
    def closes_on(self):
        return parse_fr_date(self.date_cloture.data)
