"""Platform operator: departments (with their BER mailbox) and BER agents. Each
department's centres, inspectors and schools are managed on the shared pages of
rdvpl/gestion (the admin reaches every department there)."""

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from .. import referentiels as ref
from ..gestion.forms import AccountForm, ActiveForm, DepartmentForm, EmptyForm
from ..gestion.routes import activation_link
from ..web import render
from . import bp


def _list_page(*, status: int = 200, error: str | None = None, form=None):
    return render("admin/referentiels.html", status=status, error=error,
                  departments=ref.all_departments(current_user),
                  form=form or DepartmentForm(formdata=None))


@bp.route("/referentiels")
def referentiels():
    """Gérer les référentiels (admin): the departments, their BER mailbox and agents."""
    return _list_page()


@bp.route("/departements", methods=["POST"])
def department_create():
    """"Ajouter un département"."""
    form = DepartmentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        department = ref.create_department(current_user, form.code.data, form.name.data,
                                           form.ber_email.data)
    except ref.Refused as refused:
        return _list_page(status=422, error=refused.message, form=form)
    flash(f"Le département {department.code} — {department.name} est ajouté. Ajoutez-lui ses "
          "agents BER, ses centres, ses inspecteurs et ses auto-écoles.", "success")
    return redirect(url_for("admin.department", department_id=department.id))


def _department_page(department, *, status=200, error=None, form=None, agent_form=None):
    data = ref.department_data(current_user, department.id)
    return render("admin/department.html", status=status, error=error, department=department,
                  agents=data.agents, form=form or DepartmentForm(obj=department),
                  agent_form=agent_form or AccountForm(formdata=None),
                  active_form=ActiveForm(formdata=None), empty_form=EmptyForm(formdata=None))


@bp.route("/departements/<id:department_id>", methods=["GET", "POST"])
def department(department_id: int):
    """A department: its name and BER mailbox, its BER agents."""
    department = ref.department_for(current_user, department_id)
    form = DepartmentForm(obj=department)
    if form.validate_on_submit():
        try:
            ref.update_department(current_user, department.id, form.name.data,
                                  form.ber_email.data)
        except ref.Refused as refused:
            return _department_page(department, status=422, error=refused.message, form=form)
        flash("Le département est enregistré.", "success")
        return redirect(url_for("admin.department", department_id=department.id))
    return _department_page(department)


@bp.route("/departements/<id:department_id>/agents", methods=["POST"])
def agent_create(department_id: int):
    """"Ajouter un agent BER": created with an e-mail, activated by the person."""
    department = ref.department_for(current_user, department_id)
    form = AccountForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user = ref.create_ber_agent(current_user, department.id, form.email.data,
                                    form.first_name.data, form.last_name.data,
                                    link_for=activation_link)
    except ref.Refused as refused:
        return _department_page(department, status=422, error=refused.message,
                                agent_form=form)
    flash(f"Le compte {user.email} est créé : un e-mail « Activez votre compte RdvPermis » "
          "lui a été envoyé (lien valable 48 heures).", "success")
    return redirect(url_for("admin.department", department_id=department.id))
