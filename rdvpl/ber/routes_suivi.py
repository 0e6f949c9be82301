"""BER follow-up (SPEC Part 2 "Follow-up"): "Suivre l'activité" (BER 11) with its .xlsx
export, "Consulter les examens" (BER 12) and its "Feuille du jour", printed on A4."""

from __future__ import annotations

import io
import json

from flask import request, send_file
from flask_login import current_user
from sqlalchemy import select

from .. import activity as figures
from .. import dates, exam_list
from ..extensions import db
from ..models import Category
from ..web import parse_int, render
from . import bp
from .forms_suivi import ActivityFilters, ExamFilters, SheetForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _activity(args):
    codes = list(db.session.scalars(select(Category.code).where(Category.heavy.is_(True))
                                    .order_by(Category.position)))
    form = ActivityFilters(args).with_categories(codes)
    first, last, notice = form.period()
    return form, notice, figures.activity(current_user.department_id, first, last,
                                          form.category())


def _chart(rows, series: list[tuple[str, str]]) -> dict:
    """A <bar-chart>'s attributes: x the row labels, one y list per series (JSON)."""
    return {"x": json.dumps([[label for label, _ in rows]], ensure_ascii=False),
            "y": json.dumps([[getattr(f, key) for _, f in rows] for key, _ in series]),
            "name": json.dumps([name for _, name in series], ensure_ascii=False)}


UNIT_SERIES = [("reserved", "Réservées"), ("dispo", "Restées Dispo AE"),
               ("cancelled_ber", "Annulées par le BER"),
               ("cancelled_ae", "Annulées par une auto-école")]
SCHOOL_SERIES = [("demanded", "Demandées"), ("reserved", "Réservées"),
                 ("cancelled_ber", "Annulées par le BER"),
                 ("cancelled_ae", "Annulées par l'auto-école")]


@bp.route("/activite")
def activity():
    """Suivre l'activité: the figures per week, centre, inspector and school, each chart
    beside its data table."""
    form, notice, a = _activity(request.args)
    charts = {"weeks": _chart(a.weeks, UNIT_SERIES), "centres": _chart(a.centres, UNIT_SERIES),
              "inspectors": _chart(a.inspectors, UNIT_SERIES),
              "schools": _chart(a.schools, SCHOOL_SERIES)}
    return render("ber/activite.html", form=form, notice=notice, a=a, charts=charts,
                  columns=figures.COLUMNS, school_columns=figures.SCHOOL_COLUMNS,
                  values=figures.values, school_values=figures.school_values,
                  query={k: v for k, v in request.args.items() if v})


@bp.route("/activite/export")
def activity_export():
    """"Exporter": the four tables of the page as an .xlsx workbook."""
    _, _, a = _activity(request.args)
    code = current_user.department.code
    name = (f"activite-{code}-{a.category or 'toutes'}-{a.first:%Y-%m-%d}-au-"
            f"{a.last:%Y-%m-%d}.xlsx")
    return send_file(io.BytesIO(figures.activity_xlsx(a, code)), mimetype=XLSX,
                     as_attachment=True, download_name=name)


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
