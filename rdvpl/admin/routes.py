"""Platform operator: reference data of every department (read-only for now)."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import AutoEcole, Department, Inspector
from ..web import render
from . import bp


@bp.route("/referentiels")
def referentiels():
    """Gérer les référentiels: departments, centres, inspectors and schools."""
    departments = db.session.scalars(
        select(Department).options(selectinload(Department.centres)).order_by(Department.code)
    ).all()
    inspectors = db.session.scalars(
        select(Inspector).order_by(Inspector.department_id, Inspector.last_name)
    ).all()
    schools = db.session.scalars(
        select(AutoEcole).order_by(AutoEcole.department_id, AutoEcole.raison_sociale)
    ).all()
    return render("admin/referentiels.html", departments=departments, inspectors=inspectors,
                  schools=schools)
