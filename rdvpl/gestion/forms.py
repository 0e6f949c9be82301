"""Forms of "Gérer les référentiels". The rules (required fields, formats, uniqueness, the
department's reach) are the domain's (rdvpl/referentiels.py): the forms parse, carry the CSRF
token and give each field its label."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, StringField

from ..referentiels import as_id


def int_or_none(value):
    """A choice's id, or None for anything else (a tampered field is refused by the domain;
    a number beyond the database's INTEGER is no id either)."""
    try:
        return as_id(int(value))
    except (TypeError, ValueError):
        return None


class DepartmentForm(FlaskForm):
    code = StringField("Code du département", description="Par exemple 011 ou 2A.")
    name = StringField("Nom du département")
    ber_email = EmailField("Boîte électronique du BER",
                           description="Elle reçoit les annulations faites par les auto-écoles.")


class CentreForm(FlaskForm):
    name = StringField("Nom du centre d'examen")


class InspectorForm(FlaskForm):
    last_name = StringField("Nom")
    first_name = StringField("Prénom")
    matricule = StringField("Matricule", description="Unique dans le département.")
    # validate_choice=False: a value outside the list reaches the domain, which refuses it in
    # French (a centre of another department is "introuvable").
    home_centre = SelectField("Centre de rattachement", coerce=int_or_none,
                              validate_choice=False)


class SchoolForm(FlaskForm):
    raison_sociale = StringField("Raison sociale")
    aurige_id = StringField("ID Aurige", description="Unique dans le département.")
    email = EmailField("Adresse électronique de l'auto-école",
                       description="Elle reçoit les réservations et les annulations.")


class AccountForm(FlaskForm):
    # Own ids: the school's page also shows the school's form, whose e-mail field is "email".
    email = EmailField("Adresse électronique", id="account-email",
                       description="La personne reçoit un lien pour choisir son mot de passe.")
    first_name = StringField("Prénom", id="account-first-name")
    last_name = StringField("Nom", id="account-last-name")


class ActiveForm(FlaskForm):
    """Activer / désactiver: the wanted state, so that a double submit changes nothing."""

    actif = HiddenField()

    def wanted(self) -> bool | None:
        return {"1": True, "0": False}.get(self.actif.data)


class EmptyForm(FlaskForm):
    """A button that only needs the CSRF token."""
