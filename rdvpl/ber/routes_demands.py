"""BER "Demandes des auto-écoles" (BER 10): the month's demands, the proposal, its application.

One page, ``/ber/demandes``, whose blocks (templates/ber/demands.html) are swapped by htmx:
"results" on filter changes and after an action, "proposal" for the preview and its edits.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user

from .. import attribution, dates, demand
from ..errors import Conflict, DomainError
from ..extensions import db
from ..web import Banner, render
from . import bp
from .forms_demands import MonthForm, ProposalForm

PAGE = "ber/demands.html"


def _filters(form: MonthForm, *, strict: bool = False):
    """The month (one of the choices, else next month) and the PL category."""
    choices = attribution.month_choices(dates.today())
    month = form.month
    if month not in choices:
        if strict:
            raise DomainError("Mois inconnu : choisissez l'un des mois proposés.",
                              title="Mois inconnu")
        month = choices[1]
    return month, demand.choose_category(form.categorie.data), choices


def _context(form: MonthForm, *, strict: bool = False, proposal=None, **extra) -> dict:
    month, category, choices = _filters(form, strict=strict)
    if proposal is True:
        proposal = attribution.propose(current_user.department_id, month, category)
    view = proposal.view if proposal else attribution.month_view(
        current_user.department_id, month, category)
    query = {"mois": f"{month:%Y-%m}", "categorie": category.code if category else ""}
    return {"view": view, "proposal": proposal, "months": choices, "query": query,
            "categories": demand.heavy_categories(), **extra}


@bp.route("/demandes")
def demands():
    """Demandes des auto-écoles (BER 10): demanded / attributed / gap per school."""
    return render(PAGE, "results", **_context(MonthForm(request.args)))


@bp.route("/demandes/proposition")
def proposal():
    """"Proposer une répartition": the preview (only the preview for htmx)."""
    return render(PAGE, "proposal", **_context(MonthForm(request.args), proposal=True))


@bp.route("/demandes/proposition", methods=["POST"])
def proposal_edit():
    """"Retirer" a line of the preview: the preview again without it."""
    form = ProposalForm(request.form)
    month, category, _ = _filters(form, strict=True)
    found = attribution.propose(current_user.department_id, month, category, keep=form.kept())
    return render(PAGE, "proposal", **_context(form, strict=True, proposal=found))


@bp.route("/demandes/repartition", methods=["POST"])
def apply_proposal():
    """"Appliquer la répartition": all the lines kept, or none and a new proposal."""
    form = ProposalForm(request.form)
    _filters(form, strict=True)
    try:
        reserved = attribution.apply(current_user._get_current_object(), form.plan())
    except Conflict as error:  # a unit taken meanwhile: say which, and propose again
        db.session.rollback()
        banner = Banner("error", error.title,
                        f"{error.message} Une nouvelle répartition est proposée ci-dessous.")
        return render(PAGE, "results", status=409,
                      **_context(form, proposal=True, banner=banner))
    count = sum(len(v) for v in reserved.values())
    banner = Banner("success", "Répartition appliquée !",
                    f"{count} place{'s' if count > 1 else ''} d'examen réservée"
                    f"{'s' if count > 1 else ''} pour {len(reserved)} auto-école"
                    f"{'s' if len(reserved) > 1 else ''} ; chacune a été informée par "
                    "e-mail de ses réservations.")
    return render(PAGE, "results", **_context(form, banner=banner))


@bp.route("/demandes/cloture", methods=["POST"])
def closing():
    """Move the closing date of the month's demands."""
    form = ProposalForm(request.form)
    month, _, _ = _filters(form, strict=True)
    row = demand.set_closing_date(current_user._get_current_object(), month, form.closes_on)
    banner = Banner("success", "Date de clôture enregistrée",
                    f"Les demandes de {dates.mois(month)} sont modifiables par les "
                    f"auto-écoles jusqu'au {dates.jour_date(row.closes_on)} inclus.")
    return render(PAGE, "results", **_context(form, banner=banner))
