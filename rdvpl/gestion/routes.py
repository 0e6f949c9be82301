"""Gérer les référentiels: one department's centres, inspectors, schools and their AE accounts
(pages of templates/referentiels/). Each action posts a form, calls one function of
rdvpl/referentiels.py and redirects to the page with a banner (post/redirect/get); a refusal
shows the page again with the form as typed and the message (422), nothing changed."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from .. import referentiels as ref
from ..errors import DomainError
from ..models import AutoEcole, Centre, Inspector
from ..web import render
from . import bp
from .forms import AccountForm, ActiveForm, CentreForm, EmptyForm, InspectorForm, SchoolForm


def activation_link(token: str) -> str:
    return url_for("auth.activate", token=token, _external=True)


def _done(message: str, target: str):
    flash(message, "success")
    return redirect(target)


def _department_url(department_id: int) -> str:
    return url_for("referentiels.department", department_id=department_id)


def _centre_choices(form: InspectorForm, department_id: int, current=None) -> InspectorForm:
    centres = ref.active_centres(department_id)
    if current is not None and current not in centres:
        centres.append(current)  # an inactive home centre is shown as it is
    form.home_centre.choices = [(c.id, c.name) for c in centres]
    return form


def _department_page(department_id, *, status: int = 200, error: str | None = None, **forms):
    data = ref.department_data(current_user, department_id)
    forms.setdefault("centre_form", CentreForm(formdata=None))
    forms.setdefault("inspector_form", InspectorForm(formdata=None))
    forms.setdefault("school_form", SchoolForm(formdata=None))
    _centre_choices(forms["inspector_form"], data.department.id)
    return render("referentiels/department.html", status=status, data=data, error=error,
                  active_form=ActiveForm(formdata=None), **forms)


@bp.route("/departements/<id:department_id>")
def department(department_id: int):
    """Gérer les référentiels of one department (a BER agent: its own only)."""
    return _department_page(department_id)


@bp.route("/departements/<id:department_id>/centres", methods=["POST"])
def centre_create(department_id: int):
    """"Ajouter un centre"."""
    ref.department_for(current_user, department_id)
    form = CentreForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        centre = ref.create_centre(current_user, department_id, form.name.data)
    except ref.Refused as refused:
        return _department_page(department_id, status=422, error=refused.message,
                                centre_form=form)
    return _done(f"Le centre {centre.name} est ajouté.", _department_url(department_id))


@bp.route("/departements/<id:department_id>/inspecteurs", methods=["POST"])
def inspector_create(department_id: int):
    """"Ajouter un inspecteur"."""
    ref.department_for(current_user, department_id)
    form = InspectorForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        inspector = ref.create_inspector(current_user, department_id, form.last_name.data,
                                         form.first_name.data, form.matricule.data,
                                         form.home_centre.data)
    except ref.Refused as refused:
        return _department_page(department_id, status=422, error=refused.message,
                                inspector_form=form)
    return _done(f"L'inspecteur {inspector.nom_prenom} (matricule {inspector.matricule}) est "
                 "ajouté.", _department_url(department_id))


@bp.route("/departements/<id:department_id>/auto-ecoles", methods=["POST"])
def school_create(department_id: int):
    """"Ajouter une auto-école"."""
    ref.department_for(current_user, department_id)
    form = SchoolForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        school = ref.create_school(current_user, department_id, form.raison_sociale.data,
                                   form.aurige_id.data, form.email.data)
    except ref.Refused as refused:
        return _department_page(department_id, status=422, error=refused.message,
                                school_form=form)
    return _done(f"L'auto-école {school.raison_sociale} est ajoutée. Créez-lui un compte pour "
                 "qu'elle voie ses examens.",
                 url_for("referentiels.school", school_id=school.id))


def _edit(template: str, obj, form, update, message: str, **context):
    """A record's page: GET shows the form, POST saves it through ``update``."""
    if form.validate_on_submit():
        try:
            update(form)
        except ref.Refused as refused:
            return render(template, status=422, obj=obj, form=form, error=refused.message,
                          active_form=ActiveForm(formdata=None), **context)
        return _done(message, _department_url(obj.department_id))
    status = 400 if form.is_submitted() else 200
    return render(template, status=status, obj=obj, form=form, error=None,
                  active_form=ActiveForm(formdata=None), **context)


@bp.route("/centres/<id:centre_id>", methods=["GET", "POST"])
def centre(centre_id: int):
    """Rename a centre."""
    centre = ref.scoped(current_user, Centre, centre_id, "Centre introuvable.")
    form = CentreForm(obj=centre)
    return _edit("referentiels/centre.html", centre, form,
                 lambda f: ref.update_centre(current_user, centre.id, f.name.data),
                 "Le centre est enregistré.")


@bp.route("/inspecteurs/<id:inspector_id>", methods=["GET", "POST"])
def inspector(inspector_id: int):
    """Change an inspector's name, matricule or home centre."""
    inspector = ref.scoped(current_user, Inspector, inspector_id, "Inspecteur introuvable.")
    form = _centre_choices(InspectorForm(obj=inspector, home_centre=inspector.home_centre_id),
                           inspector.department_id, inspector.home_centre)
    return _edit("referentiels/inspector.html", inspector, form,
                 lambda f: ref.update_inspector(current_user, inspector.id, f.last_name.data,
                                                f.first_name.data, f.matricule.data,
                                                f.home_centre.data),
                 "L'inspecteur est enregistré.")


@bp.route("/auto-ecoles/<id:school_id>", methods=["GET", "POST"])
def school(school_id: int):
    """A school: its details and its AE accounts."""
    school = ref.scoped(current_user, AutoEcole, school_id, "Auto-école introuvable.")
    form = SchoolForm(obj=school)
    data = ref.department_data(current_user, school.department_id)
    return _edit("referentiels/school.html", school, form,
                 lambda f: ref.update_school(current_user, school.id, f.raison_sociale.data,
                                             f.aurige_id.data, f.email.data),
                 "L'auto-école est enregistrée.",
                 school_accounts=data.accounts_by_school.get(school.id, []),
                 account_form=AccountForm(formdata=None), empty_form=EmptyForm(formdata=None))


@bp.route("/auto-ecoles/<id:school_id>/comptes", methods=["POST"])
def account_create(school_id: int):
    """"Créer le compte": an AE account with an e-mail only; the activation e-mail leaves."""
    school = ref.scoped(current_user, AutoEcole, school_id, "Auto-école introuvable.")
    form = AccountForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user = ref.create_school_account(current_user, school.id, form.email.data,
                                         form.first_name.data, form.last_name.data,
                                         link_for=activation_link)
    except ref.Refused as refused:
        data = ref.department_data(current_user, school.department_id)
        return render("referentiels/school.html", status=422, obj=school,
                      form=SchoolForm(obj=school, formdata=None), error=refused.message,
                      school_accounts=data.accounts_by_school.get(school.id, []),
                      account_form=form, empty_form=EmptyForm(formdata=None),
                      active_form=ActiveForm(formdata=None))
    return _done(f"Le compte {user.email} est créé : un e-mail « Activez votre compte "
                 "RdvPermis » lui a été envoyé (lien valable 48 heures).",
                 url_for("referentiels.school", school_id=school.id))


def _toggle(scope, setter, object_id, back, label):
    """Activer / désactiver a record (the wanted state is in the form); another
    department's record is a 404 before anything else."""
    scope()
    form = ActiveForm()
    wanted = form.wanted() if form.validate_on_submit() else None
    if wanted is None:
        raise DomainError("La demande est incomplète : rechargez la page puis recommencez.")
    obj = setter(current_user, object_id, wanted)
    state = "réactivé(e)" if wanted else "désactivé(e)"
    return _done(f"{label(obj)} : {state}.", back(obj))


@bp.route("/centres/<id:centre_id>/activation", methods=["POST"])
def centre_active(centre_id: int):
    """Désactiver / réactiver a centre."""
    return _toggle(lambda: ref.scoped(current_user, Centre, centre_id), ref.set_centre_active,
                   centre_id,
                   lambda c: _department_url(c.department_id), lambda c: f"Centre {c.name}")


@bp.route("/inspecteurs/<id:inspector_id>/activation", methods=["POST"])
def inspector_active(inspector_id: int):
    """Désactiver / réactiver an inspector."""
    return _toggle(lambda: ref.scoped(current_user, Inspector, inspector_id),
                   ref.set_inspector_active, inspector_id,
                   lambda i: _department_url(i.department_id),
                   lambda i: f"Inspecteur {i.nom_prenom}")


@bp.route("/auto-ecoles/<id:school_id>/activation", methods=["POST"])
def school_active(school_id: int):
    """Désactiver / réactiver a school (and, when deactivated, its accounts)."""
    return _toggle(lambda: ref.scoped(current_user, AutoEcole, school_id),
                   ref.set_school_active, school_id,
                   lambda s: url_for("referentiels.school", school_id=s.id),
                   lambda s: f"Auto-école {s.raison_sociale}")


def _account_back(user) -> str:
    if user.auto_ecole_id is not None:
        return url_for("referentiels.school", school_id=user.auto_ecole_id)
    return url_for("admin.department", department_id=user.department_id)  # a BER agent


@bp.route("/comptes/<id:user_id>/activation", methods=["POST"])
def account_active(user_id: int):
    """Désactiver (its sessions end at once) / réactiver an account."""
    return _toggle(lambda: ref.scoped_account(current_user, user_id), ref.set_account_active,
                   user_id, _account_back,
                   lambda u: f"Compte {u.email}")


@bp.route("/comptes/<id:user_id>/lien", methods=["POST"])
def account_resend(user_id: int):
    """"Renvoyer le lien d'activation"."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    user = ref.resend_activation(current_user, user_id, link_for=activation_link)
    return _done(f"Un nouveau lien d'activation a été envoyé à {user.email} (valable "
                 "48 heures).", _account_back(user))
