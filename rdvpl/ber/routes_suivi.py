"""BER follow-up (SPEC Part 2 "Follow-up"): "Consulter les examens" (BER 12) and its
"Feuille du jour", printed on A4 by the exam centre."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from .. import dates, exam_list
from ..web import parse_int, render
from . import bp
from .forms_suivi import ExamFilters, SheetForm


@bp.route("/examens")
def exams():
    """Consulter les examens: the reserved units of a period, by day and inspector."""
    department = current_user.department_id
    form = ExamFilters(request.args).with_choices(exam_list.filter_choices(department))
    first, last, notice = form.period()
    filters = exam_list.Filters(first, last, form.centre.data, form.inspecteur.data,
                                form.auto_ecole.data, parse_int(request.args.get("page")) or 1)
    listing = exam_list.exams(department, filters)
    return render("ber/examens.html", "results", form=form, listing=listing, notice=notice,
                  query={k: v for k, v in request.args.items() if k != "page" and v})


@bp.route("/examens/feuille")
def day_sheet():
    """Feuille du jour: one inspector's day, for printing (A4). Without an inspector and a
    date, the form to choose them."""
    department = current_user.department_id
    form = SheetForm(request.args)
    form.inspecteur.choices = [
        (str(i), name) for i, name in exam_list.filter_choices(department)["inspectors"]]
    day = dates.parse_fr_date(form.date.data) if form.date.data else None
    sheet = None
    notice = None
    if form.inspecteur.data is not None and day is not None:
        sheet = exam_list.day_sheet(department, form.inspecteur.data, day)
    elif request.args:
        notice = "Choisissez un inspecteur et une date au format jj/mm/aaaa."
    return render("ber/feuille.html", form=form, sheet=sheet, notice=notice,
                  status=422 if notice else 200)
