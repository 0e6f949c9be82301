"""Driving-school screens: "Mes examens programmés" and the cancellation of a unit (AE 1-2).

Every query is scoped by ``current_user.auto_ecole_id``: another school's unit is a 404.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user
from jinja2_fragments.flask import render_block

from .. import booking, candidates, dates, grid_cache
from ..errors import DomainError, NotFound
from ..exams import (
    ExamsView,
    choose_category,
    row_containing,
    row_near,
    school_categories,
    school_exams,
)
from ..extensions import db
from ..web import Banner, committed, dialog, fragments, parse_int, render, wants_fragment
from . import bp
from .forms import PAST, ExamsFilterForm

PAGE = "ae/exams.html"


def _view(filters: ExamsFilterForm, page: int = 1, categories=None) -> ExamsView:
    """The school's exams for the filters of the request (one page of rows)."""
    return school_exams(current_user.auto_ecole_id, filters.category_code,
                        past=filters.past, today=dates.today(), page=page,
                        categories=categories)


def _row_context(unit_id: int, filters: ExamsFilterForm) -> dict:
    """The row holding ``unit_id`` (404 unless it is the school's); can it still be cancelled?"""
    row = row_containing(current_user.auto_ecole_id, unit_id)
    return {
        "row": row,
        "named": candidates.of_units([u.id for u in row.units]),
        "cancellable": booking.can_ae_cancel(row.day, dates.now()),
        "past_exam": row.day < dates.today(),
        "query": _filter_query(filters),
    }


def _filter_query(filters: ExamsFilterForm) -> dict[str, str]:
    """The filter arguments passed on from the table to the dialogs and the cancel form."""
    query = {"categorie": filters.category_code, "periode": PAST if filters.past else None}
    return {key: value for key, value in query.items() if value}


def _dialog(template: str, filters: ExamsFilterForm, **context):
    """The dialog alone for htmx; on a direct visit, the page with the dialog shown in it."""
    return dialog(template, lambda **extra: render(PAGE, view=_view(filters), **extra), **context)


@bp.route("/examens")
def exams():
    """Mes examens programmés (AE 1): one table per month, filtered by category and period."""
    filters = ExamsFilterForm(request.args)
    page = parse_int(request.args.get("page")) or 1

    def answer():
        view, rows_html = _cached_view(filters, page)
        if page > 1 and wants_fragment():  # the next rows, as the end of the page scrolls in
            return render(PAGE, "rows", view=view, rows_html=rows_html)
        return render(PAGE, "exams", view=view, rows_html=rows_html)

    # The page served from rdvpl/grid_cache.py while nothing it shows has changed (upcoming
    # or past exams: the day matters).
    return grid_cache.page(current_user.auto_ecole.department_id, "ae-exams-page",
                           [dates.today()], answer)


def _cached_view(filters: ExamsFilterForm, page: int):
    """The view's filters, and its rows rendered once per grid revision of the school's
    department (every reservation, cancellation and rename increases it) and per day
    (rdvpl/grid_cache.py)."""
    school = current_user.auto_ecole
    today = dates.today()
    categories = school_categories(school.id)
    category = choose_category(categories, filters.category_code)

    def build():
        view = _view(filters, page, categories)
        return render_block(PAGE, "rows", view=view), {}

    parts = [school.id, category.code if category else None, filters.past, page, today]
    html, _ = grid_cache.cached(school.department_id, "ae-exams", parts, build)
    return ExamsView(categories, category, filters.past, []), html


@bp.route("/examens/unites/<id:unit_id>")
def units_dialog(unit_id: int):
    """Dialog "Unité(s)": the units of the row holding ``unit_id``, each with "Annuler"."""
    filters = ExamsFilterForm(request.args)
    return _dialog("dialogs/_ae_units.html", filters, **_row_context(unit_id, filters))


@bp.route("/examens/unites/<id:unit_id>/annulation")
def cancel_dialog(unit_id: int):
    """Dialog "Unité programmée": the summary of one unit and the confirmation."""
    filters = ExamsFilterForm(request.args)
    context = _row_context(unit_id, filters)
    unit = next(u for u in context["row"].units if u.id == unit_id)
    return _dialog("dialogs/_ae_cancel.html", filters, unit=unit, **context)


@bp.route("/examens/unites/<id:unit_id>/annulation", methods=["POST"])
def cancel(unit_id: int):
    """Cancel one unit (AE 2); answer the re-grouped tables, the banner, an empty dialog."""
    filters = ExamsFilterForm(request.form)
    try:
        unit = booking.cancel_unit_by_ae(current_user._get_current_object(), unit_id)
    except NotFound:
        raise
    except DomainError as error:  # late, past, already cancelled: show it with the fresh tables
        db.session.rollback()
        return _after_cancel(filters, Banner("error", error.title, error.message),
                             error.status_code)
    done = Banner("success", "Annulation enregistrée !", "Votre place d'examen a bien été annulée.")
    return committed(lambda: _after_cancel(filters, done,
                                           near=(unit.session.date, unit.start_time)), done)


def _after_cancel(filters, banner: Banner, status: int = 200, near=None):
    """The page (direct POST) or the tables, the banner and an empty #dialog (htmx)."""
    view = _view(filters)
    if not wants_fragment():
        return render(PAGE, view=view, banner=banner, status=status)
    # Keyboard users keep their place: the row next to the cancelled unit takes the focus.
    focus_row = row_near(view, *near) if near else None
    return fragments(render_block(PAGE, "exams", view=view, focus_row=focus_row),
                     banner=banner, close_dialog=True, status=status)
