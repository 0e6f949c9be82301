"""Driving-school screen "Mes demandes de places" (AE 3): one form per month for a category.

Every read and write is scoped by ``current_user.auto_ecole_id``: another school's demand is a
404, and the save endpoint takes no id (it always writes the signed-in school's demand).
"""

from __future__ import annotations

from flask import request
from flask_login import current_user

from .. import dates, demand
from ..errors import DomainError
from ..extensions import db
from ..models import AutoEcole
from ..web import Banner, render
from . import bp
from .forms import DemandForm, ExamsFilterForm

PAGE = "ae/demands.html"


def _view(category_code: str | None):
    school = db.session.get(AutoEcole, current_user.auto_ecole_id)
    return demand.school_view(school, category_code, today=dates.today())


@bp.route("/demandes")
def demands():
    """Mes demandes de places (AE 3): the next two months for the chosen PL category."""
    filters = ExamsFilterForm(request.args)
    return render(PAGE, "demands", view=_view(filters.category_code))


@bp.route("/demandes/<id:demand_id>")
def demand_page(demand_id: int):
    """The page open on one of the school's demands (the link of the confirmation e-mail)."""
    found = demand.scoped_demand(current_user.auto_ecole_id, demand_id)
    return render(PAGE, "demands", view=_view(found.category.code))


@bp.route("/demandes", methods=["POST"])
def save_demand():
    """Enregistrer ma demande: the forms again with a banner (the refusal keeps what was typed)."""
    form = DemandForm(request.form)
    try:
        saved = demand.save_demand(
            current_user._get_current_object(), month=form.month,
            category_code=form.categorie.data, units=form.units, centre_ids=form.centre_ids,
            half_day=form.demi_journee.data, comment=form.commentaire.data)
    except DomainError as error:
        db.session.rollback()
        banner = Banner("error", error.title, error.message)
        return render(PAGE, "demands", view=_view(form.categorie.data), banner=banner,
                      typed={form.mois.data: form.values()}, status=error.status_code)
    banner = Banner("success", "Demande enregistrée !",
                    f"Votre demande de places d'examen pour {dates.mois(saved.month)} a bien "
                    "été enregistrée ; un e-mail de confirmation vous a été envoyé.")
    return render(PAGE, "demands", view=_view(saved.category.code), banner=banner)
