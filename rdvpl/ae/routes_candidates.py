"""Driving-school screen "Mes candidats" (AE 5): the school's reserved units with their
candidates; "Affecter un candidat" names, changes or removes the candidate of one unit.

Every read and write goes through ``current_user.auto_ecole_id`` (rdvpl/scopes.py): another
school's unit, a free or an unknown one is a 404.
"""

from __future__ import annotations

from flask import make_response, render_template, request
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from .. import candidates, dates, scopes
from ..errors import DomainError, NotFound
from ..extensions import db
from ..web import Banner, banner_html, committed, dialog, fragments, render, wants_fragment
from . import bp
from .forms import PAST, CandidateForm

PAGE = "ae/candidates.html"
DIALOG = "dialogs/_candidate.html"


def _view(past: bool):
    return candidates.school_candidates(current_user.auto_ecole_id, past=past)


def _page(past: bool, **context):
    return render(PAGE, view=_view(past), **context)


def _dialog_context(unit_id, form: CandidateForm | None = None, errors=None) -> dict:
    """The unit (404 unless it is the school's), its candidate and what the form shows."""
    unit = scopes.school_unit(current_user.auto_ecole_id, unit_id)
    found = candidates.current(unit.id, current_user.auto_ecole_id)
    if form is not None:
        values = form.values()
    elif found is not None:
        values = {"nom": found.last_name, "prenom": found.first_name, "neph": found.neph}
    else:
        values = {"nom": "", "prenom": "", "neph": ""}
    past = form.past if form is not None else request.args.get("periode") == PAST
    return {"unit": unit, "candidate": found, "values": values, "errors": errors or {},
            "editable": not dates.has_started(unit.session.date, unit.start_time),
            "periode": PAST if past else None}


@bp.route("/candidats")
def candidates_page():
    """Mes candidats (AE 5): the coming units (or, ``periode=passes``, the past ones) and
    their candidates."""
    return render(PAGE, "candidates", view=_view(request.args.get("periode") == PAST))


@bp.route("/candidats/<id:unit_id>")
def candidate_dialog(unit_id: int):
    """Dialog "Affecter un candidat" for one of the school's units."""
    context = _dialog_context(unit_id)
    past = context["periode"] == PAST
    return dialog(DIALOG, lambda **extra: _page(past, **extra), **context)


@bp.route("/candidats/<id:unit_id>", methods=["POST"])
def save_candidate(unit_id: int):
    """Enregistrer le candidat: name or change the candidate of the unit."""
    form = CandidateForm(request.form)
    try:
        found, what = candidates.name_candidate(
            current_user._get_current_object(), unit_id, last_name=form.nom.data,
            first_name=form.prenom.data, neph=form.neph.data)
    except candidates.InvalidCandidate as error:
        db.session.rollback()
        return _refused_form(unit_id, form, error)
    except NotFound:
        raise
    except DomainError as error:  # the exam has started meanwhile
        db.session.rollback()
        return _after(form.past, Banner("error", error.title, error.message),
                      error.status_code, focus=unit_id)
    unit = found.unit
    when = candidates.describe_unit_public(unit)
    message = {"named": f"{found.nom_prenom} est affecté(e) à l'unité {when}.",
               "changed": f"Le candidat de l'unité {when} est maintenant {found.nom_prenom}.",
               "unchanged": f"{found.nom_prenom} était déjà affecté(e) à l'unité {when} : "
                            "rien n'a changé."}[what]
    done = Banner("success", "Candidat enregistré !", message)
    return committed(lambda: _after(form.past, done, focus=unit_id), done)


@bp.route("/candidats/<id:unit_id>/retrait", methods=["POST"])
def remove_candidate(unit_id: int):
    """Retirer le candidat: the unit stays reserved, without a candidate."""
    form = CandidateForm(request.form)
    try:
        unit = candidates.remove_candidate(current_user._get_current_object(), unit_id)
    except NotFound:
        raise
    except DomainError as error:  # no candidate (double submit), exam started
        db.session.rollback()
        return _after(form.past, Banner("error", error.title, error.message),
                      error.status_code, focus=unit_id)
    done = Banner("success", "Candidat retiré",
                  f"L'unité {candidates.describe_unit_public(unit)} n'a plus de candidat ; "
                  "elle reste réservée pour votre auto-école.")
    return committed(lambda: _after(form.past, done, focus=unit_id), done)


def _refused_form(unit_id, form: CandidateForm, error: candidates.InvalidCandidate):
    """The dialog again with what was typed and each field's message (422): alone for htmx
    (retargeted: the form targets #banner, where a success is said), else the page with the
    dialog open."""
    context = _dialog_context(unit_id, form, error.errors)
    html = render_template(DIALOG, **context)
    if not wants_fragment():
        return _page(form.past, dialog_html=Markup(html), status=422)
    response = make_response(html, 422)
    response.headers["HX-Retarget"] = "#dialog"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def _after(past: bool, banner: Banner, status: int = 200, focus=None):
    """The page (direct POST), or for htmx the banner in #banner, the refreshed table and the
    emptied dialog out-of-band (the row's button takes the focus)."""
    if not wants_fragment():
        return _page(past, banner=banner, status=status)
    table = render_block(PAGE, "candidates", view=_view(past), oob=True, focus_unit=focus)
    return fragments(banner_html(banner, oob=False), table, close_dialog=True, status=status)
