"""Parsing of the planning screen's query and form fields (filters, selected cells, export).

Plain parsing rather than WTForms: the filters are GET parameters that must always give a
usable page (a malformed date falls back to today with a message), and the selected cells are
a variable list of checkbox values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import abort
from werkzeug.datastructures import MultiDict

from .. import dates
from ..export import EXPORT_MAX_WEEKS
from ..models import Category, Centre, as_id
from ..sessions import CellRef

DEFAULT_CATEGORY = "CE"
DEFAULT_EXPORT_WEEKS = 6


@dataclass
class PlanningFilters:
    """What the page shows: every value is in the URL (GET, hx-push-url)."""

    search: str
    centre: Centre
    category: Category
    day: dt.date
    centres: list[Centre]
    categories: list[Category]
    date_error: str | None = None
    category_notice: str | None = None
    centre_given: bool = False
    weeks: int = DEFAULT_EXPORT_WEEKS
    selected: set[CellRef] = field(default_factory=set)

    @property
    def monday(self) -> dt.date:
        return dates.monday_of(self.day)

    def query(self, **changes) -> dict:
        """The URL parameters of this view, with ``changes`` (for links and hidden fields)."""
        values = {"nom": self.search or None, "centre": self.centre.id,
                  "categorie": self.category.code, "date": dates.ddmmyyyy(self.day)}
        values.update(changes)
        return {k: v for k, v in values.items() if v is not None}


def parse_filters(args: MultiDict, centres: list[Centre], categories: list[Category],
                  *, default_centre_id: int | None = None) -> PlanningFilters:
    """The filters from a query string or form. A centre id outside the agent's department is a
    404; a malformed date or a category that is not planned here falls back with a message."""
    search = " ".join((args.get("nom") or "").split())[:80]

    centre_text = (args.get("centre") or "").strip()
    by_id = {c.id: c for c in centres}
    if centre_text:
        if as_id(centre_text) not in by_id:
            abort(404)
        centre = by_id[as_id(centre_text)]
    else:
        centre = by_id.get(default_centre_id) or (centres[0] if centres else None)
    if centre is None:
        abort(404)

    by_code = {c.code: c for c in categories}
    code = (args.get("categorie") or DEFAULT_CATEGORY).strip()
    category_notice = None
    if code not in by_code:
        category_notice = (f"La catégorie « {code[:10]} » n'est pas planifiée dans le module "
                           f"poids lourds : la catégorie {DEFAULT_CATEGORY} est affichée.")
        code = DEFAULT_CATEGORY
    category = by_code.get(code) or categories[0]

    raw_date = (args.get("date") or "").strip()
    day = dates.parse_fr_date(raw_date)
    date_error = None
    if raw_date and day is None:
        date_error = dates.date_error(raw_date, ". Le planning affiché commence aujourd'hui.")
    filters = PlanningFilters(search=search, centre=centre, category=category,
                              day=day or dates.today(), centres=centres, categories=categories,
                              date_error=date_error, category_notice=category_notice,
                              centre_given=bool(centre_text))
    filters.selected = {ref for ref in map(CellRef.parse, args.getlist("cell")) if ref}
    return filters


def parse_export_weeks(args: MultiDict) -> int | None:
    """The number of weeks to export, or None when it is not a whole number in range."""
    weeks = as_id((args.get("semaines") or str(DEFAULT_EXPORT_WEEKS)).strip())
    return weeks if weeks is not None and weeks <= EXPORT_MAX_WEEKS else None


def parse_cells(values: list[str]) -> list[CellRef] | None:
    """The selected cells of the planning form, or None when one of them is malformed."""
    cells = [CellRef.parse(v) for v in values]
    return None if any(c is None for c in cells) else cells
